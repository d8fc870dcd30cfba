"""The analysis clusters: Dask workers that each keep the platform open.

By default a cluster is a ``LocalCluster`` of worker *processes*, one thread each, with a
memory limit per worker (``YIZHAN_JOB_MEMORY_LIMIT``): work that outgrows it is stopped by
Dask's nanny, and the API process never grows with an analysis. ``YIZHAN_DASK_SCHEDULER``
(``tcp://host:8786``) uses an existing cluster instead. Each worker opens its own
:class:`~geo.platform.Platform` once (a worker plugin: database, road graph from the cache,
routing engine) when its first task asks for it — an idle worker holds no graph — at a lower
OS priority than the API answering riders. Station fields are mapped from the files the API
wrote (:mod:`geo.routing.field_store`), so a worker's first task starts in about a second.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import dask
from distributed import Client, LocalCluster, WorkerPlugin
from distributed.core import Status

from geo.errors import NotReadyError
from geo.settings import Settings

if TYPE_CHECKING:
    from geo.platform import Platform

logger = logging.getLogger("yizhan.jobs")
_WORKER: dict[str, Platform] = {}
#: the settings a worker opens its platform with (set by the plugin)
_WORKER_SETTINGS: dict[str, Settings] = {}
_OPENING = threading.Lock()
#: clusters start one at a time (two at once race in distributed's lazy imports)
_STARTING = threading.Lock()


class PlatformPlugin(WorkerPlugin):
    """Readies each worker to open the platform once, at its first task (see the module)."""

    name = "yizhan-platform"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def setup(self, worker: Any) -> None:  # noqa: D102
        # analyses are background work: on a shared machine the API answering riders comes first
        os.nice(max(0, self.settings.job_nice - os.nice(0)))
        _WORKER_SETTINGS["settings"] = self.settings
        logging.getLogger("distributed.worker").addFilter(ClosingHeartbeat(worker))

    def teardown(self, worker: Any) -> None:  # noqa: D102
        _WORKER_SETTINGS.pop("settings", None)
        found = _WORKER.pop("platform", None)
        if found is not None:
            found.close()


class ClosingHeartbeat(logging.Filter):
    """Keeps a closing worker's failed heartbeat (and its traceback) out of the log.

    When the service stops, the scheduler closes its connections while a worker still
    finishing a task sends its next heartbeat: Dask logs that as an error with a traceback,
    though nothing failed. A heartbeat that fails while the worker is running is still logged.
    """

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        closing = self.worker.status in {Status.closing, Status.closing_gracefully, Status.closed}
        return not (closing and str(record.msg).startswith("Failed to communicate with scheduler"))


def _has_platform() -> bool:
    return "settings" in _WORKER_SETTINGS


def holds_platform() -> bool:
    """Whether this worker has opened its platform (loaded a graph): after its first task."""
    return "platform" in _WORKER


def ensure_platform(client: Client, settings: Settings) -> None:
    """Ready every worker of ``client``'s cluster to open the platform, unless all are ready.

    (Registering again would make every worker reopen it: several API processes share one
    cluster under ``yizhan serve --workers N``.)
    """
    opened = client.run(_has_platform)
    if not opened or not all(opened.values()):
        client.register_plugin(PlatformPlugin(settings))


def worker_platform() -> Platform:
    """The platform of this worker (for tasks running on one), opened at the first call."""
    # imported here: a worker that never runs a task never loads the platform's libraries
    from geo.platform import start_platform

    with _OPENING:
        found = _WORKER.get("platform")
        if found is None:
            found = _WORKER["platform"] = start_platform(
                _WORKER_SETTINGS["settings"], background=False
            )
        return found


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


def warm_worker() -> None:
    """Open this worker's platform and answer one question per profile, isochrones included.

    What building and warming threw away goes back to the system.
    """
    from geo.platform import settle_memory

    worker_platform().require_routing().warm()
    settle_memory()


def start_in_background(
    client: Callable[[], Client],
    name: str,
    warm: Callable[[], None] | None = None,
    *,
    stopped: Callable[[], bool] = lambda: False,
) -> None:
    """Start a cluster (``client()``) on a thread of its own, then run ``warm`` on each worker.

    A service stopped while its cluster starts (``stopped()`` true) says so in one line: the
    connections its closing cut are expected, not a failure.
    """

    def start() -> None:
        try:
            started = client()
            started.run(lambda: None)  # returns once every worker has set up its plugin
            if warm is not None:
                workers = list(started.scheduler_info()["workers"])
                started.gather(
                    [started.submit(warm, workers=[w], pure=False, priority=-10) for w in workers]
                )
        except NotReadyError:  # stopped before it started: nothing to start
            return
        except Exception:  # the first request will report it; nothing to raise into here
            if stopped():
                logger.info("the %s cluster was stopped while it started", name)
            else:
                logger.exception("the %s cluster did not start", name)

    threading.Thread(target=start, name=f"{name}-start", daemon=True).start()


class AnalysisCluster:
    """A client of a cluster whose workers keep the platform open (started on first use)."""

    def __init__(self, settings: Settings, *, workers: int, name: str) -> None:
        self.settings, self.workers, self.name = settings, workers, name
        self._lock = threading.Lock()
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._closed = False

    def client(self) -> Client:
        """The Dask client (a local cluster starts on first use; never again once closed)."""
        with self._lock:
            if self._closed:
                msg = f"the {self.name} cluster has stopped (the service is shutting down)"
                raise NotReadyError(msg)
            if self._client is None:
                self._client, self._cluster = connect(self.settings, workers=self.workers)
                ensure_platform(self._client, self.settings)
                self.connected(self._client)
            return self._client

    def connected(self, client: Client) -> None:
        """Called once the cluster is up (a subclass may tidy up what a crash left)."""

    #: what each worker does once the cluster has started (None: nothing until a task)
    warm: Callable[[], None] | None = None

    def start(self) -> None:
        """Start the cluster in the background (for a server), then warm its workers."""
        start_in_background(self.client, self.name, self.warm, stopped=lambda: self._closed)

    def running_workers(self) -> int:
        """Workers of the cluster, 0 before it has started (asking does not start it)."""
        with self._lock:
            client = self._client
        return 0 if client is None else len(client.scheduler_info()["workers"])

    def close(self) -> None:
        """Stop the client and the local cluster, for good (a late start starts nothing)."""
        with self._lock:
            self._closed = True
            if self._client is not None:
                self._client.close()
            if self._cluster is not None:
                self._cluster.close()
            self._client = self._cluster = None
