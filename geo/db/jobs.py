"""Job rows: what was asked, by whom, how it went, and the result or the error."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update

from geo.db import models as m

_COLUMNS = (
    m.Job.id,
    m.Job.process,
    m.Job.owner,
    m.Job.inputs,
    m.Job.status,
    m.Job.message,
    m.Job.progress,
    m.Job.created_at,
    m.Job.started_at,
    m.Job.finished_at,
)


def insert_job(conn: Connection, values: dict[str, Any]) -> None:
    """Record a new job."""
    conn.execute(insert(m.Job).values(**values))


def update_job(
    conn: Connection, job_id: str, values: dict[str, Any], *, open_in: Sequence[str] = ()
) -> bool:
    """Change a job's status, timings, result or message (only while in ``open_in``, if given).

    Returns whether the job was changed.
    """
    stmt = update(m.Job).where(m.Job.id == job_id)
    if open_in:
        stmt = stmt.where(m.Job.status.in_(open_in))
    return bool(conn.execute(stmt.values(**values)).rowcount)


def job_row(conn: Connection, job_id: str) -> dict[str, Any] | None:
    """A job without its result, or None."""
    row = conn.execute(select(*_COLUMNS).where(m.Job.id == job_id)).first()
    return None if row is None else dict(row._mapping)


def job_result(conn: Connection, job_id: str) -> Any:
    """A job's stored result (None until it has one)."""
    return conn.scalar(select(m.Job.result).where(m.Job.id == job_id))


def open_jobs(conn: Connection, open_statuses: Sequence[str]) -> dict[str, int]:
    """How many jobs each owner has in ``open_statuses`` (queued or running)."""
    q = (
        select(m.Job.owner, func.count())
        .where(m.Job.status.in_(open_statuses))
        .group_by(m.Job.owner)
    )
    return {str(owner): int(n) for owner, n in conn.execute(q)}


#: the advisory lock that admissions take (count the open jobs, then record one, in turn)
_ADMISSION_LOCK = 0x79_7A_6A_6F_62  # "yzjob"


def lock_admissions(conn: Connection) -> None:
    """Take the job admission lock until the transaction ends (one admission at a time)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADMISSION_LOCK})


def open_job_ids(conn: Connection, open_statuses: Sequence[str], before: datetime) -> list[str]:
    """Jobs still open that were recorded before ``before``."""
    q = select(m.Job.id).where(m.Job.status.in_(open_statuses), m.Job.created_at < before)
    return [str(i) for i in conn.scalars(q)]


def select_jobs(conn: Connection, owner: str | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs (of ``owner``, or everyone's), newest first."""
    q = select(*_COLUMNS).order_by(m.Job.created_at.desc()).limit(limit)
    if owner is not None:
        q = q.where(m.Job.owner == owner)
    return [dict(r._mapping) for r in conn.execute(q)]
