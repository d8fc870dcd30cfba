"""Live: the workbench hears of case changes as they happen (Server-Sent Events).

``GET /v1/live`` keeps a stream open and sends ``event: cases`` whenever a case (or the
notifications written with it) changes anywhere — fed by the database's change feed, so every
API process of a deployment delivers it. An event carries no case data: the page then asks the
API again, which answers within the viewer's scope; so no event can show what its viewer may
not see. A new or resumed stream starts with ``event: hello``, on which the page reloads: a
reconnection loses nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.auth import CaseReaders
from api.deps import get_platform
from geo.cases.access import cases_version
from geo.platform import Platform

router = APIRouter(prefix="/v1", tags=["cases"])
#: how often the stream looks for a change (the feed's in-memory count: no database trip)
LOOK_S = 0.5
#: a comment line this often keeps proxies from closing an idle stream
KEEP_ALIVE_S = 15.0
#: without the feed (not listening), the database's fingerprint is read this often instead
FALLBACK_S = 5.0
CASE_TABLES = ("cases",)


def _event(kind: str, data: dict[str, object]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


class _CaseVersion:
    """The cases' version: the feed's count, else (every few seconds) the database's."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.read_at = -FALLBACK_S
        self.read: object = None

    async def now(self) -> object:
        heard = self.platform.tables.of(CASE_TABLES)
        if heard is not None:
            return heard
        loop = asyncio.get_running_loop()
        if loop.time() - self.read_at >= FALLBACK_S:
            self.read = await run_in_threadpool(self._read)
            self.read_at = loop.time()
        return self.read

    def _read(self) -> str:
        with self.platform.db.connect() as conn:
            return cases_version(conn)


async def _stream(request: Request, platform: Platform) -> AsyncIterator[bytes]:
    yield b"retry: 3000\n\n"
    yield _event("hello", {})
    version = _CaseVersion(platform)
    seen = await version.now()
    quiet = 0.0
    while not await request.is_disconnected():
        await asyncio.sleep(LOOK_S)
        now = await version.now()
        if now != seen:
            seen, quiet = now, 0.0
            yield _event("cases", {})
            continue
        quiet += LOOK_S
        if quiet >= KEEP_ALIVE_S:
            quiet = 0.0
            yield b": still here\n\n"


@router.get(
    "/live",
    summary="A stream of 'something changed' events for the workbench (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live(request: Request, who: CaseReaders) -> StreamingResponse:
    """``event: cases`` when a case changes anywhere; the page asks the API again (its scope)."""
    del who  # signed in (any role that reads cases); events carry no data to scope
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _stream(request, get_platform(request)), media_type="text/event-stream", headers=headers
    )
