"""What every answer shares: the error envelope, documented statuses, times and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from geo.hours import utc_iso
from geo.sample import SAMPLE_NOTICE

#: a stored time, written as ISO 8601 in UTC (``2026-11-26T04:00:00+00:00``)
UtcTime = Annotated[datetime, PlainSerializer(utc_iso, return_type=str, when_used="json")]

#: the notice documented in the schemas (a region of the user's own says its own)
DATA_NOTICE = SAMPLE_NOTICE


class Answer(BaseModel):
    """A typed answer: exactly the fields declared (an undeclared one is a bug, not data)."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """What went wrong: a kind, a message for people, and details where they help."""

    type: str = Field(examples=["Validation"])
    message: str = Field(examples=["minutes must be above 0 and at most 120"])
    details: Any = None
    code: str | None = Field(
        default=None, description="names a conflict a program acts on (stale: reload, retry)"
    )
    detail: str | None = Field(
        default=None, description="the English message, when ``message`` is in Chinese words"
    )


class ErrorEnvelope(BaseModel):
    """The one error format of the API (Open311 paths use GeoReport's own)."""

    error: ErrorBody


_EXAMPLES: dict[int, tuple[str, str, str]] = {
    400: (
        "Unreadable request: a body that is not UTF-8 JSON or nests too deeply, a host not served",
        "InvalidJSON",
        "the JSON body nests deeper than 32 levels",
    ),
    401: ("Not signed in", "Authentication", "this needs a bearer token"),
    403: ("Not allowed for your role or area", "PermissionDenied", "role 'member' may not"),
    404: ("Not found (or outside your scope)", "NotFound", "case 12 not found"),
    409: ("Changed meanwhile, or not allowed now", "Conflict", "case 12 was changed meanwhile"),
    413: ("Body too large", "PayloadTooLarge", "the request body is too large"),
    422: ("Invalid request", "RequestValidation", "query.minutes: should be greater than 0"),
    429: ("Too many requests (see Retry-After)", "RateLimited", "try again in 3 s"),
    503: ("Not ready, or the database is down (see Retry-After)", "NotReady", "try again shortly"),
}

#: statuses any operation may answer: unreadable or bad input, rate limit, database or graph
#: not ready
COMMON = (400, 422, 429, 503)


def errors(*codes: int, common: tuple[int, ...] = COMMON) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (plus ``common``), with examples."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, *common}):
        description, kind, message = _EXAMPLES[code]
        example = {"error": {"type": kind, "message": message}}
        out[code] = {
            "model": ErrorEnvelope,
            "description": description,
            "content": {"application/json": {"example": example}},
        }
    return out


def page_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Like :func:`errors`, for pages: a browser gets a friendly HTML page, a program JSON."""
    out = errors(*codes)
    for entry in out.values():
        entry["content"]["text/html"] = {"schema": {"type": "string"}}
    return out
