"""An Open311 GeoReport v2 facade, so existing civic apps can file and follow cases.

Services are the case categories. Requests are filed as cases (channel ``open311``);
listing and reading them shows only what is public: status, category and dates — no
reporter details, no description, no exact location: ``lat``/``long`` are rounded to
:data:`PUBLIC_DECIMALS` decimals (two: about a kilometre, so a reporter's home or workplace
cannot be found) and the town is given as the address. Every read is offered as ``.json`` and
as ``.xml`` (GeoReport's two formats). Errors on these paths use GeoReport's format:
``[{"code": 400, "description": "..."}]`` (in XML: ``<errors><error>...``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import Connection

from api.deps import AppSettings, ReadConn, WriteConn, get_platform
from api.schemas.open311 import (
    XML_BODY,
    Receipt,
    Service,
    ServiceRequest,
    georeport_errors,
)
from geo.cases.access import CaseFilter, Scope, case_by_reference, list_cases
from geo.cases.assign import road_travel_times
from geo.cases.intake import CaseInput, submit_case
from geo.hours import utc_iso
from geo.settings import Settings
from geo.vocabulary import OPEN_CASE_STATUSES, CaseCategory, CaseStatus

router = APIRouter(prefix="/open311/v2", tags=["open311"])
NAMES = {c.value: f"{c.zh} {c.en}" for c in CaseCategory}
#: decimals of the public request positions (0.01° ≈ 1.1 km)
PUBLIC_DECIMALS = 2


def _request_view(case: dict[str, Any]) -> ServiceRequest:
    return ServiceRequest(
        service_request_id=case["reference"],
        status="open" if case["status"] in OPEN_CASE_STATUSES else "closed",
        status_notes=case["status"],
        service_name=NAMES.get(case["category"], case["category"]),
        service_code=case["category"],
        agency_responsible="Jiangmen trade union grid team (sample)",
        requested_datetime=utc_iso(case["created_at"]),
        updated_datetime=utc_iso(case["updated_at"]),
        expected_datetime=utc_iso(case["resolution_due"]),
        address=case.get("town_name") or case.get("district_name"),
        lat=round(float(case["lat"]), PUBLIC_DECIMALS),
        long=round(float(case["lon"]), PUBLIC_DECIMALS),
    )


def xml_response(items: Sequence[BaseModel], root: str, item: str) -> Response:
    """GeoReport's XML: ``<root><item><field>value</field>...</item>...</root>``."""
    top = ET.Element(root)
    for entry in items:
        node = ET.SubElement(top, item)
        for key, value in entry.model_dump().items():
            ET.SubElement(node, key).text = (
                ""
                if value is None
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
    body = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/xml")


@router.get(
    "/services.json",
    summary="Case categories as Open311 services",
    response_model=list[Service],
    responses=georeport_errors(),
)
def services(settings: AppSettings) -> list[Service]:
    """The list of services (GeoReport v2)."""
    return _services(settings)


@router.get(
    "/services.xml",
    summary="Case categories as Open311 services (XML)",
    response_class=Response,
    responses={**georeport_errors(xml=True), 200: {"content": XML_BODY}},
)
def services_xml(settings: AppSettings) -> Response:
    """The list of services in GeoReport's XML."""
    return xml_response(_services(settings), "services", "service")


def _services(settings: Settings) -> list[Service]:
    return [
        Service(
            service_code=c,
            service_name=NAMES.get(c, c),
            description=NAMES.get(c, c),
            metadata=False,
            type="realtime",
            keywords="workers' rights",
            group="workers' rights",
        )
        for c in settings.case_categories
    ]


@router.post(
    "/requests.json",
    status_code=201,
    summary="File a request (GeoReport v2)",
    response_model=list[Receipt],
    responses={
        **georeport_errors(409, 413),
        200: {"model": list[Receipt], "description": "A retry (same Idempotency-Key)"},
    },
)
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
) -> list[Receipt]:
    """Returns ``[{"service_request_id", "service_notice", "account_id"}]``."""
    name = " ".join(p for p in (first_name, last_name) if p) or None
    contact = "; ".join(p for p in (email, phone) if p) or None
    text = description if not address_string else f"{description}\n[address] {address_string}"
    data = CaseInput(service_code, long, lat, text, "open311", name, contact)
    case, created = submit_case(
        conn,
        data,
        actor="open311",
        categories=settings.case_categories,
        travel_times=road_travel_times(get_platform(request).routing),
        idempotency_key=idempotency_key,
        deadline_table=settings.case_deadlines,
    )
    if not created:
        response.status_code = 200
    notice = f"received; resolution expected by {case['resolution_due']:%Y-%m-%d}"
    return [Receipt(service_request_id=case["reference"], service_notice=notice, account_id=None)]


@dataclass
class RequestFilter:
    """GeoReport's list filters, declared once for the JSON and XML lists."""

    service_request_id: Annotated[str | None, Query(max_length=2000)] = None
    service_code: Annotated[str | None, Query(max_length=40)] = None
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None
    start_date: Annotated[datetime | None, Query()] = None
    end_date: Annotated[datetime | None, Query()] = None


Filters = Annotated[RequestFilter, Depends()]


@router.get(
    "/requests.json",
    summary="Public list of requests (GeoReport v2)",
    response_model=list[ServiceRequest],
    responses=georeport_errors(),
)
def list_json(conn: ReadConn, f: Filters) -> list[ServiceRequest]:
    """At most 1000 requests, newest first (positions rounded to about a kilometre)."""
    return _list(conn, f.service_request_id, f.service_code, f.status, f.start_date, f.end_date)


@router.get(
    "/requests.xml",
    summary="Public list of requests (GeoReport v2, XML)",
    response_class=Response,
    responses={**georeport_errors(xml=True), 200: {"content": XML_BODY}},
)
def list_xml(conn: ReadConn, f: Filters) -> Response:
    """The same list in GeoReport's XML."""
    rows = _list(conn, f.service_request_id, f.service_code, f.status, f.start_date, f.end_date)
    return xml_response(rows, "service_requests", "request")


def _list(
    conn: Connection,
    service_request_id: str | None,
    service_code: str | None,
    status: str | None,
    start_date: datetime | None,
    end_date: datetime | None,
) -> list[ServiceRequest]:
    closed = status == "closed"
    asked = CaseFilter(
        statuses=[c for c in CaseStatus if (c in OPEN_CASE_STATUSES) != closed] if status else [],
        categories=[service_code] if service_code else [],
        references=service_request_id.split(",") if service_request_id else [],
        created_from=start_date,
        created_to=end_date,
        limit=1000,
    )
    rows, _ = list_cases(conn, Scope(everything=True), asked)
    return [_request_view(r) for r in rows]


RequestId = Annotated[str, Path(max_length=40)]


@router.get(
    "/requests/{request_id}.json",
    summary="One request (GeoReport v2)",
    response_model=list[ServiceRequest],
    responses=georeport_errors(404),
)
def read(conn: ReadConn, request_id: RequestId) -> list[ServiceRequest]:
    """A one-element list, as the spec has it."""
    return [_request_view(case_by_reference(conn, request_id))]


@router.get(
    "/requests/{request_id}.xml",
    summary="One request (GeoReport v2, XML)",
    response_class=Response,
    responses={**georeport_errors(404, xml=True), 200: {"content": XML_BODY}},
)
def read_xml(conn: ReadConn, request_id: RequestId) -> Response:
    """The request in GeoReport's XML."""
    case = _request_view(case_by_reference(conn, request_id))
    return xml_response([case], "service_requests", "request")
