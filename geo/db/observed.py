"""Counts an operator watches (``/metrics``): jobs by status, the webhook outbox."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from geo.db import models as m


def job_counts(conn: Connection) -> dict[str, int]:
    """How many jobs are in each status."""
    rows = conn.execute(select(m.Job.status, func.count()).group_by(m.Job.status))
    return {str(status): int(n) for status, n in rows}


def outbox_counts(conn: Connection) -> dict[str, int]:
    """Notifications waiting for delivery: ``pending`` (never tried) and ``failing`` (retrying)."""
    n = m.Notification
    failing = func.count().filter(n.attempts > 0)
    rows = conn.execute(select(func.count(), failing).where(n.delivered_at.is_(None))).one()
    return {"pending": int(rows[0]) - int(rows[1]), "failing": int(rows[1])}
