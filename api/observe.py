"""What an operator watches: log lines with timestamps (or JSON), and Prometheus metrics.

Every log line carries an ISO-8601 time; ``YIZHAN_LOG_FORMAT=json`` writes one JSON object a
line instead (time, level, logger, message and, for requests, the request id, route, status
and duration — coordinates already rounded, never a password or a token).

``GET /metrics`` answers in Prometheus's text format (``prometheus-client``): requests and
their latency per route template, riders' answers, the database pool, jobs, analysis workers,
the webhook outbox and whether the change feed listens. With ``yizhan serve --workers N``
the processes write to one folder (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``) and any of
them answers for all.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

if TYPE_CHECKING:  # the log formatter is loaded before anything else: it stays light
    from geo.analyses.service import Analyses
    from geo.platform import Platform

#: the fields a request's log line adds (see :class:`api.middleware.AccessLog`)
REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, request fields."""

    def format(self, record: logging.LogRecord) -> str:  # noqa: D102
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_config(base: dict[str, Any], fmt: str) -> dict[str, Any]:
    """Uvicorn's logging configuration with timestamps (``text``) or JSON lines (``json``)."""
    config = json.loads(json.dumps(base))  # a copy
    formatters = config["formatters"]
    if fmt == "json":
        for name in formatters:
            formatters[name] = {"()": f"{__name__}.JsonFormatter"}
    else:
        formatters["default"]["fmt"] = "%(asctime)s %(levelprefix)s %(message)s"
        formatters["default"]["datefmt"] = ISO_FORMAT
        if "access" in formatters:
            formatters["access"]["fmt"] = "%(asctime)s " + formatters["access"]["fmt"]
            formatters["access"]["datefmt"] = ISO_FORMAT
    config["loggers"]["yizhan"] = {"handlers": ["default"], "level": "INFO"}
    # the analysis clusters' scheduler runs in this process: its warnings in the same format
    # (one JSON line each under ``json``), its routine (workers retired on a stop) left out
    config["loggers"]["distributed"] = {
        "handlers": ["default"],
        "level": "WARNING",
        "propagate": False,
    }
    return config


REQUESTS = Counter(
    "yizhan_requests", "HTTP requests answered, by route template and status", ["route", "status"]
)
LATENCY = Histogram(
    "yizhan_request_seconds",
    "Time to answer, by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RIDER_ANSWERS = Counter("yizhan_rider_answers", "Nearest-station answers given to riders")
POOL_IN_USE = Gauge(
    "yizhan_db_pool_in_use", "Database connections checked out", multiprocess_mode="livesum"
)
POOL_WAITS = Counter("yizhan_db_pool_timeouts", "Requests that found no free connection (503)")
JOBS = Gauge("yizhan_jobs", "Analysis jobs by status", ["status"], multiprocess_mode="max")
WORKERS = Gauge("yizhan_analysis_workers", "Dask workers alive", multiprocess_mode="max")
OUTBOX = Gauge(
    "yizhan_webhook_outbox", "Notifications not yet delivered", ["state"], multiprocess_mode="max"
)
FEED = Gauge(
    "yizhan_change_feed_listening",
    "Whether each process hears the database's change feed (1) or asks the database (0)",
    multiprocess_mode="min",
)


def observe_request(route: str, status: int, seconds: float) -> None:
    """Count one answered request."""
    REQUESTS.labels(route, str(status)).inc()
    LATENCY.labels(route).observe(seconds)
    if route == "/v1/stations/nearest" and status == 200:
        RIDER_ANSWERS.inc()


def exposition(platform: Platform, analyses: Analyses) -> tuple[bytes, str]:
    """The metrics now, in Prometheus's text format (gauges read from the platform first)."""
    _read_gauges(platform, analyses)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def _read_gauges(platform: Platform, analyses: Analyses) -> None:
    from geo.health import queue_counts

    pool = platform.db.pool
    POOL_IN_USE.set(getattr(pool, "checkedout", lambda: 0)())
    WORKERS.set(analyses.jobs.running_workers())
    FEED.set(1 if platform.tables.is_listening else 0)
    jobs, outbox = queue_counts(platform)
    for status, n in jobs.items():
        JOBS.labels(status).set(n)
    for state, n in outbox.items():
        OUTBOX.labels(state).set(n)
