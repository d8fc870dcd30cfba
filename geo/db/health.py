"""Database health: is it reachable, which PostGIS, what is loaded."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from geo.db.load import table_counts

logger = logging.getLogger("yizhan.db")


def database_health(engine: Engine) -> dict[str, Any]:
    """Reachability, PostGIS version, row counts and the synthetic layers, never raising."""
    try:
        with engine.connect() as conn:
            postgis = conn.scalar(text("SELECT postgis_lib_version()"))
            revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
            synthetic = sorted(
                conn.scalars(text("SELECT name FROM datasets WHERE synthetic AND name <> 'sample'"))
            )
        counts = table_counts(engine)
    except SQLAlchemyError as exc:  # the details (a socket path, a host) go to the log only
        logger.warning("database health: %s", str(exc.__cause__ or exc).splitlines()[0])
        return {"status": "unavailable", "message": "the database does not answer"}
    return {
        "status": "ok",
        "postgis": postgis,
        "schema_revision": revision,
        "counts": counts,
        "sample_loaded": counts["towns"] > 0,
        "synthetic_layers": synthetic,
    }
