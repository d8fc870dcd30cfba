"""Cases in the database: intake (idempotent), reading, transitions, deadlines, history.

Every change of a case appends a row to ``case_events`` in the same transaction (the table
refuses updates and deletes), and bumps the case's ``version``; a change sent with an older
version than the stored one is refused (optimistic locking), so two managers changing one
case at once never silently overwrite each other.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from geo.access import Area, require_area
from geo.cases.assign import Choice, Placement, TravelTimes, choose_member, place_case, team
from geo.cases.lifecycle import (
    AWAITING_CONTACT,
    ESCALATABLE,
    OPEN_STATUSES,
    check_transition,
    deadlines,
)
from geo.db import models as m
from geo.db.areas import member_area
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.validation import translate_db_error, validate_lon_lat

CHANNELS = ("web", "open311", "phone", "wechat", "walk_in", "hotline")


@dataclass(frozen=True)
class CaseInput:
    """What a reporter sends."""

    category: str
    lon: float
    lat: float
    description: str
    channel: str = "web"
    reporter_name: str | None = None
    reporter_contact: str | None = None

    def fingerprint(self) -> str:
        """A hash of the request, to tell a retry from a different request with the same key."""
        return hashlib.sha256(
            json.dumps(self.__dict__, sort_keys=True, default=str).encode()
        ).hexdigest()


@dataclass(frozen=True)
class Scope:
    """What the caller may see: everything, a district, a town, or one member's cases."""

    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    everything: bool = False


def _validate(data: CaseInput, categories: Sequence[str]) -> None:
    if data.category not in categories:
        msg = f"unknown category {data.category!r}; choose one of {', '.join(categories)}"
        raise ValidationError(msg)
    if not data.description.strip():
        msg = "description must not be empty"
        raise ValidationError(msg)
    if data.channel not in CHANNELS:
        msg = f"channel must be one of {', '.join(CHANNELS)}"
        raise ValidationError(msg)
    validate_lon_lat(data.lon, data.lat)


def record_event(
    conn: Connection,
    case_id: int,
    actor: str,
    action: str,
    *,
    frm: str | None = None,
    to: str | None = None,
    reason: str | None = None,
    data: Any = None,
) -> None:
    conn.execute(
        insert(m.CaseEvent).values(
            case_id=case_id,
            actor=actor,
            action=action,
            from_status=frm,
            to_status=to,
            reason=reason,
            data=data,
        )
    )


def submit_case(
    conn: Connection,
    data: CaseInput,
    *,
    actor: str,
    categories: Sequence[str],
    travel_times: TravelTimes,
    idempotency_key: str | None = None,
    boundary_m: float = 100.0,
    deadline_table: Mapping[str, tuple[float, float]] | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """Record a case, place it and assign it; returns the case and whether it is new.

    With ``idempotency_key``, a retry of the same request returns the case created the first
    time (``False``); the same key with a different request is a conflict.
    """
    _validate(data, categories)
    fingerprint = data.fingerprint()
    if idempotency_key:
        existing = _by_key(conn, idempotency_key, fingerprint)
        if existing is not None:
            return existing, False
    created = now or datetime.now(UTC)
    first_due, resolve_due = deadlines(data.category, created, deadline_table)
    placement = place_case(conn, data.lon, data.lat, boundary_m=boundary_m)
    values = {
        "reference": f"tmp-{uuid.uuid4().hex[:24]}",
        "category": data.category,
        "status": "submitted",
        "description": data.description.strip(),
        "channel": data.channel,
        "reporter_name": data.reporter_name,
        "reporter_contact": data.reporter_contact,
        "grid_id": placement.grid_id,
        "town_id": placement.town_id,
        "district_id": placement.district_id,
        "queue": placement.queue,
        "nearby_grid_ids": placement.nearby_grid_ids,
        "first_contact_due": first_due,
        "resolution_due": resolve_due,
        "idempotency_key": idempotency_key,
        "request_hash": fingerprint,
        "version": 1,
        "created_at": created,
        "updated_at": created,
        "geom": f"SRID=4326;POINT({data.lon} {data.lat})",
    }
    try:
        with translate_db_error(), conn.begin_nested():
            case_id = int(conn.scalar(insert(m.Case).values(**values).returning(m.Case.id)) or 0)
    except ConflictError:
        if idempotency_key:  # a concurrent retry won the race: answer with its case
            existing = _by_key(conn, idempotency_key, fingerprint)
            if existing is not None:
                return existing, False
        raise
    reference = f"JM-{created:%Y%m%d}-{case_id:06d}"
    conn.execute(update(m.Case).where(m.Case.id == case_id).values(reference=reference))
    record_event(
        conn,
        case_id,
        actor,
        "submitted",
        to="submitted",
        data={"channel": data.channel, "grid": placement.grid_code, "queue": placement.queue},
    )
    choice = _choose(conn, placement, data, travel_times)
    _apply_choice(conn, case_id, choice, actor="system", version=1)
    return get_case(conn, case_id), True


def _by_key(conn: Connection, key: str, fingerprint: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(m.Case.id, m.Case.request_hash).where(m.Case.idempotency_key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        msg = "this Idempotency-Key was already used for a different request"
        raise ConflictError(msg)
    return get_case(conn, int(row.id))


def _choose(
    conn: Connection, placement: Placement, data: CaseInput, travel_times: TravelTimes
) -> Choice:
    members = team(conn, placement.town_id) if placement.town_id is not None else []
    return choose_member(
        placement, data.category, members, lon=data.lon, lat=data.lat, travel_times=travel_times
    )


def _apply_choice(
    conn: Connection, case_id: int, choice: Choice, *, actor: str, version: int
) -> None:
    if choice.member_id is None:
        conn.execute(
            update(m.Case)
            .where(m.Case.id == case_id)
            .values(queue=choice.queue, assignment=choice.explanation)
        )
        record_event(
            conn,
            case_id,
            actor,
            "queued",
            reason=choice.explanation.get("reason"),
            data={"queue": choice.queue},
        )
        return
    conn.execute(
        update(m.Case)
        .where(m.Case.id == case_id, m.Case.version == version)
        .values(
            status="assigned",
            member_id=choice.member_id,
            assignment=choice.explanation,
            version=m.Case.version + 1,
            updated_at=func.now(),
        )
    )
    record_event(
        conn,
        case_id,
        actor,
        "assigned",
        frm="submitted",
        to="assigned",
        reason=choice.explanation.get("reason"),
        data={"member_id": choice.member_id, "rule": choice.explanation.get("rule")},
    )


CASE_SQL = text("""
    SELECT c.*, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, g.code AS grid_code, t.name AS town_name,
           d.name AS district_name, gm.name AS member_name, gm.code AS member_code
    FROM cases c LEFT JOIN grids g ON g.id = c.grid_id LEFT JOIN towns t ON t.id = c.town_id
    LEFT JOIN districts d ON d.id = c.district_id LEFT JOIN grid_members gm ON gm.id = c.member_id
""")


def get_case(conn: Connection, case_id: int, scope: Scope | None = None) -> dict[str, Any]:
    """One case (404 also when it is outside the caller's scope: no hint that it exists)."""
    row = conn.execute(text(f"{CASE_SQL.text} WHERE c.id = :id"), {"id": case_id}).first()
    if row is None or (scope is not None and not in_scope(dict(row._mapping), scope)):
        msg = f"case {case_id} not found"
        raise NotFoundError(msg)
    out = dict(row._mapping)
    out.pop("geom", None)
    return out


def case_by_reference(conn: Connection, reference: str) -> dict[str, Any]:
    """One case by its public reference (404 when there is none)."""
    case_id = conn.scalar(select(m.Case.id).where(m.Case.reference == reference))
    if case_id is None:
        msg = f"request {reference} not found"
        raise NotFoundError(msg)
    return get_case(conn, int(case_id))


def in_scope(case: Mapping[str, Any], scope: Scope) -> bool:
    """Whether a case is visible to a caller with ``scope``."""
    if scope.everything:
        return True
    if scope.member_id is not None:
        return case.get("member_id") == scope.member_id
    if scope.town_id is not None:
        return case.get("town_id") == scope.town_id
    if scope.district_id is not None:
        return case.get("district_id") == scope.district_id
    return False


def _scope_sql(scope: Scope) -> tuple[str, dict[str, Any]]:
    if scope.everything:
        return "TRUE", {}
    if scope.member_id is not None:
        return "c.member_id = :s_member", {"s_member": scope.member_id}
    if scope.town_id is not None:
        return "c.town_id = :s_town", {"s_town": scope.town_id}
    if scope.district_id is not None:
        return "c.district_id = :s_district", {"s_district": scope.district_id}
    return "FALSE", {}


def list_cases(
    conn: Connection,
    scope: Scope,
    *,
    statuses: Sequence[str] = (),
    category: str | None = None,
    overdue_at: datetime | None = None,
    due_before: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Cases visible in ``scope``, newest first, with the total count."""
    where, args = _scope_sql(scope)
    clauses = [where]
    if statuses:
        clauses.append("c.status = ANY(:statuses)")
        args["statuses"] = list(statuses)
    if category:
        clauses.append("c.category = :category")
        args["category"] = category
    if overdue_at is not None or due_before is not None:
        args["open"] = list(OPEN_STATUSES)
    if overdue_at is not None:
        clauses.append("c.status = ANY(:open) AND c.resolution_due < :overdue_at")
        args["overdue_at"] = overdue_at
    if due_before is not None:
        clauses.append("c.status = ANY(:open) AND c.resolution_due < :due_before")
        args["due_before"] = due_before
    cond = " AND ".join(f"({c})" for c in clauses)
    total = conn.scalar(text(f"SELECT count(*) FROM cases c WHERE {cond}"), args) or 0
    rows = conn.execute(
        text(
            f"{CASE_SQL.text} WHERE {cond} ORDER BY c.created_at DESC, c.id DESC "
            "LIMIT :limit OFFSET :offset"
        ),
        {**args, "limit": limit, "offset": offset},
    )
    out = []
    for r in rows:
        d = dict(r._mapping)
        d.pop("geom", None)
        out.append(d)
    return out, int(total)


def transition(
    conn: Connection,
    case_id: int,
    target: str,
    *,
    actor: str,
    expected_version: int,
    reason: str | None = None,
    member_id: int | None = None,
    scope: Scope | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Move a case to ``target`` if the lifecycle allows it and nobody changed it meanwhile."""
    case = get_case(conn, case_id, scope)
    check_transition(case["status"], target)
    if case["version"] != expected_version:
        msg = (
            f"case {case_id} was changed meanwhile (now version {case['version']}, you sent "
            f"{expected_version}); reload it and try again"
        )
        raise ConflictError(msg)
    when = now or datetime.now(UTC)
    values: dict[str, Any] = {"status": target, "version": m.Case.version + 1, "updated_at": when}
    if target == "assigned":
        if member_id is None:
            msg = "assigning a case needs member_id"
            raise ValidationError(msg)
        place = member_area(conn, member_id)
        if place is None:
            msg = f"grid member {member_id} not found"
            raise NotFoundError(msg)
        if scope is not None:
            area = Area(scope.district_id, scope.town_id, everything=scope.everything)
            require_area(area, place, f"grid member {member_id}")
        values |= {"member_id": member_id, "queue": "grid"}
    if target == "rejected" and not (reason or "").strip():
        msg = "rejecting a report needs a reason (spam, or the reference it duplicates)"
        raise ValidationError(msg)
    if target == "accepted" and case["first_contact_at"] is None:
        values["first_contact_at"] = when
    if target == "resolved":
        values["resolved_at"] = when
    if target == "closed":
        values["closed_at"] = when
    if target == "escalated":
        values["escalated"] = True
    if target == "reopened":
        values |= {"resolved_at": None, "closed_at": None}
    result = conn.execute(
        update(m.Case)
        .where(m.Case.id == case_id, m.Case.version == expected_version)
        .values(**values)
    )
    if result.rowcount == 0:
        msg = f"case {case_id} was changed meanwhile; reload it and try again"
        raise ConflictError(msg)
    record_event(
        conn,
        case_id,
        actor,
        "status",
        frm=case["status"],
        to=target,
        reason=reason,
        data={"member_id": member_id} if member_id else None,
    )
    return get_case(conn, case_id)


def events(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """A case's history, oldest first."""
    table = m.CaseEvent.__table__
    rows = conn.execute(select(table).where(table.c.case_id == case_id).order_by(table.c.id))
    keys = ("at", "actor", "action", "from_status", "to_status", "reason", "data")
    return [{k: getattr(e, k) for k in keys} for e in rows]


def escalate_overdue(
    conn: Connection, *, now: datetime | None = None, actor: str = "system"
) -> list[int]:
    """Escalate open cases past their resolution deadline, or not contacted in time."""
    when = now or datetime.now(UTC)
    rows = conn.execute(
        text("""
        SELECT id, version, status,
               CASE WHEN resolution_due < :now THEN 'resolution deadline passed'
                    ELSE 'first contact deadline passed' END AS why
        FROM cases
        WHERE status = ANY(:escalatable)
          AND (resolution_due < :now
               OR (first_contact_at IS NULL AND first_contact_due < :now
                   AND status = ANY(:awaiting)))
        ORDER BY id FOR UPDATE SKIP LOCKED
    """),
        {"now": when, "escalatable": list(ESCALATABLE), "awaiting": list(AWAITING_CONTACT)},
    ).all()
    done = []
    for r in rows:
        transition(
            conn, r.id, "escalated", actor=actor, expected_version=r.version, reason=r.why, now=when
        )
        done.append(int(r.id))
    return done


def due_soon_before(now: datetime | None, hours: float) -> datetime:
    """The cut-off of the due-soon list."""
    return (now or datetime.now(UTC)) + timedelta(hours=hours)


def public_stats(conn: Connection, *, min_count: int = 5) -> list[dict[str, Any]]:
    """Case counts per grid for the public: no locations, no people, no small counts.

    A grid with fewer than ``min_count`` cases is not listed at all (listing it, even with
    its count hidden, would tell which grid holds a single case); an open count below
    ``min_count`` is shown as ``None``.
    """
    rows = conn.execute(
        text("""
        SELECT g.code AS grid, t.name AS town, d.name AS district,
               count(c.id) AS cases,
               count(c.id) FILTER (WHERE c.status = ANY(:open)) AS open_cases
        FROM grids g JOIN towns t ON t.id = g.town_id JOIN districts d ON d.id = t.district_id
        JOIN cases c ON c.grid_id = g.id
        GROUP BY g.code, t.name, d.name HAVING count(c.id) >= :min ORDER BY g.code
    """),
        {"open": list(OPEN_STATUSES), "min": min_count},
    )
    return [
        {
            "grid": r.grid,
            "town": r.town,
            "district": r.district,
            "cases": int(r.cases),
            "open_cases": None if 0 < r.open_cases < min_count else int(r.open_cases),
            "suppressed": 0 < r.open_cases < min_count,
        }
        for r in rows
    ]


__all__ = ["IntegrityError", "submit_case"]
