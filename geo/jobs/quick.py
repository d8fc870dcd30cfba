"""Quick analyses of public requests, computed on worker processes of their own.

A rider-facing API process must not compute: Python work holds the interpreter lock, and a few
uploads of 1.8 MB demand files or 60-minute drive isochrones pushed riders' p99 from 25 ms to
1.6 s when they ran on threads of the API. These requests are answered at once (no job row),
but computed on a small local Dask cluster of their own (``analysis_workers`` processes, each
with the platform open, like the jobs' workers), so long jobs never hold them up; the API only
waits. With ``YIZHAN_DASK_SCHEDULER`` they go to that cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from distributed import Client, LocalCluster, TimeoutError
from distributed.scheduler import KilledWorker

from geo.coverage.analysis import CoverageModel, to_records
from geo.coverage.demand import read_demand_points
from geo.errors import NotReadyError, ValidationError
from geo.jobs.runner import connect, ensure_platform, start_in_background, worker_platform
from geo.settings import Settings

T = TypeVar("T")


def demand_coverage(
    content: bytes,
    fmt: str,
    weight_column: str,
    minutes: float,
    profile: str,
    at: datetime | None,
) -> dict[str, Any]:
    """Coverage of uploaded demand points, with every bad row (runs on a worker)."""
    demand, errors = read_demand_points(content, fmt=fmt, weight_column=weight_column)
    summary = None
    if len(demand):
        model = CoverageModel(worker_platform().require_routing(), demand)
        summary = to_records(model.compute(minutes=minutes, profile=profile, at=at).summary())[0]
    return {
        "rows_accepted": len(demand),
        "row_errors": [e.__dict__ for e in errors],
        "coverage": summary,
    }


def isochrones(lon: float, lat: float, minutes: Sequence[float], profile: str) -> Any:
    """Areas reachable from one place (runs on a worker): the engine's answer as it is."""
    return worker_platform().require_routing().isochrones(lon, lat, minutes, profile=profile)


class QuickAnalyses:
    """The quick analyses' own cluster (started on first use) and a blocking call into it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None

    def client(self) -> Client:
        """The client of the quick analyses' cluster (started on first use)."""
        with self._lock:
            if self._client is None:
                self._client, self._cluster = connect(
                    self.settings, workers=self.settings.analysis_workers
                )
                ensure_platform(self._client, self.settings)
            return self._client

    def start(self) -> None:
        """Start the cluster and its workers' platforms in the background (for a server)."""
        start_in_background(self.client, "quick analyses")

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a worker; waits up to ``analysis_timeout_s`` (blocks the caller).

        Errors of the analysis come back as they were raised (a bad file stays a 4xx); a
        worker that died (out of memory) or a timeout is a 503 with a plain message.
        """
        future = self.client().submit(fn, *args, pure=False, priority=10)
        try:
            result: T = future.result(timeout=self.settings.analysis_timeout_s)
        except TimeoutError as exc:
            future.cancel()
            msg = "the analysis took too long; ask for less and try again"
            raise NotReadyError(msg) from exc
        except KilledWorker as exc:
            msg = "the analysis needed more memory than a worker has; send less at once"
            raise ValidationError(msg) from exc
        return result

    def close(self) -> None:
        """Stop the client and the local cluster."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
