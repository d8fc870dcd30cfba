"""``/health``: database, road graph and analysis workers."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.deps import AnalysesDep, AppSettings, PlatformDep
from api.observe import exposition
from api.schemas.common import errors
from api.schemas.health import Health
from geo.errors import PermissionDeniedError
from geo.health import is_ready, service_health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Database and road-graph state",
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready: the database or graph is down"}},
)
def health(platform: PlatformDep, analyses: AnalysesDep) -> JSONResponse:
    """200 when the database answers and the road graph is loaded, else 503 with details."""
    ok, body = service_health(platform, analyses.jobs.running_workers())
    headers = None if ok else {"Retry-After": "5"}
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)


@router.get("/health/live", summary="Liveness: the process answers", responses={200: {}})
def live() -> dict[str, str]:
    """Always 200 while the process serves (for a supervisor: restart when it stops)."""
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="Readiness: database and road graph ready",
    responses={503: {"description": "Not ready (see /health for why)"}},
)
def ready(platform: PlatformDep) -> JSONResponse:
    """200 once the database answers and the graph is loaded, else 503 (for a load balancer)."""
    ok = is_ready(platform)
    body = {"status": "ok" if ok else "not ready"}
    return JSONResponse(
        body, status_code=200 if ok else 503, headers=None if ok else {"Retry-After": "5"}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (loopback and YIZHAN_METRICS_FROM, or public if configured)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **errors(403)},
)
def metrics(
    request: Request, platform: PlatformDep, analyses: AnalysesDep, settings: AppSettings
) -> Response:
    """Requests and latency per route, riders' answers, pool, jobs, workers, outbox, feed."""
    client = request.client.host if request.client else ""
    if not (settings.metrics_public or _trusted(client, settings.metrics_from)):
        msg = "metrics are for the operator: from this machine or YIZHAN_METRICS_FROM"
        raise PermissionDeniedError(msg)
    body, content_type = exposition(platform, analyses)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


def _trusted(client: str, allowed: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    if address.is_loopback:
        return True
    return any(address in ipaddress.ip_network(net, strict=False) for net in allowed)
