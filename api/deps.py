"""Dependencies shared by routers: the platform, connections, the routing engine, web state.

Routers take what they need from here; nothing else reads ``request.app.state``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection

from api.lane import AnalysisLane
from api.state import WebState
from geo.analyses.service import Analyses
from geo.errors import ValidationError
from geo.platform import Platform
from geo.routing.engine import RoutingEngine
from geo.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def public_base(request: Request) -> str:
    """The base URL for links in answers: ``YIZHAN_PUBLIC_URL``, else this request's own.

    Without a public URL the request's host is used; :class:`api.middleware.HostCheck` has
    already refused any host not on the allow-list.
    """
    settings: Settings = request.app.state.settings
    return (settings.public_url or str(request.base_url)).rstrip("/")


def get_platform(request: Request) -> Platform:
    """The platform the app's lifespan started."""
    platform: Platform = request.app.state.platform
    return platform


def get_analyses(request: Request) -> Analyses:
    """The analyses beside the platform (both Dask clusters and the rule between them)."""
    analyses: Analyses = request.app.state.analyses
    return analyses


def get_web(request: Request) -> WebState:
    """The web layer's state (page assets and cache, login throttle)."""
    web: WebState = request.app.state.web
    return web


def db_connection(request: Request) -> Iterator[Connection]:
    """The request's one connection: its caller is resolved on it and its handler uses it.

    One connection per request (never a second while holding the first), so requests can
    never wait on each other for the pool; a pool with none free answers 503 with
    ``Retry-After`` after the pool's short checkout timeout (:func:`geo.db.connection.make_engine`).
    """
    with get_platform(request).db.connect() as conn:
        yield conn


# scope="function": released (and a write committed or rolled back) when the handler returns,
# *before* the response is sent, so a 201 is only ever sent for a change that is stored.
RequestConn = Annotated[Connection, Depends(db_connection, scope="function")]


def db_read(conn: RequestConn) -> Connection:
    """The request's connection, for reading."""
    return conn


def db_write(conn: RequestConn) -> Iterator[Connection]:
    """The request's connection in a transaction, committed when the handler returns cleanly."""
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


async def routing(request: Request) -> RoutingEngine:
    """The routing engine, or 503 while the road graph is still loading."""
    return get_platform(request).require_routing()


ReadConn = Annotated[Connection, Depends(db_read)]
WriteConn = Annotated[Connection, Depends(db_write, scope="function")]
Routing = Annotated[RoutingEngine, Depends(routing)]
PlatformDep = Annotated[Platform, Depends(get_platform)]
AnalysesDep = Annotated[Analyses, Depends(get_analyses)]
Web = Annotated[WebState, Depends(get_web)]


def get_lane(request: Request) -> AnalysisLane:
    """The analysis lane (threads of its own for requests that compute)."""
    return get_web(request).lane


Lane = Annotated[AnalysisLane, Depends(get_lane)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


_KNOWN_QUERY: dict[int, frozenset[str]] = {}


def _known_query(dependant: Any) -> frozenset[str]:
    """The query parameter names an operation declares (worked out once per operation)."""
    found = _KNOWN_QUERY.get(id(dependant))
    if found is None:
        known: set[str] = set()
        stack = [dependant]
        while stack:
            dep = stack.pop()
            known.update(p.alias for p in dep.query_params)
            stack.extend(dep.dependencies)
        # ``lang`` is common to every operation: the language of messages (api.messages)
        found = _KNOWN_QUERY[id(dependant)] = frozenset(known | {"lang"})
    return found


async def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters the operation does not know (a typo must not be ignored)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = _known_query(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        msg = f"unknown query parameter(s): {', '.join(unknown)}; accepted: {accepted}"
        raise ValidationError(msg)
