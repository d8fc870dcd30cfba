"""Protective middleware: security headers, hosts, body size limit, rate limits, timeouts, logs.

Plain ASGI (no ``BaseHTTPMiddleware``), so the hot path — riders' nearest-station queries —
pays as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

import numpy as np

from api.messages import localised, wants_chinese
from api.observe import observe_request

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _json_error(
    send: Send,
    status: int,
    kind: str,
    message: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    scope: Scope | None = None,
) -> None:
    if scope is not None:
        query = scope.get("query_string", b"").decode("latin-1")
        accept = dict(scope.get("headers", [])).get(b"accept-language", b"").decode("latin-1")
        message = localised(kind, message, chinese=wants_chinese(query, accept))
    body = json.dumps({"error": {"type": kind, "message": message}}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _StartTracker:
    """A ``send`` that remembers whether the response has begun (then no error can replace it)."""

    def __init__(self, send: Send) -> None:
        self.send, self.started = send, False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


logger = logging.getLogger("yizhan")
access_logger = logging.getLogger("yizhan.access")


class SecurityHeaders:
    """Adds ``nosniff``, ``no-referrer``, frame protection and HSTS (in production).

    Maps set their own ``frame-ancestors`` and are left embeddable. An error no handler took
    (a bug) is answered here, inside this middleware, so it too gets the JSON error envelope
    and these headers; it is logged with its traceback.
    """

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app, self.production = app, production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if (
                    not path.startswith(("/maps", "/docs"))
                    and b"content-security-policy" not in names
                ):
                    extra.append(
                        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
                    )
                    extra.append((b"x-frame-options", b"DENY"))
                if self.production:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers + [h for h in extra if h[0] not in names]
            await tracker(message)

        tracker = _StartTracker(send)
        try:
            await self.app(scope, receive, wrapped)
        except Exception:
            logger.exception("unhandled error on %s %s", scope.get("method"), path)
            if not tracker.started:
                await _json_error(
                    wrapped,
                    500,
                    "Internal",
                    "the server could not answer this request",
                    scope=scope,
                )


class HostCheck:
    """Refuses requests whose ``Host`` is not an allowed name (400), so links never follow it."""

    def __init__(self, app: ASGIApp, *, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {h.lower().strip("[]") for h in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or "*" in self.allowed:
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1").lower()
        name = raw[1:].split("]")[0] if raw.startswith("[") else raw.rsplit(":", 1)[0]
        if name not in self.allowed:
            await _json_error(
                send, 400, "InvalidHost", "the Host header names no known site", scope=scope
            )
            return
        await self.app(scope, receive, send)


_NUMBER = re.compile(r"-?\d+\.\d+")


#: query parameters whose values never reach the logs (a search may be a reporter's phone)
_SECRET_PARAMS = re.compile(r"(^|&)(q)=[^&]*")


def coarsen_query(query: str, decimals: int) -> str:
    """A query string with every decimal number rounded to ``decimals`` (``-1``: hidden).

    Riders' positions (``lat``, ``lon``, ``from``, ``to``, ``center``, ``bbox``) never reach
    the logs at full precision; two decimals is about a kilometre. A search (``q``: a case
    number, a reporter's phone, words of a case) is logged as ``q=~``.
    """
    query = _SECRET_PARAMS.sub(lambda mt: f"{mt.group(1)}{mt.group(2)}=~", query)
    if decimals < 0:
        return _NUMBER.sub("~", query)
    return _NUMBER.sub(lambda mt: f"{float(mt.group()):.{decimals}f}", query)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AccessLog:
    """One log line a request: request id, method, path, coarsened query, status, duration.

    The request id is the caller's ``X-Request-ID`` when it is well formed, else a new one; it
    is returned in ``X-Request-ID``. No client address and no exact coordinates are logged.
    """

    def __init__(self, app: ASGIApp, *, decimals: int) -> None:
        self.app, self.decimals = app, decimals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        status = 500

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, wrapped)
        finally:
            seconds = time.perf_counter() - start
            route = route_template(scope)
            observe_request(route, status, seconds)
            if access_logger.isEnabledFor(logging.INFO):
                self._log(scope, rid, route, status, seconds)

    def _log(self, scope: Scope, rid: str, route: str, status: int, seconds: float) -> None:
        query = coarsen_query(scope.get("query_string", b"").decode("latin-1"), self.decimals)
        fields = {
            "request_id": rid,
            "method": scope.get("method"),
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        }
        access_logger.info(
            "%s %s %s%s %d %.1fms",
            rid,
            scope.get("method"),
            scope.get("path"),
            f"?{query}" if query else "",
            status,
            seconds * 1000,
            extra=fields,
        )


#: paths answered before routing (the riders' fast path), named as their route is
_UNROUTED = frozenset({"/v1/stations/nearest"})


def route_template(scope: Scope) -> str:
    """The route template a request matched (``/v1/cases/{case_id}``), never the raw path.

    Metrics keep one series a template; a request that matched none is ``unmatched``.
    """
    route = scope.get("route")
    found = getattr(route, "path", None)
    if isinstance(found, str):
        return found
    path = str(scope.get("path", ""))
    return path if path in _UNROUTED else "unmatched"


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 (declared or streamed).

    ``larger`` names paths (regular expressions) that may carry more, and how much: a case's
    attachments are photos.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app, self.default_bytes, self.larger = app, max_bytes, tuple(larger)

    def _limit(self, path: str) -> int:
        return next((n for rule, n in self.larger if rule.fullmatch(path)), self.default_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)  # no body to count
            return
        limit = self._limit(str(scope.get("path", "")))
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _json_error(
                send,
                413,
                "PayloadTooLarge",
                f"request body over the limit of {limit} bytes",
                scope=scope,
            )
            return
        seen = 0
        tracker = _StartTracker(send)

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLargeError
            return message

        try:
            await self.app(scope, counting, tracker)
        except _TooLargeError:
            if not tracker.started:
                await _json_error(
                    send,
                    413,
                    "PayloadTooLarge",
                    f"request body over the limit of {limit} bytes",
                    scope=scope,
                )


class _TooLargeError(Exception):
    pass


#: a JSON string (its brackets are no nesting)
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')


def json_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar).

    Counted with strings removed, in compiled code (a regular expression and numpy), so a
    body of megabytes is measured in milliseconds and never by a recursive parser.
    """
    bare = _JSON_STRING.sub(b"", body)
    raw = np.frombuffer(bare, dtype=np.uint8)
    steps = (np.isin(raw, _OPENERS).astype(np.int32)) - np.isin(raw, _CLOSERS).astype(np.int32)
    return int(np.cumsum(steps).max(initial=0))


_OPENERS = np.frombuffer(b"[{", dtype=np.uint8)
_CLOSERS = np.frombuffer(b"]}", dtype=np.uint8)


class JsonDepthLimit:
    """Refuses JSON request bodies nested deeper than ``max_depth`` with 400, before parsing.

    A deeply nested body (``[[[[…]]]]`` 50,000 deep) would otherwise exhaust the recursion of
    whichever parser meets it first, in the API or on an analysis worker. Runs inside
    :class:`BodyLimit`, so the body it reads is already bounded in size.
    """

    def __init__(self, app: ASGIApp, *, max_depth: int) -> None:
        self.app, self.max_depth = app, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        kind = dict(scope.get("headers", [])).get(b"content-type", b"")
        if b"json" not in kind.lower():
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if json_depth(body) > self.max_depth:
            msg = f"the JSON body nests deeper than {self.max_depth} levels"
            await _json_error(send, 400, "InvalidJSON", msg, scope=scope)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RateLimit:
    """Token buckets per client address for the public, costly paths; 429 with Retry-After.

    ``per_minute`` requests a minute on average, bursts up to ``burst``, on paths starting
    with one of ``prefixes``, equal to one of ``paths`` or matching ``pattern`` (with
    ``methods``, only for those).
    One process keeps its own buckets (with several workers the limit is per worker).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        per_minute: float,
        burst: int,
        prefixes: tuple[str, ...] = (),
        paths: tuple[str, ...] = (),
        pattern: str | None = None,
        methods: tuple[str, ...] = (),
    ) -> None:
        self.app, self.rate, self.burst, self.prefixes = app, per_minute / 60.0, burst, prefixes
        self.paths, self.methods = paths, methods
        self.pattern = re.compile(pattern) if pattern else None
        self.buckets: dict[str, tuple[float, float]] = {}

    def _limited(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        return (
            scope["type"] == "http"
            and self.rate > 0
            and (
                path.startswith(self.prefixes)
                or path in self.paths
                or (self.pattern is not None and self.pattern.match(path) is not None)
            )
            and (not self.methods or scope.get("method") in self.methods)
        )

    def _limit_text(self) -> str:
        per_minute = self.rate * 60
        if per_minute >= 1:
            return f"at most {per_minute:.0f} requests a minute"
        return f"at most {per_minute * 60:.0f} requests an hour"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if not self._limited(scope):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        now = time.monotonic()
        tokens, last = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) / self.rate)
            self.buckets[client] = (tokens, now)
            await _json_error(
                send,
                429,
                "TooManyRequests",
                f"rate limit: {self._limit_text()} from one client; retry in {wait} s",
                [(b"retry-after", str(wait).encode())],
                scope=scope,
            )
            return
        self.buckets[client] = (tokens - 1.0, now)
        if len(self.buckets) > 100_000:  # forget idle clients
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 3600}
        await self.app(scope, receive, send)


class Timeout:
    """Answers 503 when a heavy analysis runs longer than ``seconds`` (the work is abandoned)."""

    def __init__(self, app: ASGIApp, *, seconds: float, prefixes: tuple[str, ...]) -> None:
        self.app, self.seconds, self.prefixes = app, seconds, prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        tracker = _StartTracker(send)
        try:
            await asyncio.wait_for(self.app(scope, receive, tracker), timeout=self.seconds)
        except TimeoutError:
            if not tracker.started:
                await _json_error(
                    send,
                    503,
                    "Timeout",
                    f"the analysis took longer than {self.seconds:g} s; ask for less "
                    "(fewer sites, candidates or minutes) or try again",
                    [(b"retry-after", b"30")],
                    scope=scope,
                )
