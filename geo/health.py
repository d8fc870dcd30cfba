"""The service's health in words: database, road graph, analysis workers, what is missing."""

from __future__ import annotations

import logging
from typing import Any

from geo.db.health import database_health
from geo.db.observed import job_counts, outbox_counts
from geo.platform import Platform

logger = logging.getLogger("yizhan")


def service_health(platform: Platform, workers: int) -> tuple[bool, dict[str, Any]]:
    """Whether the service is ready (database answers, graph loaded) and the whole account.

    Parameters
    ----------
    platform
        The platform serving.
    workers
        How many analysis workers are running.
    """
    db = database_health(platform.db)
    holder = platform.roads
    graph: dict[str, Any] = {"status": holder.status, "file": str(holder.path.name)}
    if holder.summary is not None:
        graph |= holder.summary
    if holder.error:
        graph["message"] = holder.error
    ok = db["status"] == "ok" and holder.status == "ok"
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", "database": db, "graph": graph}
    body["missing"] = missing(db, holder.status)
    body["analysis"] = {"workers": workers}
    body["basemap"] = {"status": platform.basemap_status}
    return ok, body


def is_ready(platform: Platform) -> bool:
    """The database answers and the road graph is loaded."""
    return platform.roads.status == "ok" and database_health(platform.db)["status"] == "ok"


def missing(db: dict[str, Any], graph_status: str) -> list[str]:
    """What a service (a new production one above all) still lacks, in words."""
    lacks = []
    if db["status"] != "ok":
        lacks.append("the database does not answer")
    elif not db["counts"].get("stations"):
        lacks.append("no stations yet")
    if graph_status == "absent":
        lacks.append("no road network yet")
    return lacks


def queue_counts(platform: Platform) -> tuple[dict[str, int], dict[str, int]]:
    """Jobs by status and webhook deliveries by state (empty when the database is down)."""
    try:
        with platform.db.connect() as conn:
            return job_counts(conn), outbox_counts(conn)
    except Exception:  # the database may be down: the other metrics still answer
        logger.warning("metrics: the database did not answer", exc_info=True)
        return {}, {}
