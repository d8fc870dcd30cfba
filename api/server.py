"""How the app is served: one uvicorn configuration for ``yizhan serve`` and the tests.

Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the
reverse proxies listed in ``YIZHAN_TRUSTED_PROXIES`` — by default from nobody, so a client
cannot pick the address its rate limits are counted against. uvicorn's own access log is
off: :class:`api.middleware.AccessLog` writes one line a request, without exact positions.
"""

from __future__ import annotations

import copy
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from geo.settings import Settings


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
    log_config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["yizhan"] = {"handlers": ["default"], "level": "INFO"}
    return {
        "log_level": log_level,
        "access_log": False,
        "log_config": log_config,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
        "server_header": False,
    }
