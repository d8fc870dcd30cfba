"""The one way an analysis runs: :class:`Analyses`, beside the platform, never inside it.

Two Dask clusters do the computing (never the API process): the quick analyses' own small
cluster answers public requests while the caller waits (:mod:`geo.analyses.quick`), and the
jobs' cluster runs the OGC processes with a row in PostGIS each (:mod:`geo.analyses.runner`).
:meth:`Analyses.execute` decides, once, for every caller: a process is admitted against a
worker's memory, runs as a quick analysis when it is small and as a job when it is large,
and its answer comes back at once or as a job to follow.

The :class:`~geo.platform.Platform` knows no Dask: the workers open a platform of their own
(:mod:`geo.analyses.cluster`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection

from geo.analyses.base import Finished, Pending
from geo.analyses.processes import admit, checked_inputs, process
from geo.analyses.quick import QuickAnalyses, demand_size
from geo.analyses.records import own_job
from geo.analyses.runner import Jobs
from geo.errors import NotReadyError, PermissionDeniedError
from geo.platform import Platform
from geo.users import UserInfo

T = TypeVar("T")


class Analyses:
    """Both clusters of one platform (each started on first use) and the rule between them."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self._jobs: Jobs | None = None
        self._quick: QuickAnalyses | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether the service has stopped (the app is shutting down)."""
        return self._closed

    @property
    def jobs(self) -> Jobs:
        """Analyses as jobs on Dask (the cluster starts with the first job)."""
        with self._lock:
            self._refuse_when_closed()
            if self._jobs is None:
                self._jobs = Jobs(self.platform.settings, self.platform.db)
            return self._jobs

    @property
    def quick(self) -> QuickAnalyses:
        """Quick analyses of public requests, on worker processes of their own."""
        with self._lock:
            self._refuse_when_closed()
            if self._quick is None:
                self._quick = QuickAnalyses(self.platform.settings)
            return self._quick

    def _refuse_when_closed(self) -> None:
        if self._closed:  # a thread left over from a stopped app must not start a cluster
            msg = "the analysis clusters have stopped (the service is shutting down)"
            raise NotReadyError(msg)

    def start(self) -> None:
        """Start both clusters now rather than with their first analysis."""
        self.jobs.start()
        self.quick.start()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` as a quick analysis on a worker; the caller waits for its answer."""
        return self.quick.run(fn, *args)

    def execute(
        self,
        process_id: str,
        inputs: object,
        *,
        owner: UserInfo,
        wait_s: float,
        respond_async: bool = False,
        inline: tuple[Callable[..., dict[str, Any]], tuple[Any, ...]] | None = None,
        inline_only: bool = False,
    ) -> Finished | Pending:
        """Run process ``process_id`` on ``inputs`` the one way its size calls for.

        Parameters
        ----------
        process_id, inputs
            An OGC process and its inputs (checked against its schema before any work: a
            400 names the field).
        owner
            Who asked: their role must be one the process allows; the per-user limit
            counts their open jobs.
        wait_s
            How long to wait for a job's answer before handing back the job to follow.
        respond_async
            Hand back the job at once, whatever happens (OGC ``Prefer: respond-async``).
        inline
            The quick analysis answering the same question while the caller waits (a task
            and its arguments), used when the question fits a quick worker
            (``inline_analysis_mb``); without it the process always runs as a job.
        inline_only
            The question cannot be a job (it carries what a job's inputs cannot hold, such
            as a planner's own candidates): quick whatever its size, once admitted.

        Returns
        -------
        Finished or Pending
            The answer, or the job's row when it did not end within ``wait_s``.
        """
        proc = process(process_id)
        if owner.role not in proc.roles:
            msg = f"{process_id} may be run by: {', '.join(sorted(proc.roles))}"
            raise PermissionDeniedError(msg)
        checked = checked_inputs(proc, inputs)
        asked = checked.model_dump(mode="json", exclude_unset=True)
        layer = getattr(checked, "demand", "population")
        rows = self.run(demand_size, layer) if proc.counts_demand else 0
        need = admit(proc, checked, rows, self.jobs.memory_limit())
        small = need <= self.platform.settings.inline_analysis_mb * 2**20
        if inline is not None and (small or inline_only):
            task, args = inline
            return Finished(self.run(task, *args))
        jobs = self.jobs
        job_id = jobs.submit(process_id, asked, owner=owner.username, demand=rows)
        if respond_async:
            return jobs.outcome(job_id, pending_only=True)
        if wait_s > 0:
            jobs.wait(job_id, wait_s)
        return jobs.outcome(job_id)

    def dismiss(self, conn: Connection, job_id: str, who: UserInfo) -> dict[str, Any]:
        """Stop one of ``who``'s jobs (any job for an admin) and keep its record."""
        own_job(conn, job_id, who)
        conn.rollback()  # end the read: the job's record changes meanwhile
        self.jobs.dismiss(job_id)
        return own_job(conn, job_id, who)

    def close(self) -> None:
        """Stop the clusters that were started."""
        with self._lock:
            self._closed = True
            jobs, quick, self._jobs, self._quick = self._jobs, self._quick, None, None
        if jobs is not None:
            jobs.close()
        if quick is not None:
            quick.close()
