"""Grid managers: case intake, reading, transitions, deadlines, batch assignment, stats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import current_principal, require_roles
from api.deps import AppSettings, PlatformDep, ReadConn, WriteConn, get_platform
from api.geojson import Location
from geo.cases.access import check_member_move, get_case, list_cases, public_stats
from geo.cases.access import events as case_events
from geo.cases.assign import road_travel_times
from geo.cases.batch import assign_batch
from geo.cases.intake import CaseInput, submit_case
from geo.cases.transitions import due_soon_before, escalate_overdue, transition
from geo.errors import AuthenticationError, ConflictError
from geo.hours import utc_iso
from geo.users import (
    UserInfo,
    authenticate,
    change_user,
    create_user,
    delete_user,
    list_users,
    user_dict,
)
from geo.vocabulary import CaseStatus, CoordSystem, Role

router = APIRouter(prefix="/v1", tags=["cases"])
CaseReaders = Annotated[UserInfo, Depends(require_roles("admin", "manager", "member"))]
Admin = Annotated[UserInfo, Depends(require_roles("admin"))]
Anyone = Annotated[UserInfo, Depends(current_principal)]
CaseId = Annotated[int, Path(ge=1, le=2**62)]


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


class UserCreate(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=200)
    role: Role
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None


def public_view(case: dict[str, Any]) -> dict[str, Any]:
    """What a reporter (or anyone) sees: no people, no exact location."""
    keys = (
        "id",
        "reference",
        "category",
        "status",
        "queue",
        "grid_code",
        "town_name",
        "district_name",
        "first_contact_due",
        "resolution_due",
        "created_at",
        "updated_at",
    )
    return {k: _json(case.get(k)) for k in keys}


def staff_view(case: dict[str, Any]) -> dict[str, Any]:
    """Everything, for staff in scope."""
    out = {k: _json(v) for k, v in case.items() if k not in ("idempotency_key", "request_hash")}
    out["location"] = {"type": "Point", "coordinates": [case["lon"], case["lat"]]}
    out["member"] = (
        {"id": case["member_id"], "name": case["member_name"], "code": case["member_code"]}
        if case.get("member_id")
        else None
    )
    for k in ("lon", "lat", "member_name", "member_code"):
        out.pop(k, None)
    return out


def _json(v: Any) -> Any:
    return utc_iso(v) if isinstance(v, datetime) else v


@router.post("/cases", status_code=201, summary="Report a case (public intake)")
def submit(
    request: Request,
    response: Response,
    conn: WriteConn,
    body: CaseCreate,
    settings: AppSettings,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
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
    )
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return public_view(case)


@router.get("/cases", summary="Cases visible to you")
def list_(
    conn: ReadConn,
    who: CaseReaders,
    status: Annotated[list[str], Query()] = [],  # noqa: B006
    category: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Newest first; managers see their district or town, members their own cases."""
    rows, total = list_cases(
        conn,
        who.case_scope,
        statuses=status,
        categories=[category] if category else [],
        limit=limit,
        offset=offset,
    )
    return {"cases": [staff_view(r) for r in rows], "total": total}


@router.get("/cases/overdue", summary="Open cases past their resolution deadline")
def overdue(conn: ReadConn, who: CaseReaders) -> dict[str, Any]:
    """Open cases whose resolution deadline has passed, in your scope."""
    rows, total = list_cases(conn, who.case_scope, due_before=datetime.now(UTC), limit=500)
    return {"cases": [staff_view(r) for r in rows], "total": total}


@router.get("/cases/due-soon", summary="Open cases due within some hours")
def due_soon(
    conn: ReadConn, who: CaseReaders, hours: Annotated[float, Query(gt=0, le=24 * 60)] = 72
) -> dict[str, Any]:
    """Open cases whose resolution deadline falls within ``hours`` (overdue ones included)."""
    rows, total = list_cases(
        conn, who.case_scope, due_before=due_soon_before(None, hours), limit=500
    )
    return {"cases": [staff_view(r) for r in rows], "total": total}


@router.get("/cases/stats", summary="Public case counts per grid (small counts suppressed)")
def stats(conn: ReadConn) -> dict[str, Any]:
    """Counts per grid, no locations or people; counts from 1 to 4 are suppressed."""
    return {"grids": public_stats(conn), "suppressed_below": 5}


@router.post("/cases/escalate-overdue", summary="Escalate every case past its deadline (admin)")
def escalate(conn: WriteConn, _: Admin) -> dict[str, Any]:
    """Also run automatically by the server every few minutes."""
    return {"escalated": escalate_overdue(conn, actor="admin")}


@router.post("/cases/assign-batch", summary="Assign all waiting cases at once (admin)")
def batch(platform: PlatformDep, conn: WriteConn, who: Admin) -> dict[str, Any]:
    """Minimum total travel time under member capacities, compared with a greedy baseline."""
    engine = platform.require_routing()
    return assign_batch(conn, engine, platform.member_times(), actor=who.username)


@router.get("/cases/{case_id}", summary="One case (in your scope)")
def read(conn: ReadConn, case_id: CaseId, who: CaseReaders) -> dict[str, Any]:
    """Full case with reporter details and the assignment explanation."""
    return staff_view(get_case(conn, case_id, who.case_scope))


@router.get("/cases/{case_id}/events", summary="A case's history")
def history(conn: ReadConn, case_id: CaseId, who: CaseReaders) -> dict[str, Any]:
    """Who did what, when and why — oldest first."""
    found = case_events(conn, case_id, who.case_scope)
    return {"events": [{k: _json(v) for k, v in e.items()} for e in found]}


@router.post("/cases/{case_id}/transitions", summary="Change a case's status")
def change(conn: WriteConn, case_id: CaseId, body: Transition, who: CaseReaders) -> dict[str, Any]:
    """409 with the allowed next statuses when the change is not allowed, or the version stale."""
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
    )
    return staff_view(case)


class UserChange(BaseModel):
    """A change to an account: a new role (with its scope), activity, or a password reset.

    Any change ends the user's current sessions (their tokens stop working).
    """

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=8, max_length=200)


class PasswordChange(BaseModel):
    """A user's own password change."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


UserName = Annotated[str, Path(min_length=1, max_length=80)]


@router.get("/users", summary="Accounts (admin)")
def users(conn: ReadConn, _: Admin) -> dict[str, Any]:
    """Every account with its role, scope and whether it is active."""
    return {"users": [user_dict(u) for u in list_users(conn)]}


@router.patch("/users/{username}", summary="Change, deactivate or reset an account (admin)")
def change_account(
    conn: WriteConn, username: UserName, body: UserChange, _: Admin
) -> dict[str, Any]:
    """Role and scope, ``active`` or a new password; the user's old tokens stop working."""
    user = change_user(
        conn,
        username,
        role=body.role,
        district_id=body.district_id,
        town_id=body.town_id,
        member_id=body.member_id,
        active=body.active,
        password=body.password,
    )
    return user_dict(user)


@router.delete("/users/{username}", status_code=204, summary="Delete an account (admin)")
def remove_account(conn: WriteConn, username: UserName, who: Admin) -> Response:
    """Remove an account (its tokens stop working); you cannot remove yourself."""
    if username == who.username:
        msg = "you cannot delete your own account"
        raise ConflictError(msg)
    delete_user(conn, username)
    return Response(status_code=204)


@router.post("/users/me/password", summary="Change your own password")
def change_own_password(conn: WriteConn, body: PasswordChange, who: Anyone) -> dict[str, Any]:
    """Your other sessions end; log in again with the new password."""
    if authenticate(conn, who.username, body.current_password) is None:
        msg = "the current password is wrong"
        raise AuthenticationError(msg)
    return user_dict(change_user(conn, who.username, password=body.new_password))


@router.post("/users", status_code=201, summary="Create an account (admin)")
def add_user(conn: WriteConn, body: UserCreate, _: Admin) -> dict[str, Any]:
    """Managers need a district or town; members a grid member."""
    user = create_user(
        conn,
        body.username,
        body.password,
        body.role,
        district_id=body.district_id,
        town_id=body.town_id,
        member_id=body.member_id,
    )
    return user_dict(user)


@router.get("/users/me", summary="Who am I")
def me(who: Anyone) -> dict[str, Any]:
    """The caller's role and scope."""
    keys = ("username", "role", "district_id", "town_id", "member_id")
    return {k: getattr(who, k) for k in keys}
