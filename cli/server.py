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

from api.observe import log_config
from cli.protocol import NoDelayHttpToolsProtocol
from geo.settings import Settings

#: seconds a stopping server gives open answers (live streams) before ending them
GRACEFUL_S = 5


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
        # a stopping server waits this long for open answers, then ends them: the workbench's
        # live streams (/v1/live) stay open until then, and reconnect to the next server
        "timeout_graceful_shutdown": GRACEFUL_S,
        # Python's own event loop, not uvloop: under load (64-256 riders at once) uvloop
        # answered a few requests after 0.5-2 s while the rest took 40 ms — wrk counted them as
        # timeouts; asyncio's loop serves every connection in turn (benchmarks/load.py)
        "loop": "asyncio",
        "http": f"{NoDelayHttpToolsProtocol.__module__}:{NoDelayHttpToolsProtocol.__name__}",
    }


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any], parent: int) -> None:
    config = uvicorn.Config(app, factory=True, host=host, port=port, **options)
    server = uvicorn.Server(config)
    # ``parent`` is the pid that started this worker, told by the parent itself: a worker still
    # starting when its parent died would otherwise take its new parent (init) for the one

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
        process = context.Process(
            target=_worker, args=(app, host, port, options, os.getpid()), daemon=False
        )
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
