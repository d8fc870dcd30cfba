"""Staff intake (受理登记): a hotline operator registers a call as a case.

The call's place is a point picked on the map or, when the caller only names a town, the
town's seat (the address as said is kept beside the case for placing it more exactly later).
The case is then placed, assigned and explained exactly as a public report is
(:func:`geo.cases.intake.submit_case`); the employer the caller names, the address text and who
took the call are kept with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, get_case
from geo.cases.assign import TravelTimes
from geo.cases.intake import CaseInput, submit_case
from geo.cases.transitions import transition
from geo.db import cases as db
from geo.db.areas import town_seats
from geo.errors import ValidationError
from geo.vocabulary import STAFF_CHANNELS, CaseStatus


@dataclass(frozen=True)
class StaffCall:
    """What an operator writes down (WGS-84 when a point was picked)."""

    reporter_name: str
    reporter_contact: str
    channel: str
    category: str
    description: str
    employer: str | None = None
    lon: float | None = None
    lat: float | None = None
    town_id: int | None = None
    address: str | None = None


def _place(conn: Connection, call: StaffCall) -> tuple[float, float]:
    """The call's point: the pick on the map, else the named town's seat."""
    if call.lon is not None and call.lat is not None:
        return call.lon, call.lat
    if call.town_id is not None:
        for town in town_seats(conn):
            if town["id"] == call.town_id:
                return float(town["lon"]), float(town["lat"])  # type: ignore[arg-type]
        msg = f"no town {call.town_id}"
        raise ValidationError(msg, zh=f"没有编号为 {call.town_id} 的镇街")
    msg = "say where: pick the place on the map, or choose the town"
    raise ValidationError(msg, zh="请在地图上选点，或选择镇街")


def register_call(
    conn: Connection,
    call: StaffCall,
    *,
    taken_by: str,
    categories: Sequence[str],
    travel_times: TravelTimes,
    deadline_table: Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Record a call as a placed, assigned case; the case as staff see it.

    Raises
    ------
    ValidationError
        A channel staff do not take calls by, no place, an unknown town or category.
    """
    if call.channel not in STAFF_CHANNELS:
        msg = f"channel must be one of {', '.join(STAFF_CHANNELS)}"
        raise ValidationError(msg, zh="受理渠道无效")
    lon, lat = _place(conn, call)
    data = CaseInput(
        call.category,
        lon,
        lat,
        call.description,
        call.channel,
        call.reporter_name.strip() or None,
        call.reporter_contact.strip() or None,
    )
    case, _ = submit_case(
        conn,
        data,
        actor=f"staff:{taken_by}",
        categories=categories,
        travel_times=travel_times,
        deadline_table=deadline_table,
    )
    employer = (call.employer or "").strip() or None
    address = (call.address or "").strip() or None
    values = {"case_id": case["id"], "employer": employer, "address": address, "taken_by": taken_by}
    db.insert_intake(conn, values)
    return get_case(conn, int(case["id"]))


#: how far back, and how near, an earlier case counts as possibly the same
SIMILAR_DAYS = 30
SIMILAR_RADIUS_M = 2000.0


def similar_to_call(
    conn: Connection,
    scope: Scope,
    *,
    phone: str | None = None,
    employer: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Cases in ``scope`` a call may repeat, suggested before a new case is made.

    The same phone in 30 days, or the same employer within 2 km in 30 days.
    """
    digits = "".join(ch for ch in (phone or "") if ch.isdigit()) or None
    if digits is not None and len(digits) < 5:
        digits = None  # too short to tell one caller from another
    since = (now or datetime.now(UTC)) - timedelta(days=SIMILAR_DAYS)
    return db.similar_cases(
        conn,
        scope.rule(),
        since=since,
        phone_digits=digits,
        employer=(employer or "").strip() or None,
        lon=lon,
        lat=lat,
        radius_m=SIMILAR_RADIUS_M,
    )


def mark_duplicate(
    conn: Connection,
    case_id: int,
    original_id: int,
    *,
    actor: str,
    expected_version: int,
    scope: Scope,
) -> dict[str, Any]:
    """Close a case as a duplicate of another (不予受理, linked), with the link in both histories.

    Raises
    ------
    ValidationError
        A case marked a duplicate of itself.
    NotFoundError
        Either case outside ``scope``.
    ConflictError
        A stale version, or a case whose status cannot be closed so.
    """
    if case_id == original_id:
        msg = "a case cannot duplicate itself"
        raise ValidationError(msg, zh="案件不能标记为与自身重复")
    original = get_case(conn, original_id, scope)
    reason = f"重复：与 {original['reference']} 为同一诉求 (duplicate of {original['reference']})"
    closed = transition(
        conn,
        case_id,
        CaseStatus.REJECTED,
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        scope=scope,
    )
    db.insert_event(
        conn,
        original_id,
        actor,
        "duplicate_linked",
        reason=f"{closed['reference']} 为本案重复诉求",
        data={"duplicate": closed["reference"], "duplicate_id": case_id},
    )
    return closed
