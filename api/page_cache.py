"""Rendered pages kept by their parameters and the version of the data they show.

A map page costs tens of milliseconds to render (hundreds when it runs an analysis) and is
the same for every visitor until its data change: it is rendered once per (path, query,
data version, viewer) and kept — compressed once, with an ``ETag`` — so a busy embed answers
from memory, and a browser that has it already gets ``304 Not Modified``. The cache is
bounded in bytes (least recently used pages go first); a change of the data changes the
key, so nothing stale is served.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import Response

from api.pages import with_script_hashes
from pages.assets import accepts_gzip, gzip_bytes

#: how long a request waits for another's rendering of the same page before rendering itself
RENDER_WAIT_S = 60.0


@dataclass(frozen=True)
class CachedPage:
    """A rendered page: plain and gzip bytes, its ETag and its Content-Security-Policy."""

    body: bytes
    gzipped: bytes
    etag: str
    csp: str

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.body) + len(self.gzipped)


@dataclass
class _Flight:
    """A page being rendered: those asking for it meanwhile wait for this one."""

    done: threading.Event = field(default_factory=threading.Event)
    page: CachedPage | None = None


class PageCache:
    """A least-recently-used store of rendered pages, at most ``max_bytes`` in all.

    A page missing is rendered once however many ask for it at the same moment (a popular
    embed after a data change): the others wait for that rendering rather than each making
    their own.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_render(self, key: Hashable, render: Callable[[], CachedPage]) -> CachedPage:
        """The page under ``key``, rendered (outside the lock, once at a time) when missing."""
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
                self.hits += 1
                return page
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.misses += 1
        if not leader:
            flight.done.wait(RENDER_WAIT_S)
            # the rendering failed or is stuck: render (or fail) on this request's own account
            return flight.page if flight.page is not None else render()
        try:
            flight.page = page = render()
            self._keep(key, page)
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
        return page

    def _keep(self, key: Hashable, page: CachedPage) -> None:
        with self._lock:
            if key not in self._pages and page.size <= self.max_bytes:
                self._pages[key] = page
                self._bytes += page.size
                while self._bytes > self.max_bytes:
                    _, old = self._pages.popitem(last=False)
                    self._bytes -= old.size


def cached_page(html: str, frame_ancestors: str) -> CachedPage:
    """A rendered HTML page made ready to serve many times."""
    body = html.encode()
    csp = with_script_hashes(html, frame_ancestors)
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return CachedPage(body, gzip_bytes(body), etag, csp)


def serve_page(request: Request, page: CachedPage) -> Response:
    """Answer with ``page``: 304 when the browser has it, gzip when accepted."""
    headers = {
        "ETag": page.etag,
        "Cache-Control": "no-cache",  # may be kept, but asked again (304) before use
        "Vary": "Accept-Encoding",
        "Content-Security-Policy": page.csp,
    }
    if page.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(page.gzipped, media_type="text/html; charset=utf-8", headers=headers)
    return Response(page.body, media_type="text/html; charset=utf-8", headers=headers)
