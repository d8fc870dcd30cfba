"""GeoReport v2 (Open311) documents: services, requests, receipts and its error format."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, RootModel

from api.schemas.common import Answer


class Service(Answer):
    """A case category as an Open311 service."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class ServiceRequest(Answer):
    """What anyone may know of a request (rounded position, no people)."""

    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    agency_responsible: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str | None
    lat: float
    long: float


class Receipt(Answer):
    """The answer to a new request."""

    service_request_id: str
    service_notice: str
    account_id: str | None


class GeoReportError(BaseModel):
    """One error, as GeoReport has it."""

    code: int
    description: str


GeoReportErrors = RootModel[list[GeoReportError]]

_MESSAGES = {
    400: "bad request",
    404: "request JM-20261126-000001 not found",
    409: "this Idempotency-Key was already used for a different request",
    413: "the request body is too large",
    422: "service_code: unknown category",
    429: "too many requests; try again in 3 s",
    503: "the database is unavailable; try again shortly",
}
_XML_ERROR = {"type": "string", "example": "<errors><error><code>404</code>...</error></errors>"}


def georeport_errors(*codes: int, xml: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` in GeoReport's error format (JSON list, or XML), with examples."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, 422, 429, 503}):
        example = [{"code": code, "description": _MESSAGES[code]}]
        content = (
            {"application/xml": {"schema": _XML_ERROR}}
            if xml
            else {"application/json": {"example": example}}
        )
        entry: dict[str, Any] = {"description": _MESSAGES[code], "content": content}
        if not xml:
            entry["model"] = GeoReportErrors
        out[code] = entry
    return out


XML_BODY = {"application/xml": {"schema": {"type": "string"}}}
