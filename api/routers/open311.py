"""An Open311 GeoReport v2 facade, so existing civic apps can file and follow cases.

Services are the case categories. Requests are filed as cases (channel ``open311``);
listing and reading them shows only what is public: status, category and dates — no
reporter details, no description, no exact location (the town is given as address).
Errors on these paths use GeoReport's format: ``[{"code": 400, "description": "..."}]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Path, Query, Request, Response

from api.deps import AppSettings, ReadConn, WriteConn
from geo.cases import store
from geo.cases.service import road_travel_times
from geo.errors import NotFoundError

router = APIRouter(prefix="/open311/v2", tags=["open311"])
NAMES = {
    "wage_arrears": "拖欠工资 Wage arrears",
    "labour_contract": "劳动合同 Labour contract",
    "work_injury": "工伤 Work injury",
    "social_insurance": "社会保险 Social insurance",
    "occupational_safety": "职业安全 Occupational safety",
    "mediation": "劳动争议调解 Mediation",
    "other": "其他 Other",
}
CLOSED = ("resolved", "closed", "cancelled")


def _request_view(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "service_request_id": case["reference"],
        "status": "closed" if case["status"] in CLOSED else "open",
        "status_notes": case["status"],
        "service_name": NAMES.get(case["category"], case["category"]),
        "service_code": case["category"],
        "agency_responsible": "Jiangmen trade union grid team (sample)",
        "requested_datetime": case["created_at"].isoformat(),
        "updated_datetime": case["updated_at"].isoformat(),
        "expected_datetime": case["resolution_due"].isoformat(),
        "address": case.get("town_name") or case.get("district_name"),
    }


@router.get("/services.json", summary="Case categories as Open311 services")
def services(settings: AppSettings) -> list[dict[str, Any]]:
    """The list of services (GeoReport v2)."""
    return [
        {
            "service_code": c,
            "service_name": NAMES.get(c, c),
            "description": NAMES.get(c, c),
            "metadata": False,
            "type": "realtime",
            "keywords": "workers' rights",
            "group": "workers' rights",
        }
        for c in settings.case_categories
    ]


@router.post("/requests.json", status_code=201, summary="File a request (GeoReport v2)")
def create(
    request: Request,
    response: Response,
    conn: WriteConn,
    settings: AppSettings,
    service_code: Annotated[str, Form(max_length=40)],
    lat: Annotated[float, Form(ge=-90, le=90, allow_inf_nan=False)],
    long: Annotated[float, Form(ge=-180, le=180, allow_inf_nan=False)],
    description: Annotated[str, Form(min_length=1, max_length=5000)],
    first_name: Annotated[str | None, Form(max_length=50)] = None,
    last_name: Annotated[str | None, Form(max_length=50)] = None,
    email: Annotated[str | None, Form(max_length=100)] = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
    address_string: Annotated[str | None, Form(max_length=300)] = None,
    api_key: Annotated[str | None, Form(max_length=200)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> list[dict[str, Any]]:
    """Returns ``[{"service_request_id", "service_notice", "account_id"}]``."""
    name = " ".join(p for p in (first_name, last_name) if p) or None
    contact = "; ".join(p for p in (email, phone) if p) or None
    text = description if not address_string else f"{description}\n[address] {address_string}"
    data = store.CaseInput(service_code, long, lat, text, "open311", name, contact)
    case, created = store.submit_case(
        conn,
        data,
        actor="open311",
        categories=settings.case_categories,
        travel_times=road_travel_times(request.app.state.yizhan.graph.routing),
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = 200
    notice = f"received; resolution expected by {case['resolution_due']:%Y-%m-%d}"
    return [{"service_request_id": case["reference"], "service_notice": notice, "account_id": None}]


@router.get("/requests.json", summary="Public list of requests (GeoReport v2)")
def list_(
    conn: ReadConn,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
    start_date: Annotated[datetime | None, Query()] = None,
    end_date: Annotated[datetime | None, Query()] = None,
) -> list[dict[str, Any]]:
    """At most 1000 requests, newest first (the spec's default window is the last 90 days)."""
    rows, _ = store.list_cases(
        conn, store.Scope(everything=True), category=service_code, limit=1000
    )
    wanted = set(service_request_id.split(",")) if service_request_id else None
    out = []
    for r in rows:
        view = _request_view(r)
        if wanted is not None and view["service_request_id"] not in wanted:
            continue
        if status and view["status"] != status:
            continue
        if start_date and r["created_at"] < start_date:
            continue
        if end_date and r["created_at"] > end_date:
            continue
        out.append(view)
    return out


@router.get("/requests/{request_id}.json", summary="One request (GeoReport v2)")
def read(conn: ReadConn, request_id: Annotated[str, Path(max_length=40)]) -> list[dict[str, Any]]:
    """A one-element list, as the spec has it."""
    from sqlalchemy import select

    from geo.db import models as m

    case_id = conn.scalar(select(m.Case.id).where(m.Case.reference == request_id))
    if case_id is None:
        msg = f"request {request_id} not found"
        raise NotFoundError(msg)
    return [_request_view(store.get_case(conn, int(case_id)))]
