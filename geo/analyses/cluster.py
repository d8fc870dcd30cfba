"""The analysis clusters: Dask workers that each keep the platform open.

By default a cluster is a ``LocalCluster`` of worker *processes*, one thread each, with a
memory limit per worker (``YIZHAN_JOB_MEMORY_LIMIT``): work that outgrows it is stopped by
Dask's nanny, and the API process never grows with an analysis. ``YIZHAN_DASK_SCHEDULER``
(``tcp://host:8786``) uses an existing cluster instead. Each worker opens its own
:class:`~geo.platform.Platform` once (a worker plugin: database, road graph from the cache,
routing engine), at a lower OS priority than the API answering riders.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

import dask
from distributed import Client, LocalCluster, WorkerPlugin

from geo.platform import Platform, start_platform
from geo.settings import Settings

logger = logging.getLogger("yizhan.jobs")
_WORKER: dict[str, Platform] = {}
#: clusters start one at a time (two at once race in distributed's lazy imports)
_STARTING = threading.Lock()


class PlatformPlugin(WorkerPlugin):
    """Opens the platform on each worker once (graph from the cache, engine, database)."""

    name = "yizhan-platform"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setup(self, worker: Any) -> None:  # noqa: D102
        # analyses are background work: on a shared machine the API answering riders comes first
        os.nice(max(0, self.settings.job_nice - os.nice(0)))
        _WORKER["platform"] = start_platform(self.settings, background=False)

    def teardown(self, worker: Any) -> None:  # noqa: D102
        found = _WORKER.pop("platform", None)
        if found is not None:
            found.close()


def _has_platform() -> bool:
    return "platform" in _WORKER


def ensure_platform(client: Client, settings: Settings) -> None:
    """Open the platform on every worker of ``client``'s cluster, unless all have it open.

    (Registering again would make every worker reopen it: several API processes share one
    cluster under ``yizhan serve --workers N``.)
    """
    opened = client.run(_has_platform)
    if not opened or not all(opened.values()):
        client.register_plugin(PlatformPlugin(settings))


def worker_platform() -> Platform:
    """The platform this worker opened (for tasks running on a worker)."""
    return _WORKER["platform"]


def connect(
    settings: Settings, *, workers: int | None = None
) -> tuple[Client, LocalCluster | None]:
    """A client of ``YIZHAN_DASK_SCHEDULER``, or of a new local cluster of worker processes.

    The local cluster has ``workers`` (default ``job_workers``) single-threaded processes,
    each with the memory limit ``job_memory_limit``; a task is never retried elsewhere after
    its worker died (a task that kills one worker would kill the next).
    """
    with _STARTING, dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        if settings.dask_scheduler:
            return Client(settings.dask_scheduler), None
        cluster = LocalCluster(
            n_workers=workers or settings.job_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=settings.job_memory_limit,
            dashboard_address=":0",  # no fixed port: several may run
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster


def start_in_background(client: Callable[[], Client], name: str) -> None:
    """Start a cluster (``client()``) and wait for its workers' set-up, on a thread of its own."""

    def warm() -> None:
        try:
            client().run(lambda: None)  # returns once every worker has set up its platform
        except Exception:  # the first request will report it; nothing to raise into here
            logger.exception("the %s cluster did not start", name)

    threading.Thread(target=warm, name=f"{name}-start", daemon=True).start()


class AnalysisCluster:
    """A client of a cluster whose workers keep the platform open (started on first use)."""

    def __init__(self, settings: Settings, *, workers: int, name: str) -> None:
        self.settings, self.workers, self.name = settings, workers, name
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None

    def client(self) -> Client:
        """The Dask client (a local cluster starts on first use)."""
        with self._lock:
            if self._client is None:
                self._client, self._cluster = connect(self.settings, workers=self.workers)
                ensure_platform(self._client, self.settings)
                self.connected(self._client)
            return self._client

    def connected(self, client: Client) -> None:
        """Called once the cluster is up (a subclass may tidy up what a crash left)."""

    def start(self) -> None:
        """Start the cluster and its workers' platforms in the background (for a server)."""
        start_in_background(self.client, self.name)

    def running_workers(self) -> int:
        """Workers of the cluster, 0 before it has started (asking does not start it)."""
        with self._lock:
            client = self._client
        return 0 if client is None else len(client.scheduler_info()["workers"])

    def close(self) -> None:
        """Stop the client and the local cluster."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
