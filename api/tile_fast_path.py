"""Kept basemap tiles answered before FastAPI's per-request machinery.

A map view asks for a dozen tiles at once, most of them kept in memory already: for a plain
``GET /ogc/tiles/WebMercatorQuad/{z}/{y}/{x}`` (no query) whose tile is kept at the current
version of its tables, :class:`KeptTileFastPath` answers itself — the same status, headers
and bytes as the operation (:func:`api.routers.tiles.tile_answer`). Anything else (a tile not
kept yet, a query, a malformed address) goes on to the operation unchanged.
"""

from __future__ import annotations

import re

from api.middleware import ASGIApp, Receive, Scope, Send
from api.routers.tiles import tile_answer, tile_key
from geo.errors import YizhanError
from geo.tiles import TMS_ID, check_tile

_TILE = re.compile(rf"^/ogc/tiles/{TMS_ID}/(\d{{1,2}})/(\d{{1,9}})/(\d{{1,9}})$")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class KeptTileFastPath:
    """Answers requests for kept tiles without routing, dependencies or a thread hop."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        found = (
            _TILE.match(scope["path"])
            if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]
            else None
        )
        kept = None
        if found is not None:
            state = scope["app"].state
            try:
                address = check_tile(TMS_ID, *(int(v) for v in found.groups()))
                kept = state.web.tiles.peek(tile_key(state.platform, address))
            except YizhanError:
                kept = None  # the operation answers with its error, in the one format
        if kept is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = tile_answer(
            kept, _header(scope, b"if-none-match"), _header(scope, b"accept-encoding")
        )
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
