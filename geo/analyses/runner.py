"""Jobs on Dask distributed: submit, follow, cancel — and the task that runs on a worker.

The jobs' cluster (:mod:`geo.analyses.cluster`) starts with the first job (or with the server):
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
from typing import Any

import dask
from distributed import Client, Future
from distributed.scheduler import KilledWorker
from sqlalchemy import Connection, Engine

from geo.analyses.base import Finished, Pending
from geo.analyses.cluster import AnalysisCluster, worker_platform
from geo.analyses.processes import JobContext, admit, checked_inputs, process
from geo.db import jobs as db
from geo.errors import ConflictError, NotFoundError, NotReadyError, RateLimitedError, YizhanError
from geo.settings import Settings
from geo.vocabulary import JobStatus

logger = logging.getLogger("yizhan.jobs")
FINAL = (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED)
OPEN = (JobStatus.ACCEPTED, JobStatus.RUNNING)


def run_job(job_id: str, process_id: str, inputs: dict[str, Any], owner: str) -> str:
    """The task a worker runs: mark the job running, compute, store the result or the error.

    A job dismissed before its turn is not started.
    """
    platform = worker_platform()
    proc = process(process_id)
    if not _mark(platform.db, job_id, status=JobStatus.RUNNING, started_at=datetime.now(UTC)):
        return job_id  # dismissed (or failed) while it waited
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


def _scheduler_keys(dask_scheduler: Any) -> list[str]:
    """The keys of the tasks a scheduler holds (runs on the scheduler)."""
    return [str(k) for k in dask_scheduler.tasks]


def _mark(engine: Engine, job_id: str, **values: Any) -> bool:
    """Move a job on, unless it has ended meanwhile (a dismissed job stays dismissed).

    Whether it was moved.
    """
    if values.get("status") in FINAL:
        values.setdefault("finished_at", datetime.now(UTC))
    with engine.begin() as conn:
        return db.update_job(conn, job_id, values, open_in=OPEN)


#: how long after a dismissal restarts a worker its deaths are taken for that restart
RESTART_GRACE_S = 30.0
#: how long a restarted worker may take to come back before new workers replace it
RESTART_WAIT_S = 60.0
#: how many times a job is sent at most (the first time and resends after others' restarts)
MAX_SENDS = 4


class Jobs(AnalysisCluster):
    """Submits analyses to the Dask cluster and keeps their rows in step."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(settings, workers=settings.job_workers, name="jobs")
        self.engine = engine
        self._futures: dict[str, Future] = {}
        self._limit: int | None = None
        self._timers: dict[str, threading.Timer] = {}
        #: what each open job asked (to send it again) and how often it was sent
        self._asked: dict[str, tuple[str, dict[str, Any], str]] = {}
        self._sent: dict[str, int] = {}
        #: until when a worker death may be a dismissal's restart (monotonic seconds)
        self._restarting_until = 0.0
        self._started = datetime.now(UTC)

    def connected(self, client: Client) -> None:
        """Once connected: fail the jobs a stopped process left open."""
        self.fail_orphans(client)

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
        """Check the inputs and the job's size, record it, and send it to the cluster.

        The owner's share and the cluster's queue are counted and the job recorded in one
        transaction, one admission at a time: two requests at once cannot both take the last
        place.
        """
        proc = process(process_id)
        checked = checked_inputs(proc, inputs)
        if proc.check is not None:
            proc.check(checked, self.settings)
        admit(proc, checked, demand, self.memory_limit())
        self.client()  # the cluster is up (and jobs left open by a crash are failed) first
        job_id = str(uuid.uuid4())
        asked: dict[str, Any] = checked.model_dump(mode="json")
        row = {
            "id": job_id,
            "process": process_id,
            "owner": owner,
            "inputs": asked,
            "status": JobStatus.ACCEPTED,
            "progress": 0,
        }
        with self.engine.begin() as conn:
            db.lock_admissions(conn)
            self._check_queue(conn, owner)
            db.insert_job(conn, row)
        self._send(job_id, process_id, asked, owner)
        timer = threading.Timer(self.settings.job_timeout_s, self._expire, args=(job_id,))
        timer.daemon = True
        timer.start()
        self._timers[job_id] = timer
        return job_id

    def outcome(self, job_id: str, *, pending_only: bool = False) -> Finished | Pending:
        """The job's answer when it has succeeded, else (or always) its row as it stands."""
        with self.engine.connect() as conn:
            row = db.job_row(conn, job_id) or {}
            if row.get("status") == JobStatus.SUCCESSFUL and not pending_only:
                return Finished(db.job_result(conn, job_id))
        return Pending(row)

    def _send(self, job_id: str, process_id: str, inputs: dict[str, Any], owner: str) -> None:
        """Send a recorded job to the cluster (again, after its worker went away unstarted)."""
        self._sent[job_id] = sent = self._sent.get(job_id, 0) + 1
        future = self.client().submit(
            run_job, job_id, process_id, inputs, owner, key=f"job-{job_id}-{sent}", pure=False
        )
        self._futures[job_id] = future
        self._asked[job_id] = (process_id, inputs, owner)
        future.add_done_callback(lambda f: self._finished(job_id, f))

    def _check_queue(self, conn: Connection, owner: str) -> None:
        """Refuse a job beyond the owner's share (429) or the cluster's queue (503)."""
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
        """Record what the worker could not: a cancellation, a worker that died, an error.

        A job whose worker went away before it started (another job's dismissal restarted
        the worker) is sent again: only the job that was running can have been the cause.
        """
        if self._futures.get(job_id) is not future:
            return  # an earlier attempt's end
        with self.engine.begin() as conn:
            row = db.job_row(conn, job_id)
            if row is None or row["status"] in FINAL:
                self._forget(job_id)
                return
            if future.status == "finished":  # the task ended without recording the job's end
                message = "the analysis ended on its worker without a result; run it again"
                values = {"status": JobStatus.FAILED, "message": message, "progress": 100}
                db.update_job(conn, job_id, {**values, "finished_at": datetime.now(UTC)})
                self._forget(job_id)
                return
            error = None if future.cancelled() else future.exception()
            # a job whose worker died before it started, or while a dismissal was restarting
            # the worker (a job just begun there), was not the cause: it is sent again
            restarting = time.monotonic() < self._restarting_until
            if (
                isinstance(error, KilledWorker)
                and (row["status"] == JobStatus.ACCEPTED or restarting)
                and self._sent.get(job_id, 0) < MAX_SENDS
            ):
                resend = True
            else:
                resend = False
                values = {"status": JobStatus.FAILED, "message": self._failure(future, error)}
                if future.cancelled():
                    values = {"status": JobStatus.DISMISSED, "message": "cancelled"}
                db.update_job(conn, job_id, {**values, "finished_at": datetime.now(UTC)})
        if resend and job_id in self._asked:
            self._send(job_id, *self._asked[job_id])
        else:
            self._forget(job_id)

    def _failure(self, future: Future, error: BaseException | None) -> str:
        """What to tell the owner of a job that failed on its worker."""
        if isinstance(error, KilledWorker) or error is None:
            limit = dask.utils.format_bytes(self.memory_limit())
            return (
                f"the analysis stopped: it needed more than the {limit} a worker may use, or "
                "its worker died; lower its size and try again"
            )
        return f"the analysis failed: {type(error).__name__}: {str(error)[:300]}"

    def _forget(self, job_id: str) -> None:
        self._futures.pop(job_id, None)
        self._asked.pop(job_id, None)
        self._sent.pop(job_id, None)
        timer = self._timers.pop(job_id, None)
        if timer is not None:
            timer.cancel()

    def dismiss(self, job_id: str) -> None:
        """Cancel a job that has not ended; ended ones stay.

        A job still waiting leaves the queue; a running one is stopped by restarting its
        worker, and the jobs waiting on that worker are sent again (none fails for it).
        """
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
        """Cancel a job's task; a running task cannot be interrupted: its worker restarts.

        The restart runs on a thread of its own: whoever dismissed the job has their answer at
        once, and the jobs waiting run as soon as the worker is back.
        """
        future = self._futures.get(job_id)
        if future is None or future.done():
            return
        client = self.client()
        busy = [w for w, keys in client.processing().items() if future.key in keys]
        future.cancel(force=True)
        if busy:
            self._restarting_until = time.monotonic() + RESTART_GRACE_S
            threading.Thread(
                target=self._restart, args=(job_id, busy), name="jobs-restart", daemon=True
            ).start()

    def _restart(self, job_id: str, busy: list[str]) -> None:
        """Restart the workers of a stopped job; renew the local workers if they stay away."""
        logger.info("restarting the worker of job %s", job_id)
        try:
            client = self.client()
            expected = len(client.scheduler_info()["workers"])
            client.restart_workers(busy, timeout=RESTART_WAIT_S, raise_for_error=False)
            if len(client.scheduler_info()["workers"]) < expected:
                self.renew_workers(expected)
        except Exception as exc:  # the service is closing, or the cluster went away
            logger.warning("restarting the worker of job %s: %s", job_id, exc)

    def renew_workers(self, count: int) -> None:
        """Replace a local cluster's workers by ``count`` new ones (a worker did not come back).

        The jobs waiting stay queued on the scheduler and run on the new workers; a job that
        was running on one of them is sent again (a restart, not the job, ended it). An
        existing cluster (``YIZHAN_DASK_SCHEDULER``) is its operator's: it is only reported.
        """
        if self._cluster is None:
            logger.error("a worker of the analysis cluster did not come back after a restart")
            return
        logger.warning("a worker did not come back after a restart: starting %d new ones", count)
        self._restarting_until = time.monotonic() + RESTART_GRACE_S + RESTART_WAIT_S
        cluster = self._cluster
        cluster.scale(0)  # the old ones are closed before new ones are asked for (names repeat)
        deadline = time.monotonic() + RESTART_WAIT_S
        while cluster.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        cluster.scale(count)
        self.client().wait_for_workers(count, timeout=RESTART_WAIT_S)

    def fail_orphans(self, client: Client) -> int:
        """Fail the jobs left open by a process that stopped (no task of theirs is known).

        Jobs recorded before this process started whose task the cluster does not hold can
        never end otherwise, and would keep their owner at the limit. Returns how many.
        """
        known = set(client.run_on_scheduler(_scheduler_keys))
        with self.engine.begin() as conn:
            open_ids = db.open_job_ids(conn, OPEN, before=self._started)
            orphans = [i for i in open_ids if not any(k.startswith(f"job-{i}") for k in known)]
            message = "the service stopped while this analysis was open; run it again"
            for job_id in orphans:
                values = {"status": JobStatus.FAILED, "message": message, "progress": 100}
                db.update_job(conn, job_id, {**values, "finished_at": datetime.now(UTC)})
        if orphans:
            logger.warning("%d job(s) left open by a stopped process were failed", len(orphans))
        return len(orphans)

    def close(self) -> None:
        """Forget the timers, stop the client and the local cluster."""
        for timer in list(self._timers.values()):
            timer.cancel()
        super().close()
