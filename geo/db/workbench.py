"""Queries of the workbench: callbacks, attachments and the notifications outbox.

Notes and callbacks are entries of the case's append-only history (:func:`geo.db.cases.
insert_event`); attachments and notifications have tables of their own (migration 0007).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from geo.db import models as m

_n = m.Notification.__table__.c
_a = m.CaseAttachment.__table__.c


def callback_since_resolution(conn: Connection, case_id: int) -> bool:
    """Whether a callback (回访) was recorded after the case was last resolved."""
    e = m.CaseEvent
    resolved = (
        select(func.max(e.at))
        .where(e.case_id == case_id, e.to_status == "resolved")
        .scalar_subquery()
    )
    found = conn.scalar(
        select(func.count())
        .select_from(e)
        .where(e.case_id == case_id, e.action == "callback", e.at >= func.coalesce(resolved, e.at))
    )
    return bool(found)


#: the advisory-lock class of attachment quotas (with the case id)
_ATTACHMENT_LOCK = 7_001


def insert_attachment(
    conn: Connection, case_id: int, name: str, media_type: str, content: bytes, actor: str
) -> dict[str, Any]:
    """Store an attachment; its id, name, type, size and time."""
    row = conn.execute(
        insert(m.CaseAttachment)
        .values(
            case_id=case_id,
            name=name,
            media_type=media_type,
            size=len(content),
            content=content,
            actor=actor,
        )
        .returning(_a.id, _a.name, _a.media_type, _a.size, _a.actor, _a.at)
    ).one()
    return dict(row._mapping)


def attachment_usage(
    conn: Connection, case_id: int, actor: str, since: datetime
) -> tuple[int, int, int]:
    """A case's attachments (count, bytes) and the bytes ``actor`` uploaded since ``since``.

    Takes the case's attachment lock until the transaction ends, so two uploads at once are
    counted one after the other.
    """
    conn.execute(select(func.pg_advisory_xact_lock(_ATTACHMENT_LOCK, case_id)))
    count, size = conn.execute(
        select(func.count(), func.coalesce(func.sum(_a.size), 0)).where(_a.case_id == case_id)
    ).one()
    daily = conn.scalar(
        select(func.coalesce(func.sum(_a.size), 0)).where(_a.actor == actor, _a.at >= since)
    )
    return int(count), int(size), int(daily or 0)


def delete_attachment(conn: Connection, case_id: int, attachment_id: int) -> dict[str, Any] | None:
    """Remove an attachment of a case; its name and uploader, or None when there is none."""
    row = conn.execute(
        delete(m.CaseAttachment)
        .where(_a.case_id == case_id, _a.id == attachment_id)
        .returning(_a.name, _a.actor)
    ).first()
    return None if row is None else dict(row._mapping)


def attachment_list(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """A case's attachments without their bytes, oldest first."""
    rows = conn.execute(
        select(_a.id, _a.name, _a.media_type, _a.size, _a.actor, _a.at)
        .where(_a.case_id == case_id)
        .order_by(_a.id)
    )
    return [dict(r._mapping) for r in rows]


def attachment_bytes(conn: Connection, case_id: int, attachment_id: int) -> dict[str, Any] | None:
    """One attachment of a case with its bytes, or None."""
    row = conn.execute(
        select(_a.name, _a.media_type, _a.content, _a.actor).where(
            _a.case_id == case_id, _a.id == attachment_id
        )
    ).first()
    return None if row is None else dict(row._mapping)


def insert_notification(conn: Connection, values: dict[str, Any]) -> int:
    """Queue one notification; its id."""
    return int(conn.execute(insert(m.Notification).values(**values).returning(_n.id)).scalar_one())


def _addressed_to(
    member_id: int | None, town_id: int | None, district_id: int | None, everything: bool
) -> ColumnElement[bool]:
    """Notifications a person receives: a member's own, or their area's managers'."""
    mine: list[ColumnElement[bool]] = []
    if member_id is not None:
        mine.append(and_(_n.audience == "member", _n.member_id == member_id))
    if everything:
        mine.append(_n.audience == "managers")
    elif town_id is not None:
        mine.append(and_(_n.audience == "managers", _n.town_id == town_id))
    elif district_id is not None:
        mine.append(and_(_n.audience == "managers", _n.district_id == district_id))
    return or_(*mine) if mine else false()


def notifications_for(
    conn: Connection,
    *,
    member_id: int | None,
    town_id: int | None,
    district_id: int | None,
    everything: bool,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """A person's notifications, newest first: a member's own, or their area's managers'."""
    cols = [c for c in m.Notification.__table__.c if c.key != "last_error"]
    mine = _addressed_to(member_id, town_id, district_id, everything)
    rows = conn.execute(select(*cols).where(mine).order_by(_n.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]


def mark_read(
    conn: Connection,
    ids: list[int],
    now: datetime,
    *,
    member_id: int | None,
    town_id: int | None,
    district_id: int | None,
    everything: bool,
) -> int:
    """Mark read those of ``ids`` the person receives; how many changed."""
    mine = _addressed_to(member_id, town_id, district_id, everything)
    done = conn.execute(
        update(m.Notification).where(_n.id.in_(ids), _n.read_at.is_(None), mine).values(read_at=now)
    )
    return int(done.rowcount or 0)


def claim_deliveries(
    conn: Connection, now: datetime, limit: int, lease_until: datetime
) -> list[dict[str, Any]]:
    """Claim undelivered notifications that are due: none is due again before ``lease_until``.

    Locked only for this statement's transaction (another deliverer skips them meanwhile);
    commit it before delivering, so that no row stays locked while a receiver is slow.
    """
    due = (
        select(_n.id)
        .where(_n.delivered_at.is_(None), _n.next_attempt_at <= now)
        .order_by(_n.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = conn.execute(
        update(m.Notification)
        .where(_n.id.in_(due))
        .values(next_attempt_at=lease_until)
        .returning(*m.Notification.__table__.columns)
    )
    return sorted((dict(r._mapping) for r in rows), key=lambda r: r["id"])


def delivery_done(conn: Connection, notification_id: int, now: datetime) -> None:
    """Record a delivery to every webhook."""
    conn.execute(
        update(m.Notification)
        .where(_n.id == notification_id)
        .values(delivered_at=now, attempts=_n.attempts + 1, last_error=None)
    )


def delivery_failed(conn: Connection, notification_id: int, retry_at: datetime, error: str) -> None:
    """Record a failed attempt and when to try again."""
    conn.execute(
        update(m.Notification)
        .where(_n.id == notification_id)
        .values(attempts=_n.attempts + 1, next_attempt_at=retry_at, last_error=error[:500])
    )


def update_member_row(conn: Connection, member_id: int, values: dict[str, Any]) -> None:
    """Change a grid member's leave, capacity or skills."""
    conn.execute(update(m.GridMember).where(m.GridMember.id == member_id).values(**values))
