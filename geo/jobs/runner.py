"""Jobs on Dask distributed: submit, follow, cancel — and the task that runs on a worker.

The jobs' cluster (:mod:`geo.jobs.cluster`) starts with the first job (or with the server):
a job that outgrows its worker's memory is stopped by Dask's nanny and reported as failed.

A job's row in PostGIS is the truth: the worker marks it running and stores the result or
the error; the submitting process marks it failed if the worker died (out of memory) and
dismissed if it was cancelled. Results survive a restart of the API.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dask
from distributed import Future
from sqlalchemy import Engine

from geo.db import jobs as db
from geo.errors import ConflictError, NotFoundError, NotReadyError, RateLimitedError, YizhanError
from geo.jobs.cluster import AnalysisCluster, worker_platform
from geo.jobs.processes import JobContext, admit, checked_inputs, process
from geo.settings import Settings
from geo.vocabulary import JobStatus

if TYPE_CHECKING:
    pass

logger = logging.getLogger("yizhan.jobs")
FINAL = (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED)
OPEN = (JobStatus.ACCEPTED, JobStatus.RUNNING)


def run_job(job_id: str, process_id: str, inputs: dict[str, Any], owner: str) -> str:
    """The task a worker runs: mark the job running, compute, store the result or the error."""
    platform = worker_platform()
    proc = process(process_id)
    _mark(platform.db, job_id, status=JobStatus.RUNNING, started_at=datetime.now(UTC))
    platform.refresh_stations()  # the stations as stored now, not as when the worker started

    def progress(share: int) -> None:
        _mark(platform.db, job_id, progress=max(0, min(99, share)))

    try:
        context = JobContext(owner, progress)
        result = proc.run(platform, proc.inputs.model_validate(inputs), context)
    except YizhanError as exc:
        _mark(platform.db, job_id, status=JobStatus.FAILED, message=str(exc), progress=100)
        raise
    _mark(platform.db, job_id, status=JobStatus.SUCCESSFUL, result=result, progress=100)
    return job_id


def _mark(engine: Engine, job_id: str, **values: Any) -> None:
    """Move a job on, unless it has ended meanwhile (a dismissed job stays dismissed)."""
    if values.get("status") in FINAL:
        values.setdefault("finished_at", datetime.now(UTC))
    with engine.begin() as conn:
        db.update_job(conn, job_id, values, open_in=OPEN)


class Jobs(AnalysisCluster):
    """Submits analyses to the Dask cluster and keeps their rows in step."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(settings, workers=settings.job_workers, name="jobs")
        self.engine = engine
        self._futures: dict[str, Future] = {}
        self._limit: int | None = None
        self._timers: dict[str, threading.Timer] = {}

    def memory_limit(self) -> int:
        """Bytes a job may use: the smallest worker's limit (the setting for a local cluster).

        An existing cluster is asked once (its workers' limits, while they are all up).
        """
        if self.settings.dask_scheduler and self._limit is None:
            workers = self.client().scheduler_info()["workers"].values()
            limits = [int(w["memory_limit"]) for w in workers if w.get("memory_limit")]
            self._limit = min(limits) if limits else None
        return self._limit or int(dask.utils.parse_bytes(self.settings.job_memory_limit))

    def submit(self, process_id: str, inputs: dict[str, Any], *, owner: str, demand: int) -> str:
        """Check the inputs and the job's size, record it, and send it to the cluster."""
        proc = process(process_id)
        checked = checked_inputs(proc, inputs)
        if proc.check is not None:
            proc.check(checked, self.settings)
        admit(proc, checked, demand, self.memory_limit())
        self._check_queue(owner)
        job_id = str(uuid.uuid4())
        row = {
            "id": job_id,
            "process": process_id,
            "owner": owner,
            "inputs": checked.model_dump(mode="json"),
            "status": JobStatus.ACCEPTED,
            "progress": 0,
        }
        with self.engine.begin() as conn:
            db.insert_job(conn, row)
        future = self.client().submit(
            run_job, job_id, process_id, row["inputs"], owner, key=f"job-{job_id}", pure=False
        )
        self._futures[job_id] = future
        timer = threading.Timer(self.settings.job_timeout_s, self._expire, args=(job_id,))
        timer.daemon = True
        timer.start()
        self._timers[job_id] = timer
        future.add_done_callback(lambda f: self._finished(job_id, f))
        return job_id

    def _check_queue(self, owner: str) -> None:
        """Refuse a job beyond the owner's share (429) or the cluster's queue (503)."""
        with self.engine.connect() as conn:
            waiting = db.open_jobs(conn, OPEN)
        if waiting.get(owner, 0) >= self.settings.jobs_per_user:
            msg = (
                f"you have {waiting[owner]} analyses queued or running; wait for one to end "
                "(or dismiss one) first"
            )
            raise RateLimitedError(msg, retry_after=30)
        if sum(waiting.values()) >= self.settings.jobs_waiting:
            msg = "the analysis cluster is full; try again in a minute"
            raise NotReadyError(msg)

    def wait(self, job_id: str, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a job to end; whether it has.

        Watches the job's row (the truth, written by the worker or the done callback) rather
        than the Dask future, so it works from any thread of any event loop.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            with self.engine.connect() as conn:
                row = db.job_row(conn, job_id)
            if row is None or row["status"] in FINAL:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)

    def _finished(self, job_id: str, future: Future) -> None:
        """Record what the worker could not: a cancellation, or a worker that died."""
        self._futures.pop(job_id, None)
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        if future.status == "finished":
            return
        with self.engine.begin() as conn:
            row = db.job_row(conn, job_id)
            if row is None or row["status"] in FINAL:
                return
            if future.cancelled():
                values: dict[str, Any] = {"status": JobStatus.DISMISSED, "message": "cancelled"}
            else:
                limit = dask.utils.format_bytes(self.memory_limit())
                values = {
                    "status": JobStatus.FAILED,
                    "message": f"the analysis stopped: it needed more than the {limit} a "
                    "worker may use, or its worker died; lower its size and try again",
                }
            db.update_job(conn, job_id, {**values, "finished_at": datetime.now(UTC)})

    def dismiss(self, job_id: str) -> None:
        """Cancel a job that has not ended (its worker stops the work); ended ones stay."""
        with self.engine.begin() as conn:
            row = db.job_row(conn, job_id)
            if row is None:
                msg = f"job {job_id} not found"
                raise NotFoundError(msg)
            if row["status"] in FINAL:
                msg = f"job {job_id} has already ended ({row['status']})"
                raise ConflictError(msg)
            ended = {"status": JobStatus.DISMISSED, "message": "cancelled"}
            db.update_job(conn, job_id, {**ended, "finished_at": datetime.now(UTC)})
        self._stop(job_id)

    def _expire(self, job_id: str) -> None:
        """A job still open after ``job_timeout_s`` fails, and its work is stopped."""
        limit = self.settings.job_timeout_s
        message = f"the analysis took longer than {limit:g} s and was stopped; ask for less"
        values = {"status": JobStatus.FAILED, "message": message, "progress": 100}
        _mark(self.engine, job_id, **values)  # (unless it ended meanwhile)
        self._stop(job_id)

    def _stop(self, job_id: str) -> None:
        """Cancel a job's task; a running task cannot be interrupted: its worker restarts."""
        future = self._futures.get(job_id)
        if future is None or future.done():
            return
        client = self.client()
        busy = [w for w, keys in client.processing().items() if future.key in keys]
        future.cancel(force=True)
        if busy:
            try:
                client.restart_workers(busy)
            except Exception:  # the worker may drop its connection as it restarts: it is gone
                logger.warning("restarting the worker of job %s: %s", job_id, busy, exc_info=True)

    def close(self) -> None:
        """Forget the timers, stop the client and the local cluster."""
        for timer in list(self._timers.values()):
            timer.cancel()
        super().close()
