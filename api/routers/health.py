"""``/health``: database, road graph and analysis workers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import PlatformDep
from api.schemas.health import Health
from geo.db.health import database_health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Database and road-graph state",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready: the database or graph is down"}},
)
def health(platform: PlatformDep) -> JSONResponse:
    """200 when the database answers and the road graph is loaded, else 503 with details."""
    db = database_health(platform.db)
    holder = platform.roads
    graph: dict[str, Any] = {"status": holder.status, "file": str(holder.path.name)}
    if holder.summary is not None:
        graph |= holder.summary
    if holder.error:
        graph["message"] = holder.error
    ok = db["status"] == "ok" and holder.status == "ok"
    analysis = {"workers": platform.jobs.running_workers()}
    body: dict[str, Any] = {"status": "ok" if ok else "degraded", "database": db, "graph": graph}
    body["missing"] = missing(db, holder.status)
    body["analysis"] = analysis
    headers = None if ok else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)


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
