"""The FastAPI app factory: ``create_app(settings)`` opens the engine and loads the graph."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api import auth
from api.deps import reject_unknown_query
from api.errors import add_exception_handlers
from api.lane import AnalysisLane
from api.middleware import (
    AccessLog,
    BodyLimit,
    HostCheck,
    JsonDepthLimit,
    RateLimit,
    SecurityHeaders,
    Timeout,
)
from api.page_cache import PageCache
from api.rider_fast_path import GZIP_LEVEL, GZIP_MIN_BYTES, NearestFastPath
from api.route_tables import build_route_tables
from api.routers import (
    cases,
    casework,
    coverage,
    health,
    live,
    maps,
    ogc,
    open311,
    processes,
    rider,
    routing,
    station_feedback,
    stations,
    tiles,
    users,
    workbench,
)
from api.routers.routing import isochrones_answer
from api.routers.station_feedback import FEEDBACK_PATHS
from api.state import WebState
from api.throttle import AccountQuota, LoginThrottle
from api.tile_fast_path import KeptTileFastPath
from geo.analyses.service import Analyses
from geo.cases.delivery import deliver_due
from geo.cases.followup import ATTACHMENT_MAX_BYTES
from geo.cases.notify import notify_due_soon
from geo.cases.transitions import escalate_overdue
from geo.errors import NotReadyError, SetupError
from geo.platform import Platform, start_platform
from geo.settings import Settings, get_settings
from geo.users import development_password_accounts, ensure_admin
from geo.vocabulary import CoordSystem
from pages.assets import page_assets

logger = logging.getLogger("yizhan")


def _seed_admin(engine: Engine, settings: Settings) -> bool:
    """Create the initial admin account if it is missing; False while the database is down.

    In production, refuse to start while an active account keeps a development default
    password (a development database reused as is).
    """
    user, password = settings.admin_credentials()
    try:
        with engine.begin() as conn:
            ensure_admin(conn, user, password)
            weak = development_password_accounts(conn) if settings.production else []
    except SQLAlchemyError:
        return False
    if weak:
        names = ", ".join(weak)
        msg = (
            f"production refuses to start: account(s) {names} still use a development default "
            "password; run 'yizhan users reset-password NAME' (or deactivate them) first"
        )
        raise SetupError(msg)
    return True


async def _seed_when_up(engine: Engine, settings: Settings) -> None:
    """Seed the admin once the database answers (the API started while it was down)."""
    while True:
        await asyncio.sleep(2.0)
        try:
            if await run_in_threadpool(_seed_admin, engine, settings):
                logger.info("the database answers again: the initial admin is in place")
                return
        except SetupError:
            logger.critical("development default passwords in production", exc_info=True)
            return


#: where a case's photos and documents are posted (bodies up to ATTACHMENT_MAX_BYTES)
ATTACHMENT_PATH = re.compile(r"/v1/cases/\d+/attachments")


async def _escalation_loop(engine: Engine, every_s: float) -> None:
    """Escalate overdue cases every ``every_s`` seconds (errors are logged, never fatal)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(_escalate_once, engine)
        except Exception:  # a database outage must not end the loop
            logger.exception("automatic escalation failed; will retry")


def _escalate_once(engine: Engine) -> None:
    with engine.begin() as conn:
        done = escalate_overdue(conn)
        told = notify_due_soon(conn, datetime.now(UTC))
    if done or told:
        logger.info("escalated overdue cases %s; %d cases fall due soon", done, told)


async def _delivery_loop(engine: Engine, settings: Settings) -> None:
    """Deliver the notifications outbox to the webhooks every few seconds (never fatal)."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    while True:
        await asyncio.sleep(settings.webhook_interval_s)
        try:
            await run_in_threadpool(deliver_due, engine, settings.webhook_urls, secret)
        except Exception:  # a database outage must not end the loop
            logger.exception("notification delivery failed; will retry")


class CachedStaticFiles(StaticFiles):
    """The maps' pinned Leaflet files, which browsers may keep for a day (gzip on the way out)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:  # noqa: D102
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """Host names the app answers to: the allow-list and the public URL's host."""
    extra = (urlsplit(settings.public_url).hostname or "",) if settings.public_url else ()
    return tuple(h for h in (*settings.allowed_hosts, *extra) if h)


def _start_after_graph(platform: Platform, analyses: Analyses) -> None:
    """Start the analysis workers once the road graph has loaded (a job may start them sooner).

    Then one isochrone per profile goes the way a person's does (the quick worker loads what
    it draws with), so that the first person's isochrone is as quick as the next.
    """
    platform.roads.wait()
    try:
        analyses.start()
    except NotReadyError:  # the app stopped while its graph loaded: nothing to start
        return
    routing = platform.routing
    if routing is None:
        return
    for profile in routing.everyday_profiles:
        place = routing.station_place(profile)
        if place is None:
            continue
        try:
            analyses.run(isochrones_answer, *place, [5.0], profile, CoordSystem.WGS84, True, "")
        except Exception as exc:  # e.g. the workers did not start: /health says so
            if analyses.closed:  # stopped while warming: the cut is expected, no failure
                logger.info("the service stopped while warming the %s isochrones", profile)
            else:
                logger.warning("warming the %s isochrones failed: %s", profile, exc)
            return


def serving_app(settings: Settings, platform: Platform | None = None) -> FastAPI:
    """The app ``yizhan serve`` runs: :func:`create_app` with FastAPI's route tables built.

    They are built on the event loop once the graph has loaded (the server is ready by then),
    not by the first person to reach each router (:mod:`api.route_tables`). Not on a thread of
    their own: FastAPI builds them inside ``warnings.catch_warnings``, which is not safe
    beside other threads.
    """
    app = create_app(settings, platform=platform)
    app.state.route_tables_at_start = True
    return app


async def _route_tables_when_ready(app: FastAPI, platform: Platform) -> None:
    """Once the graph has loaded, build FastAPI's route tables on the event loop's thread.

    That is the thread a first request would build them on, so nothing runs beside FastAPI's
    ``warnings.catch_warnings`` that a request would not; the server has said it is ready.
    """
    await asyncio.to_thread(platform.roads.wait)
    build_route_tables(app)


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the API for ``settings`` (default: from the environment).

    The database must already exist and be migrated (``yizhan serve`` sees to it); the road
    graph loads in the background and ``/health`` says when it is ready. ``platform``: one
    already started on the same settings (``yizhan serve`` starts it before importing the
    API, so the graph loads while the rest of the service is imported); the app owns it from
    then on and closes it when it stops.
    """
    settings = settings or get_settings()
    started = platform

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = started or start_platform(settings)
        try:
            seeded = _seed_admin(platform.db, settings)
        except BaseException:
            platform.close()
            raise
        # started with the database down: everything waits for it (the graph, the admin)
        seeding = None if seeded else asyncio.create_task(_seed_when_up(platform.db, settings))
        tables = (
            asyncio.create_task(_route_tables_when_ready(app, platform))
            if getattr(app.state, "route_tables_at_start", False)
            else None
        )
        app.state.platform = platform
        app.state.analyses = analyses = Analyses(platform)
        platform.follow_stations()  # changes made by any other process reach this engine
        threading.Thread(target=platform.draw_basemap, name="basemap", daemon=True).start()
        if settings.jobs_at_start:  # once the graph is in: they would slow its load down
            threading.Thread(
                target=_start_after_graph, args=(platform, analyses), name="analyses", daemon=True
            ).start()
        escalation = (
            asyncio.create_task(_escalation_loop(platform.db, settings.escalation_interval_s))
            if settings.escalation_interval_s > 0
            else None
        )
        delivery = (
            asyncio.create_task(_delivery_loop(platform.db, settings))
            if settings.webhook_urls
            else None
        )
        try:
            yield
        finally:
            for task in (escalation, delivery, seeding, tables):
                if task is not None:
                    task.cancel()
            app.state.web.lane.close()
            analyses.close()
            platform.close()

    app = FastAPI(
        title="yizhan 驿站",
        version="0.1.0",
        summary="Rest stations, service centres, grid team and cases of a city trade union",
        description=(
            "Sample data: real district boundaries, town list and Heshan census; roads, "
            "stations, grid team, workplaces and cases are **synthetic** (generated)."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        )
    add_exception_handlers(app)
    strict = [Depends(reject_unknown_query)]
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(routing.router, dependencies=strict)
    app.include_router(station_feedback.router, dependencies=strict)  # before {station_id}
    app.include_router(stations.router, dependencies=strict)
    app.include_router(coverage.router, dependencies=strict)
    app.include_router(cases.router, dependencies=strict)
    app.include_router(live.router, dependencies=strict)
    app.include_router(casework.router, dependencies=strict)
    app.include_router(users.router, dependencies=strict)
    app.include_router(open311.router)
    app.include_router(ogc.router, dependencies=strict)
    app.include_router(tiles.router, dependencies=strict)
    app.include_router(processes.router, dependencies=strict)
    app.include_router(maps.router)
    app.include_router(rider.router)
    app.include_router(workbench.router)
    app.state.web = WebState(
        page_assets=page_assets(settings.state_dir / "assets" / "leaflet"),
        page_cache=PageCache(),
        lane=AnalysisLane(settings.analysis_threads, settings.analysis_waiting),
        login_throttle=LoginThrottle(
            attempts=settings.login_attempts, client_attempts=settings.login_client_attempts
        ),
        staff_intake=AccountQuota(settings.staff_intake_per_hour),
    )
    app.mount(
        "/maps/assets",
        CachedStaticFiles(directory=settings.state_dir / "assets", check_dir=False),
        name="map-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="yizhan 驿站 — API",
            swagger_js_url="/maps/assets/swagger/swagger-ui-bundle.js",
            swagger_css_url="/maps/assets/swagger/swagger-ui.css",
            swagger_favicon_url="",
        )

    heavy = (
        "/v1/coverage/sites",
        "/v1/coverage/scenarios",
        "/maps/sites",
        "/v1/cases/assign-batch",
    )
    public = (
        "/v1/stations/nearest",
        "/v1/routes",
        "/v1/isochrones",
        "/v1/coverage",
        "/maps/",
        "/rider/stations",
        "/v1/cases",
        "/open311/v2/requests",
    )
    # JSON answers over 1 KB go out compressed (pages and assets are compressed once, ahead)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    # riders' plainly valid nearest-station requests, answered without FastAPI's per-request
    # machinery (inside every protection below; it compresses its own answers)
    app.add_middleware(NearestFastPath)
    app.add_middleware(KeptTileFastPath)  # kept basemap tiles, likewise
    app.add_middleware(Timeout, seconds=settings.analysis_timeout_s, prefixes=heavy)
    app.add_middleware(
        RateLimit,
        per_minute=settings.rate_limit_per_minute,
        burst=settings.rate_limit_burst,
        prefixes=public,
    )
    app.add_middleware(
        RateLimit,
        per_minute=settings.intake_per_hour / 60,
        burst=min(5, settings.intake_per_hour),
        paths=("/v1/cases", "/open311/v2/requests.json"),
        methods=("POST",),
    )
    app.add_middleware(
        RateLimit,
        per_minute=settings.feedback_per_hour / 60,
        burst=min(5, settings.feedback_per_hour),
        pattern=FEEDBACK_PATHS,
        methods=("POST",),
    )
    app.add_middleware(JsonDepthLimit, max_depth=settings.max_json_depth)  # inside BodyLimit
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        larger=[(ATTACHMENT_PATH, max(settings.max_body_bytes, ATTACHMENT_MAX_BYTES))],
    )
    app.add_middleware(HostCheck, allowed=allowed_hosts(settings))
    app.add_middleware(SecurityHeaders, production=settings.production)
    app.add_middleware(AccessLog, decimals=settings.log_coordinate_decimals)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/", include_in_schema=False)
    def index() -> dict[str, str]:
        return {"name": "yizhan", "docs": "/docs", "health": "/health", "openapi": "/openapi.json"}

    return app
