"""Intake: a report becomes a placed, assigned case (idempotent).

A report is checked (category, description, channel, a valid point), placed (grid, town or
district, see :func:`place_case`), recorded with its deadlines and a public reference, and
given to a member by the rules of :mod:`geo.cases.assign` — all in one transaction, with
every step in the case's history. With an idempotency key, a retry of the same request
returns the case created the first time; the same key with another request is a conflict.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import get_case
from geo.cases.assign import Choice, Placement, TravelTimes, choose_member
from geo.cases.lifecycle import OPEN_STATUSES, deadlines
from geo.cases.notify import notify_intake
from geo.db import cases as db
from geo.db.areas import area_at
from geo.errors import ConflictError, ValidationError
from geo.validation import translate_db_error, validate_lon_lat
from geo.vocabulary import CaseStatus, Channel


@dataclass(frozen=True)
class CaseInput:
    """What a reporter sends (WGS-84)."""

    category: str
    lon: float
    lat: float
    description: str
    channel: str = Channel.WEB
    reporter_name: str | None = None
    reporter_contact: str | None = None

    def fingerprint(self) -> str:
        """A hash of the request, to tell a retry from a different request with the same key."""
        return hashlib.sha256(
            json.dumps(self.__dict__, sort_keys=True, default=str).encode()
        ).hexdigest()


def _validate(data: CaseInput, categories: Sequence[str]) -> None:
    if data.category not in categories:
        msg = f"unknown category {data.category!r}; choose one of {', '.join(categories)}"
        raise ValidationError(msg, zh="未知的诉求类别")
    if not data.description.strip():
        msg = "description must not be empty"
        raise ValidationError(msg, zh="请填写诉求内容")
    if data.channel not in Channel.codes():
        msg = f"channel must be one of {', '.join(Channel.codes())}"
        raise ValidationError(msg, zh="受理渠道无效")
    validate_lon_lat(data.lon, data.lat)


def place_case(conn: Connection, lon: float, lat: float, *, boundary_m: float = 100.0) -> Placement:
    """Where a point falls: its grid (and grids within ``boundary_m``), else town, else district.

    No grid: the town's queue; no town: the nearest district's queue. A case is never dropped.
    """
    grid = db.grid_at(conn, lon, lat)
    if grid is not None:
        near = db.grids_near(conn, lon, lat, boundary_m, other_than=grid["id"])
        return Placement(
            grid["id"],
            grid["code"],
            grid["town_id"],
            grid["district_id"],
            "grid",
            [i for i, _ in near],
            [c for _, c in near],
        )
    town, district = area_at(conn, lon, lat)
    if town is not None:
        return Placement(None, None, town, district, "town")
    return Placement(None, None, None, db.nearest_district(conn, lon, lat), "district")


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
    """Record a case, place it and assign it; returns the case and whether it is new."""
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
        "status": CaseStatus.SUBMITTED,
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
    }
    try:
        with translate_db_error(), conn.begin_nested():
            case_id = db.insert_case(conn, values, data.lon, data.lat)
    except ConflictError:
        if idempotency_key:  # a concurrent retry won the race: answer with its case
            existing = _by_key(conn, idempotency_key, fingerprint)
            if existing is not None:
                return existing, False
        raise
    db.update_case(conn, case_id, {"reference": f"JM-{created:%Y%m%d}-{case_id:06d}"})
    db.insert_event(
        conn,
        case_id,
        actor,
        "submitted",
        to=CaseStatus.SUBMITTED,
        data={"channel": data.channel, "grid": placement.grid_code, "queue": placement.queue},
    )
    members = (
        db.members(conn, OPEN_STATUSES, town_id=placement.town_id)
        if placement.town_id is not None
        else []
    )
    choice = choose_member(
        placement, data.category, members, lon=data.lon, lat=data.lat, travel_times=travel_times
    )
    _apply_choice(conn, case_id, choice)
    case = get_case(conn, case_id)
    notify_intake(conn, case)  # in the same transaction: told if and only if it is stored
    return case, True


def _by_key(conn: Connection, key: str, fingerprint: str) -> dict[str, Any] | None:
    found = db.case_by_key(conn, key)
    if found is None:
        return None
    case_id, request_hash = found
    if request_hash != fingerprint:
        msg = "this Idempotency-Key was already used for a different request"
        raise ConflictError(msg, zh="该 Idempotency-Key 已用于另一请求")
    return get_case(conn, case_id)


def _apply_choice(conn: Connection, case_id: int, choice: Choice) -> None:
    reason = choice.explanation.get("reason")
    if choice.member_id is None:
        db.update_case(conn, case_id, {"queue": choice.queue, "assignment": choice.explanation})
        db.insert_event(
            conn, case_id, "system", "queued", reason=reason, data={"queue": choice.queue}
        )
        return
    values = {
        "status": CaseStatus.ASSIGNED,
        "member_id": choice.member_id,
        "assignment": choice.explanation,
    }
    db.update_case(conn, case_id, values, version=1)
    db.insert_event(
        conn,
        case_id,
        "system",
        "assigned",
        frm=CaseStatus.SUBMITTED,
        to=CaseStatus.ASSIGNED,
        reason=reason,
        data={"member_id": choice.member_id, "rule": choice.explanation.get("rule")},
    )
