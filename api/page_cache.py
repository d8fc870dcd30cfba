"""Rendered pages kept by their parameters and the version of the data they show.

A map page costs tens of milliseconds to render (hundreds when it runs an analysis) and is
the same for every visitor until its data change: it is rendered once per (path, query,
data version, viewer) and kept — compressed once, with an ``ETag`` — so a busy embed answers
from memory, and a browser that has it already gets ``304 Not Modified``. The cache is
bounded in bytes (least recently used pages go first); a change of the data changes the
key, so nothing stale is served. The analyses pages draw (coverage, new sites) are kept the
same way (:class:`Kept`), by their own inputs: the page's variants — language, zoom, tiles,
centre — share one computation.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fastapi import Request
from fastapi.responses import Response

from api.pages import with_script_hashes
from pages.assets import accepts_gzip, gzip_bytes

#: how long a request waits for another's making of the same page (or analysis) before its own
RENDER_WAIT_S = 60.0
V = TypeVar("V")


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
class _Flight(Generic[V]):
    """A value being made: those asking for it meanwhile wait for this one."""

    done: threading.Event = field(default_factory=threading.Event)
    value: V | None = None


class Kept(Generic[V]):
    """A least-recently-used store, at most ``max_size`` in all (each value weighs ``size_of``).

    A value missing is made once however many ask for it at the same moment (a popular
    embed after a data change): the others wait for that one rather than each making their
    own.
    """

    def __init__(self, max_size: int, size_of: Callable[[V], int] = lambda _: 1) -> None:
        self.max_size, self.size_of = max_size, size_of
        self._kept: OrderedDict[Hashable, V] = OrderedDict()
        self._flights: dict[Hashable, _Flight[V]] = {}
        self._size = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _hit(self, key: Hashable) -> V | None:
        """The value kept under ``key``, marked as recently used (call with the lock held)."""
        value = self._kept.get(key)
        if value is not None:
            self._kept.move_to_end(key)
            self.hits += 1
        return value

    def peek(self, key: Hashable) -> V | None:
        """The value under ``key`` if kept (never made here)."""
        with self._lock:
            return self._hit(key)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value under ``key``, made (outside the lock, once at a time) when missing."""
        with self._lock:
            value = self._hit(key)
            if value is not None:
                return value
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self.misses += 1
        if not leader:
            flight.done.wait(RENDER_WAIT_S)
            # the making failed or is stuck: make it (or fail) on this request's own account
            return flight.value if flight.value is not None else make()
        try:
            flight.value = value = make()
            self._keep(key, value)
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.done.set()
        return value

    def _keep(self, key: Hashable, value: V) -> None:
        size = self.size_of(value)
        with self._lock:
            if key not in self._kept and size <= self.max_size:
                self._kept[key] = value
                self._size += size
                while self._size > self.max_size:
                    _, old = self._kept.popitem(last=False)
                    self._size -= self.size_of(old)


class PageCache(Kept[CachedPage]):
    """Rendered pages, at most ``max_bytes`` in all."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        super().__init__(max_bytes, lambda page: page.size)

    def get_or_render(self, key: Hashable, render: Callable[[], CachedPage]) -> CachedPage:
        """The page under ``key``, rendered (once at a time) when missing."""
        return self.get_or_make(key, render)


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
