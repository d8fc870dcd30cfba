"""How the app is served: one uvicorn configuration for ``yizhan serve`` and the tests.

Several processes (``yizhan serve --workers N``) each listen on a socket of their own on the
same port (``SO_REUSEPORT``), so the kernel spreads connections evenly between them: with one
shared socket, whichever process woke first took a whole burst of connections (asyncio accepts
up to the backlog at once) and the other idled.

Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the
reverse proxies listed in ``YIZHAN_TRUSTED_PROXIES`` — by default from nobody, so a client
cannot pick the address its rate limits are counted against. uvicorn's own access log is
off: :class:`api.middleware.AccessLog` writes one line a request, without exact positions.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.observe import log_config
from geo.settings import Settings


class _OneWrite(asyncio.Transport):
    """A transport passing on what an answer writes in pieces as one write when it is done.

    uvicorn writes an answer's status line and headers, then its body: two ``send`` calls,
    two trips through the network stack, two packets (a fifth of a rider request's time on
    loopback). Small pieces are held until the answer is complete (or the loop's next turn,
    for a stream); past :data:`HOLD_BYTES` they go at once, so flow control sees them.
    """

    HOLD_BYTES = 16 * 1024

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._held: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            asyncio.get_running_loop().call_soon(self.flush)
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size >= self.HOLD_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write what is held, in one piece."""
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        self._held, self._size = [], 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held, self._size = [], 0
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._size + self._transport.get_write_buffer_size()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()


class NoDelayHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, sending each answer at once (``TCP_NODELAY``), in one write.

    asyncio turns Nagle's algorithm off only on sockets it opened itself; with several
    workers uvicorn opens the listening socket and asyncio leaves it on, so an answer's body
    waited for the client's delayed acknowledgement of its headers: 40 ms a request. The
    headers and body of an answer then go out together (:class:`_OneWrite`).
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # noqa: D102
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(_OneWrite(transport))

    def on_response_complete(self) -> None:  # noqa: D102
        assert isinstance(self.transport, _OneWrite)
        self.transport.flush()
        super().on_response_complete()


def server_config(
    app: FastAPI, settings: Settings, *, host: str, port: int, log_level: str = "info"
) -> uvicorn.Config:
    """The uvicorn configuration of ``app``.

    Parameters
    ----------
    app
        The application from :func:`api.app.create_app`.
    settings
        Its settings (trusted proxies).
    host, port
        Where to listen.
    log_level
        uvicorn's log level.

    Returns
    -------
    uvicorn.Config
        Ready for ``uvicorn.Server(config).run()``.
    """
    return uvicorn.Config(app, host=host, port=port, **server_options(settings, log_level))


def server_options(settings: Settings, log_level: str = "info") -> dict[str, Any]:
    """Uvicorn's options besides the app and the address (for one process or several)."""
    proxies = list(settings.trusted_proxies)
    return {
        "log_level": log_level,
        "access_log": False,
        "log_config": log_config(LOGGING_CONFIG, settings.log_format),
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
        # Python's own event loop, not uvloop: under load (64-256 riders at once) uvloop
        # answered a few requests after 0.5-2 s while the rest took 40 ms — wrk counted them as
        # timeouts; asyncio's loop serves every connection in turn (benchmarks/load.py)
        "loop": "asyncio",
        "http": f"{__name__}:{NoDelayHttpToolsProtocol.__name__}",
    }


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    config = uvicorn.Config(app, factory=True, host=host, port=port, **options)
    server = uvicorn.Server(config)
    parent = os.getppid()

    def watch_parent() -> None:
        # a worker whose parent is gone (killed, crashed) stops too, rather than serving on
        # the port with nobody to restart or stop it
        while not server.should_exit:
            if os.getppid() != parent:
                server.should_exit = True
                return
            time.sleep(1.0)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    server.run(sockets=[_listen(host, port)])


def run_workers(app: str, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """Serve ``app`` (an import string of an app factory) from ``workers`` processes.

    Each process has its own listening socket on the port (``SO_REUSEPORT``); a process that
    dies is started again; SIGTERM or SIGINT stops them all.
    """
    context = multiprocessing.get_context("spawn")

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_worker, args=(app, host, port, options), daemon=False)
        process.start()
        return process

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    processes = [start() for _ in range(workers)]
    try:
        while True:
            time.sleep(0.5)
            for i, p in enumerate(processes):
                if not p.is_alive():
                    _forget_metrics(p.pid)
                    processes[i] = start()
    finally:
        for p in processes:
            p.terminate()
        for p in processes:
            p.join(15)
            if p.is_alive():  # not stopped in 15 s: stopped now
                p.kill()
                p.join(5)


def _forget_metrics(pid: int | None) -> None:
    """Drop a dead process's live gauges from the shared metrics (``/metrics``)."""
    if pid is not None and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
