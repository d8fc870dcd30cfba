"""``yizhan db check``: what a database lacks before yizhan can use it, and the SQL to fix it.

Union IT departments often provide a PostgreSQL whose owner is not a superuser. yizhan then
needs a DBA once, for ``CREATE EXTENSION postgis;``; after that the owner runs every migration.
pgRouting is optional: only a benchmark (a baseline) uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from geo.db.connection import extensions_of, head_revision, schema_revision


@dataclass(frozen=True)
class Finding:
    """One thing found: whether it blocks yizhan, and the sentence (with the SQL) for it."""

    blocking: bool
    text: str


def check_database(url: str) -> list[Finding]:
    """Every problem of the database at ``url`` (an empty list: ready to migrate and serve)."""
    target = make_url(url)
    name = str(target.database)
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    found: list[Finding] = []
    try:
        with engine.connect() as conn:
            installed, available = extensions_of(conn)
            superuser = bool(
                conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
            )
            can_create = bool(
                conn.scalar(text("SELECT has_schema_privilege(current_user, 'public', 'CREATE')"))
            )
            user = str(conn.scalar(text("SELECT current_user")))
            revision = schema_revision(conn)
    except OperationalError:
        return [
            Finding(
                True,
                f"cannot connect to database {name!r}: check YIZHAN_DATABASE_URL, "
                "that the server runs and that it accepts this user",
            )
        ]
    finally:
        engine.dispose()
    if "postgis" not in installed:
        if "postgis" not in available:
            found.append(
                Finding(
                    True,
                    "PostGIS is not installed on the database server: install "
                    "its package (Debian: postgresql-15-postgis-3)",
                )
            )
        elif not superuser:
            found.append(
                Finding(
                    True,
                    f"PostGIS is not enabled in {name!r}: a DBA must run, "
                    f"connected to {name!r}:  CREATE EXTENSION postgis;",
                )
            )
    if "pgrouting" not in installed:
        found.append(
            Finding(
                False,
                "pgRouting is not enabled (optional: only the pgRouting "
                "benchmark uses it; CREATE EXTENSION pgrouting; adds it)",
            )
        )
    if not can_create:
        found.append(
            Finding(
                True,
                f"{user!r} may not create tables in schema public: a DBA must "
                f"run:  GRANT CREATE ON SCHEMA public TO {user};  (or make "
                f"{user} the database's owner)",
            )
        )
    head = head_revision(url)
    if revision != head:
        found.append(
            Finding(
                False,
                f"the schema is at {revision or 'nothing yet'}, the code at "
                f"{head}: run  yizhan db migrate",
            )
        )
    return found


def pending_upgrade(url: str) -> tuple[str | None, str] | None:
    """``(current, head)`` when the database's schema is behind the code's, else None."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = schema_revision(conn)
    finally:
        engine.dispose()
    head = head_revision(url)
    return None if current == head else (current, head)
