"""Cases as the public and as staff see them, their history, lists, counts and batch reports."""

from __future__ import annotations

from typing import Any

from geojson_pydantic import Point

from api.schemas.common import Answer, UtcTime


class PublicCase(Answer):
    """What a reporter, or anyone, sees of a case: no people, no exact location."""

    id: int
    reference: str
    category: str
    status: str
    queue: str
    grid_code: str | None
    town_name: str | None
    district_name: str | None
    first_contact_due: UtcTime
    resolution_due: UtcTime
    created_at: UtcTime
    updated_at: UtcTime
    station_id: int | None = None  # the station a station-problem case was reported at


class MemberRef(Answer):
    """The grid member a case is with."""

    id: int
    name: str
    code: str


class StaffCase(PublicCase):
    """Everything about a case, for staff whose scope holds it."""

    description: str
    channel: str
    reporter_name: str | None
    reporter_contact: str | None
    grid_id: int | None
    town_id: int | None
    district_id: int | None
    member_id: int | None
    member: MemberRef | None
    nearby_grid_ids: list[int]
    assignment: dict[str, Any] | None = None
    first_contact_at: UtcTime | None
    resolved_at: UtcTime | None
    closed_at: UtcTime | None
    escalated: bool
    version: int
    location: Point
    employer: str | None = None  # what staff wrote down with a call (受理登记)
    address: str | None = None


class CaseList(Answer):
    """A page of cases and how many match in all."""

    cases: list[StaffCase]
    total: int


class CaseEvent(Answer):
    """One step of a case's history."""

    at: UtcTime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    data: Any = None


class CaseHistory(Answer):
    """A case's history, oldest first."""

    events: list[CaseEvent]


class GridCount(Answer):
    """Cases of one grid (open ones hidden when fewer than the threshold)."""

    grid: str
    town: str
    district: str
    cases: int
    open_cases: int | None
    suppressed: bool


class CaseStats(Answer):
    """Public case counts per grid."""

    grids: list[GridCount]
    suppressed_below: int


class Escalated(Answer):
    """The cases just escalated."""

    escalated: list[int]


class Baseline(Answer):
    """The greedy assignment the batch is compared with."""

    method: str
    assigned: int
    total_travel_time_s: float
    max_load: int
    seconds: float


class Proposal(Answer):
    """One case and the member the batch gives it to."""

    case_id: int
    reference: str
    member_id: int
    member_name: str
    travel_time_s: float


class BatchReport(Answer):
    """What a batch assignment did (or would do), against the greedy baseline."""

    cases: int
    assigned: int
    unassigned: int
    method: str | None
    total_travel_time_s: float | None = None
    max_load: int | None = None
    seconds: float | None = None
    baseline: Baseline | None = None
    capacity_respected: bool | None = None
    applied: bool | None = None
    proposals: list[Proposal] | None = None


class RosterMember(Answer):
    """A grid member as the workbench shows them: workload, capacity, leave, skills, base."""

    id: int
    code: str
    name: str
    grid_id: int | None
    town_id: int
    capacity: int
    open_cases: int
    on_leave: bool
    skills: list[str]
    base: Point


class Roster(Answer):
    """The grid members the caller may see."""

    members: list[RosterMember]
    total: int


class KpiRow(Answer):
    """One group's figures (rates 0–1; ``None`` when no case's deadline has come yet)."""

    key: str | None
    label: str | None
    received: int
    on_time_acceptance: float | None
    on_time_resolution: float | None
    satisfaction: float | None
    callbacks: int
    callback_reach: float | None
    open_now: int
    overdue_now: int
    median_hours_to_resolve: float | None


class KpiTable(Answer):
    """The desk's figures per group and in all, for the cases in your scope."""

    by: str | None
    rows: list[KpiRow]
    total: KpiRow
