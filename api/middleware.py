"""Protective middleware: security headers, body size limit, per-client rate limits, timeouts.

Plain ASGI (no ``BaseHTTPMiddleware``), so the hot path — riders' nearest-station queries —
pays as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

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
) -> None:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
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


class SecurityHeaders:
    """Adds ``nosniff``, ``no-referrer``, frame protection and HSTS (in production).

    Maps set their own ``frame-ancestors`` and are left embeddable.
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
            await send(message)

        await self.app(scope, receive, wrapped)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _json_error(
                send,
                413,
                "PayloadTooLarge",
                f"request body over the limit of {self.max_bytes} bytes",
            )
            return
        seen = 0
        tracker = _StartTracker(send)

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
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
                    f"request body over the limit of {self.max_bytes} bytes",
                )


class _TooLargeError(Exception):
    pass


class RateLimit:
    """Token buckets per client address for the public, costly paths; 429 with Retry-After.

    ``per_minute`` requests a minute on average, bursts up to ``burst``. One process keeps its
    own buckets (with several workers the effective limit is per worker).
    """

    def __init__(
        self, app: ASGIApp, *, per_minute: float, burst: int, prefixes: tuple[str, ...]
    ) -> None:
        self.app, self.rate, self.burst, self.prefixes = app, per_minute / 60.0, burst, prefixes
        self.buckets: dict[str, tuple[float, float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if (
            scope["type"] != "http"
            or self.rate <= 0
            or not scope.get("path", "").startswith(self.prefixes)
        ):
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
                f"rate limit: at most {self.rate * 60:.0f} requests a minute; retry in {wait} s",
                [(b"retry-after", str(wait).encode())],
            )
            return
        self.buckets[client] = (tokens - 1.0, now)
        if len(self.buckets) > 100_000:  # forget idle clients
            self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 600}
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
                )
