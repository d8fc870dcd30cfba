"""Grid managers: case intake, reading, transitions, deadlines, batch assignment, stats."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from geojson_pydantic import Point
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth import Admin, CaseReaders, Staff
from api.deps import AnalysesDep, AppSettings, ReadConn, WriteConn, get_platform, get_web
from api.exports import XLSX_TYPE, xlsx_response
from api.geojson import Location, point
from api.handover import outcome_answer
from api.params import CaseId, CoordQuery
from api.schemas.cases import (
    BatchReport,
    CaseHistory,
    CaseList,
    CaseStats,
    Escalated,
    KpiRow,
    KpiTable,
    MemberRef,
    PublicCase,
    Roster,
    RosterMember,
    StaffCase,
)
from api.schemas.common import errors
from api.schemas.processes import StatusInfo
from geo.cases.access import (
    CaseFilter,
    check_member_move,
    get_case,
    list_cases,
    outcomes,
    public_stats,
    roster,
    workbench_filter,
)
from geo.cases.access import events as case_events
from geo.cases.assign import road_travel_times
from geo.cases.extensions import decide_extension, request_extension
from geo.cases.intake import CaseInput, submit_case
from geo.cases.kpis import kpis
from geo.cases.lifecycle import OPEN_STATUSES
from geo.cases.return_review import decide_return, request_return
from geo.cases.staff_intake import StaffCall, mark_duplicate, register_call, similar_to_call
from geo.cases.transitions import due_soon_before, escalate_overdue, transition
from geo.errors import RateLimitedError
from geo.hours import aware, local_time
from geo.vocabulary import CaseCategory, CaseStatus, CoordSystem, Role

router = APIRouter(prefix="/v1", tags=["cases"])


class CaseCreate(BaseModel):
    """A report from a worker or an intake channel."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=40)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    coord: CoordSystem = CoordSystem.WGS84
    description: str = Field(min_length=1, max_length=5000)
    channel: str = Field("web", max_length=20)
    reporter_name: str | None = Field(None, max_length=100)
    reporter_contact: str | None = Field(None, max_length=200)


class Transition(BaseModel):
    """A status change; ``version`` is the version you read (optimistic locking)."""

    model_config = ConfigDict(extra="forbid")
    to: CaseStatus
    version: int = Field(ge=1)
    reason: str | None = Field(None, max_length=2000)
    member_id: int | None = Field(None, ge=1)


def public_view(case: dict[str, Any]) -> PublicCase:
    """What a reporter (or anyone) sees: no people, no exact location."""
    return PublicCase(**{k: case[k] for k in PublicCase.model_fields if k in case})


def staff_view(case: dict[str, Any]) -> StaffCase:
    """Everything, for staff in scope."""
    member = (
        MemberRef(id=case["member_id"], name=case["member_name"], code=case["member_code"])
        if case.get("member_id")
        else None
    )
    location = Point(type="Point", coordinates=(case["lon"], case["lat"]))
    fields = {k: case[k] for k in StaffCase.model_fields if k in case}
    return StaffCase(**fields, member=member, location=location)


@router.post(
    "/cases",
    status_code=201,
    summary="Report a case (public intake)",
    response_model=PublicCase,
    responses={**errors(409, 413), 200: {"model": PublicCase, "description": "A retry"}},
)
def submit(
    request: Request,
    response: Response,
    conn: WriteConn,
    body: CaseCreate,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> PublicCase:
    """Record, place and assign a case (idempotent with an ``Idempotency-Key`` header).

    A retry with the same key is answered with the first case (200) instead of another.
    """
    lon, lat = Location(body.lon, body.lat, body.coord).wgs84()
    data = CaseInput(
        body.category,
        lon,
        lat,
        body.description,
        body.channel,
        body.reporter_name,
        body.reporter_contact,
    )
    case, created = submit_case(
        conn,
        data,
        actor=f"intake:{body.channel}",
        categories=settings.case_categories,
        travel_times=road_travel_times(get_platform(request).routing),
        idempotency_key=idempotency_key,
        deadline_table=settings.case_deadlines,
    )
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return public_view(case)


class StaffIntake(BaseModel):
    """A call staff register (受理登记): who called, how, about what, and where.

    The place is a point picked on the map (``lon``/``lat``) or the caller's town (``town_id``);
    the address as said may be kept beside it.
    """

    model_config = ConfigDict(extra="forbid")
    reporter_name: str = Field(min_length=1, max_length=100)
    reporter_contact: str = Field(min_length=1, max_length=200)
    channel: str = Field("hotline", max_length=20)
    category: str = Field(max_length=40)
    description: str = Field(min_length=1, max_length=5000)
    employer: str | None = Field(None, max_length=200)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    coord: CoordSystem = CoordSystem.WGS84
    town_id: int | None = Field(None, ge=1, le=2**31 - 1)
    address: str | None = Field(None, max_length=500)


@router.post(
    "/cases/intake",
    status_code=201,
    summary="Register a call as a case (staff: 受理登记)",
    response_model=StaffCase,
    responses=errors(401, 403),
)
def staff_intake(
    request: Request, conn: WriteConn, body: StaffIntake, who: Staff, settings: AppSettings
) -> StaffCase:
    """Record, place and assign a call as a case, keeping the employer and the address said.

    Limited per account (``YIZHAN_STAFF_INTAKE_PER_HOUR``), never by the anonymous intake's
    per-address limit.
    """
    wait = get_web(request).staff_intake.take(who.username, time.monotonic())
    if wait:
        msg = f"{settings.staff_intake_per_hour} calls an hour from one account; retry in {wait} s"
        raise RateLimitedError(msg, retry_after=wait)
    lon = lat = None
    if body.lon is not None and body.lat is not None:
        lon, lat = Location(body.lon, body.lat, body.coord).wgs84()
    call = StaffCall(
        reporter_name=body.reporter_name,
        reporter_contact=body.reporter_contact,
        channel=body.channel,
        category=body.category,
        description=body.description,
        employer=body.employer,
        lon=lon,
        lat=lat,
        town_id=body.town_id,
        address=body.address,
    )
    case = register_call(
        conn,
        call,
        taken_by=who.username,
        categories=settings.case_categories,
        travel_times=road_travel_times(get_platform(request).routing),
        deadline_table=settings.case_deadlines,
    )
    return staff_view(case)


class ExtensionRequest(BaseModel):
    """延期申请: how many more days, and why."""

    model_config = ConfigDict(extra="forbid")
    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=1000)


class ReturnRequest(BaseModel):
    """退单申请: why the case should go back to the managers."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


class RequestDecision(BaseModel):
    """A manager's decision on a waiting request (延期, 退单); ``version``: the case's read."""

    model_config = ConfigDict(extra="forbid")
    approve: bool
    version: int = Field(ge=1)
    note: str | None = Field(None, max_length=1000)


@router.post(
    "/cases/{case_id}/extensions",
    status_code=201,
    summary="Ask for more time to resolve a case (延期申请)",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409),
)
def ask_extension(
    conn: WriteConn, case_id: CaseId, body: ExtensionRequest, who: CaseReaders
) -> StaffCase:
    """The member of the case (or staff); one request waits at a time; the managers hear."""
    case = request_extension(
        conn, case_id, body.days, body.reason, actor=who.username, scope=who.case_scope
    )
    return staff_view(case)


@router.post(
    "/cases/{case_id}/extensions/decision",
    summary="Approve or refuse the waiting extension request (staff)",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409),
)
def decide(conn: WriteConn, case_id: CaseId, body: RequestDecision, who: Staff) -> StaffCase:
    """Approved, the resolution deadline moves by the days asked; the member hears either way."""
    case = decide_extension(
        conn,
        case_id,
        body.approve,
        actor=who.username,
        scope=who.case_scope,
        expected_version=body.version,
        note=body.note,
    )
    return staff_view(case)


@router.post(
    "/cases/{case_id}/returns",
    status_code=201,
    summary="Ask to return a case to the managers (退单申请, where returns are reviewed)",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409),
)
def ask_return(
    conn: WriteConn, case_id: CaseId, body: ReturnRequest, who: CaseReaders
) -> StaffCase:
    """The case stays with its member until a manager decides; the managers hear."""
    case = request_return(conn, case_id, body.reason, actor=who.username, scope=who.case_scope)
    return staff_view(case)


@router.post(
    "/cases/{case_id}/returns/decision",
    summary="Approve or refuse the waiting return request (退单审核, staff)",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409),
)
def decide_a_return(
    conn: WriteConn, case_id: CaseId, body: RequestDecision, who: Staff
) -> StaffCase:
    """Approved, the case is returned with the member's reason; refused, it stays theirs."""
    case = decide_return(
        conn,
        case_id,
        body.approve,
        actor=who.username,
        scope=who.case_scope,
        expected_version=body.version,
        note=body.note,
    )
    return staff_view(case)


@router.get(
    "/cases/kpis",
    summary="The desk's figures: received, on time, satisfaction, backlog (staff, your scope)",
    response_model=KpiTable,
    responses=errors(401, 403),
)
def case_kpis(
    conn: ReadConn,
    who: Staff,
    by: Annotated[Literal["town", "grid", "member", "category", "week"] | None, Query()] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="created from")] = None,
    to: Annotated[datetime | None, Query(description="created before")] = None,
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
) -> KpiTable:
    """On-time acceptance and resolution, satisfaction, callbacks, backlog, median time.

    Rates count the cases whose deadline has come (done, or past due); refused or withdrawn
    reports are left out of them. Times without a zone are read in the region's.
    """
    start = None if from_ is None else aware(from_)
    end = None if to is None else aware(to)
    rows, total = kpis(conn, who.case_scope, by=by, start=start, end=end, lang=lang)
    return KpiTable(by=by, rows=[KpiRow(**r) for r in rows], total=KpiRow(**total))


@router.get(
    "/cases/similar",
    summary="Cases a call may repeat: the same phone, or the same employer nearby (30 days)",
    response_model=CaseList,
    responses=errors(401, 403),
)
def similar(
    conn: ReadConn,
    who: Staff,
    phone: Annotated[str | None, Query(max_length=200)] = None,
    employer: Annotated[str | None, Query(max_length=200)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    coord: CoordQuery = CoordSystem.WGS84,
) -> CaseList:
    """Suggested at intake before a new case is made (staff, in their scope)."""
    wlon = wlat = None
    if lat is not None and lon is not None:
        wlon, wlat = Location(lon, lat, coord).wgs84()
    rows = similar_to_call(conn, who.case_scope, phone=phone, employer=employer, lon=wlon, lat=wlat)
    return CaseList(cases=[staff_view(r) for r in rows], total=len(rows))


class DuplicateOf(BaseModel):
    """The case this one repeats; ``version`` is the version of this one you read."""

    model_config = ConfigDict(extra="forbid")
    of: int = Field(ge=1, le=2**63 - 1)
    version: int = Field(ge=1)


@router.post(
    "/cases/{case_id}/duplicate",
    summary="Close a case as a duplicate of another (linked, in both histories)",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409),
)
def duplicate(conn: WriteConn, case_id: CaseId, body: DuplicateOf, who: Staff) -> StaffCase:
    """The duplicate is refused (不予受理) with the original's number.

    The original's history records the link.
    """
    case = mark_duplicate(
        conn,
        case_id,
        body.of,
        actor=who.username,
        expected_version=body.version,
        scope=who.case_scope,
    )
    return staff_view(case)


def case_filter(
    settings: AppSettings,
    status: Annotated[list[str], Query(description="statuses; `open` for every open one")] = [],  # noqa: B006
    category: Annotated[list[str], Query(max_length=40)] = [],  # noqa: B006
    overdue: Annotated[bool, Query(description="only open cases past their deadline")] = False,
    due_within_hours: Annotated[
        int | None, Query(ge=1, le=720, description="open cases due within this many hours")
    ] = None,
    town_id: Annotated[list[int], Query()] = [],  # noqa: B006
    grid_id: Annotated[list[int], Query()] = [],  # noqa: B006
    member_id: Annotated[list[int], Query()] = [],  # noqa: B006
    sort: Annotated[
        Literal["newest", "oldest", "due"],
        Query(description="newest first, oldest first, or the nearest deadline first"),
    ] = "newest",
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="search: the case number, a reporter's phone, or words of the "
            "description or notes (never logged)",
        ),
    ] = None,
) -> CaseFilter:
    """The filters of ``GET /v1/cases`` and its Excel export (unknown codes: 422)."""
    return workbench_filter(
        statuses=status,
        categories=category,
        known_categories=settings.known_case_categories,
        overdue=overdue,
        due_within_hours=due_within_hours,
        town_ids=town_id,
        grid_ids=grid_id,
        member_ids=member_id,
        sort=sort,
        q=q,
    )


Filters = Annotated[CaseFilter, Depends(case_filter)]


def _case_list(rows: list[dict[str, Any]], total: int) -> CaseList:
    """A page of cases as staff see them, and how many match in all."""
    return CaseList(cases=[staff_view(r) for r in rows], total=total)


@router.get(
    "/cases",
    summary="Cases visible to you",
    response_model=CaseList,
    responses=errors(401, 403),
)
def list_(
    conn: ReadConn,
    who: CaseReaders,
    filters: Filters,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CaseList:
    """Newest first; managers see their district or town, members their own cases.

    Unknown statuses or categories are refused (422) with the ones that exist.
    """
    rows, total = list_cases(conn, who.case_scope, replace(filters, limit=limit, offset=offset))
    return _case_list(rows, total)


#: the Excel export's columns: Chinese header, then the case field (or a computed one)
EXPORT_COLUMNS = (
    ("编号", "reference"),
    ("类别", "category"),
    ("状态", "status"),
    ("区县", "district_name"),
    ("镇街", "town_name"),
    ("网格", "grid_code"),
    ("网格员", "member_name"),
    ("受理时间", "created_at"),
    ("首次联系期限", "first_contact_due"),
    ("办结期限", "resolution_due"),
    ("超期天数", "days_late"),
    ("办结时间", "resolved_at"),
    ("用时（天）", "days_taken"),
    ("办理结果", "result"),
    ("满意度", "satisfaction"),
    ("渠道", "channel"),
    ("涉及单位", "employer"),
    ("描述", "description"),
)


#: the times of the export, written in the region's time zone
_TIMES = ("created_at", "first_contact_due", "resolution_due")


@router.get(
    "/cases/export.xlsx",
    summary="The filtered case list as an Excel workbook (Chinese column names)",
    response_class=Response,
    responses={**errors(401, 403), 200: {"content": {XLSX_TYPE: {}}}},
)
def export(conn: ReadConn, who: CaseReaders, settings: AppSettings, filters: Filters) -> Response:
    """Every matching case (at most 10,000), times in the region's zone, labels in Chinese."""
    rows, _total = list_cases(conn, who.case_scope, replace(filters, limit=10_000))
    done = outcomes(conn, [int(r["id"]) for r in rows])
    now = datetime.now(UTC)
    table = []
    for r in rows:
        r = {**r, **done.get(int(r["id"]), {})}
        resolved = r.get("resolved_at")
        taken = (
            None
            if resolved is None
            else round((resolved - r["created_at"]).total_seconds() / 86400, 1)
        )
        behind = now - r["resolution_due"]
        late = (
            max(behind.days, 1)
            if r["status"] in OPEN_STATUSES and behind.total_seconds() > 0
            else None
        )
        words = {
            "category": _zh(CaseCategory.of(r["category"]), r["category"]),
            "status": _zh(CaseStatus.of(r["status"]), r["status"]),
            "days_late": late,
            "days_taken": taken,
            "resolved_at": None if resolved is None else f"{local_time(resolved):%Y-%m-%d %H:%M}",
            **{k: local_time(r[k]).strftime("%Y-%m-%d %H:%M") for k in _TIMES},
        }
        table.append([words.get(key, r.get(key)) for _, key in EXPORT_COLUMNS])
    return xlsx_response([title for title, _ in EXPORT_COLUMNS], table, "cases")


def _zh(word: Any, code: str) -> str:
    return str(word.zh) if word is not None else code


@router.get(
    "/members",
    summary="The grid members you may see, with their workload",
    response_model=Roster,
    responses=errors(401, 403),
)
def members(conn: ReadConn, who: CaseReaders, coord: CoordQuery = CoordSystem.WGS84) -> Roster:
    """Managers see their district or town; a member sees themselves; admins everyone."""
    rows = roster(conn, who.case_scope)
    listed = [
        RosterMember(
            **{k: r[k] for k in ("id", "code", "name", "grid_id", "town_id", "capacity")},
            open_cases=int(r["open_cases"]),
            on_leave=r["on_leave"],
            skills=list(r["skills"] or []),
            base=point(r["lon"], r["lat"], coord),
        )
        for r in rows
    ]
    return Roster(members=listed, total=len(listed))


@router.get(
    "/cases/overdue",
    summary="Open cases past their resolution deadline",
    response_model=CaseList,
    responses=errors(401, 403),
)
def overdue(conn: ReadConn, who: CaseReaders) -> CaseList:
    """Open cases whose resolution deadline has passed, in your scope."""
    overdue = CaseFilter(due_before=datetime.now(UTC), limit=500)
    return _case_list(*list_cases(conn, who.case_scope, overdue))


@router.get(
    "/cases/due-soon",
    summary="Open cases due within some hours",
    response_model=CaseList,
    responses=errors(401, 403),
)
def due_soon(
    conn: ReadConn, who: CaseReaders, hours: Annotated[float, Query(gt=0, le=24 * 60)] = 72
) -> CaseList:
    """Open cases whose resolution deadline falls within ``hours`` (overdue ones included)."""
    soon = CaseFilter(due_before=due_soon_before(None, hours), limit=500)
    return _case_list(*list_cases(conn, who.case_scope, soon))


@router.get(
    "/cases/stats",
    summary="Public case counts per grid (small counts suppressed)",
    response_model=CaseStats,
    responses=errors(),
)
def stats(conn: ReadConn) -> CaseStats:
    """Counts per grid, no locations or people; counts from 1 to 4 are suppressed."""
    return CaseStats(grids=public_stats(conn), suppressed_below=5)


@router.post(
    "/cases/escalate-overdue",
    summary="Escalate every case past its deadline (admin)",
    response_model=Escalated,
    responses=errors(401, 403),
)
def escalate(conn: WriteConn, _: Admin) -> Escalated:
    """Also run automatically by the server every few minutes."""
    return Escalated(escalated=escalate_overdue(conn, actor="admin"))


@router.post(
    "/cases/assign-batch",
    summary="Assign all waiting cases at once (admin)",
    response_model=BatchReport,
    responses={
        **errors(401, 403),
        202: {"model": StatusInfo, "description": "Still running: follow the job"},
    },
)
async def batch(
    request: Request,
    analyses: AnalysesDep,
    who: Admin,
    apply: Annotated[bool, Query(description="false: only propose (a preview)")] = True,
) -> Any:
    """Minimum total travel time under member capacities, compared with a greedy baseline.

    Runs as a job on the analysis workers (the ``case-assignment`` process); answered when
    it ends within ``job_wait_s``, else ``202`` with the job's ``Location``. With
    ``apply=false`` nothing is stored: the proposed member per case is listed.
    """
    wait, inputs = analyses.platform.settings.job_wait_s, {"apply": apply}
    outcome = await run_in_threadpool(
        lambda: analyses.execute("case-assignment", inputs, owner=who, wait_s=wait)
    )
    return outcome_answer(request, outcome)


@router.get(
    "/cases/{case_id}",
    summary="One case (in your scope)",
    response_model=StaffCase,
    responses=errors(401, 403, 404),
)
def read(conn: ReadConn, case_id: CaseId, who: CaseReaders) -> StaffCase:
    """Full case with reporter details and the assignment explanation."""
    return staff_view(get_case(conn, case_id, who.case_scope))


@router.get(
    "/cases/{case_id}/events",
    summary="A case's history",
    response_model=CaseHistory,
    responses=errors(401, 403, 404),
)
def history(conn: ReadConn, case_id: CaseId, who: CaseReaders) -> CaseHistory:
    """Who did what, when and why — oldest first."""
    return CaseHistory(events=case_events(conn, case_id, who.case_scope))


@router.post(
    "/cases/{case_id}/transitions",
    summary="Change a case's status",
    response_model=StaffCase,
    responses=errors(401, 403, 404, 409, 413),
)
def change(
    conn: WriteConn, case_id: CaseId, body: Transition, who: CaseReaders, settings: AppSettings
) -> StaffCase:
    """409 with the allowed next statuses when the change is not allowed, or the version stale.

    A grid member's return (退单) of a category under review is 409 ``return_review``: it is
    asked for at ``POST /v1/cases/{id}/returns`` instead.
    """
    check_member_move(who.role, body.to)
    case = transition(
        conn,
        case_id,
        body.to,
        actor=who.username,
        expected_version=body.version,
        reason=body.reason,
        member_id=body.member_id,
        scope=who.case_scope,
        reviewed_returns=settings.return_review if who.role == Role.MEMBER else (),
    )
    return staff_view(case)
