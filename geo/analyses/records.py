"""Jobs as their owners see them: one's own (an admin's: everyone's), their results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from geo.db import jobs as db
from geo.errors import NotFoundError
from geo.users import UserInfo
from geo.vocabulary import JobStatus, Role


def own_job(conn: Connection, job_id: str, who: UserInfo) -> dict[str, Any]:
    """The job's row when ``who`` may see it (their own, or any for an admin), else 404."""
    row = db.job_row(conn, job_id)
    if row is None or (who.role != Role.ADMIN and row["owner"] != who.username):
        msg = f"job {job_id} not found"
        raise NotFoundError(msg)
    return row


def jobs_of(conn: Connection, who: UserInfo) -> list[dict[str, Any]]:
    """``who``'s jobs, newest first (everyone's for an admin)."""
    return db.select_jobs(conn, None if who.role == Role.ADMIN else who.username)


def job_answer(conn: Connection, job_id: str, who: UserInfo) -> tuple[dict[str, Any], Any]:
    """One of ``who``'s jobs and its result (None until it has succeeded)."""
    row = own_job(conn, job_id, who)
    ok = row["status"] == JobStatus.SUCCESSFUL
    return row, db.job_result(conn, job_id) if ok else None
