"""Domain errors mapped to HTTP statuses in one place, with one JSON error format.

Every error answer is ``{"error": {"type": ..., "message": ..., "details": ...}}``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.messages import localised, request_error_zh, wants_chinese
from api.observe import POOL_WAITS
from api.pages import content_security_policy
from geo import errors as e
from geo.validation import data_error_message, domain_error
from pages.errors import error_page

STATUS_CODES: dict[type[e.YizhanError], int] = {
    e.NotFoundError: 404,
    e.InvalidGeometryError: 422,
    e.OutsideRegionError: 422,
    e.ValidationError: 422,
    e.ConflictError: 409,
    e.DatabaseUnavailableError: 503,
    e.SetupError: 503,
    e.NotReadyError: 503,
    e.AuthenticationError: 401,
    e.PermissionDeniedError: 403,
    e.RateLimitedError: 429,
}


def _respond(
    request: Request,
    body: dict[str, Any],
    status: int,
    headers: Any = None,
    *,
    zh: str | None = None,
) -> Response:
    """The one error format, except on Open311 paths (GeoReport's own) and for people.

    A browser asking for a map page (``Accept: text/html``) gets a friendly page instead.
    A Chinese caller reads ``zh`` (the domain's own words) when the error has them, the
    English message then kept as ``detail``; otherwise a Chinese lead before the English.

    OGC API Features answers an unknown or invalid parameter with 400 (Part 1, 7.6), where
    the rest of the API says 422.
    """
    if status == 422 and request.url.path.startswith("/ogc"):
        status = 400
    if request.url.path.startswith("/maps/") and "text/html" in request.headers.get("accept", ""):
        english = "lang=en" in request.url.query  # the maps speak Chinese unless asked
        error = body["error"]
        text = localised(error["type"], error["message"], chinese=not english)
        text = zh if zh is not None and not english else text
        page = error_page(status, text, lang="en" if english else "zh")
        policy = {"Content-Security-Policy": content_security_policy((), "'self'")}
        return HTMLResponse(page, status_code=status, headers={**(headers or {}), **policy})
    chinese = wants_chinese(request.url.query, request.headers.get("accept-language", ""))
    if chinese:
        error = body["error"]
        said = {"message": zh, "detail": error["message"]} if zh is not None else {}
        body = {
            "error": {
                **error,
                "message": localised(error["type"], error["message"], chinese=True),
                **said,
            }
        }
    if request.url.path.startswith("/open311/"):
        errors = [{"code": status, "description": body["error"]["message"]}]
        if request.url.path.endswith(".xml"):
            top = ET.Element("errors")
            for err in errors:
                node = ET.SubElement(top, "error")
                ET.SubElement(node, "code").text = str(err["code"])
                ET.SubElement(node, "description").text = str(err["description"])
            xml = ET.tostring(top, encoding="utf-8", xml_declaration=True)
            return Response(xml, status_code=status, headers=headers, media_type="application/xml")
        return JSONResponse(errors, status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def error_body(kind: str, message: str, details: Any = None) -> dict[str, Any]:
    """The API's one error format."""
    body: dict[str, Any] = {"type": kind, "message": message}
    if details is not None:
        body["details"] = details
    return {"error": body}


def status_for(exc: e.YizhanError) -> int:
    """HTTP status of a domain error (the most specific class listed wins)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return 400


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers that turn errors into the one JSON error format."""

    async def domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, e.YizhanError)
        status = status_for(exc)
        headers = {"Retry-After": "5"} if status in (503, 429) else None
        if isinstance(exc, e.RateLimitedError):
            headers = {"Retry-After": str(exc.retry_after)}
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        name = type(exc).__name__.removesuffix("Error")
        body = error_body(name, str(exc))
        if exc.code is not None:
            body["error"]["code"] = exc.code
        return _respond(request, body, status, headers, zh=exc.zh)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
            for err in exc.errors()
        ]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        ctx = exc.errors()[0].get("ctx") if details else None
        zh = request_error_zh(first["loc"], str(first.get("type")), ctx)
        return _respond(
            request,
            error_body("RequestValidation", f"{where}: {first['msg']}", details),
            422,
            zh=zh,
        )

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return _respond(request, error_body("HTTP", str(exc.detail)), exc.status_code, exc.headers)

    async def database_down(request: Request, exc: Exception) -> Response:
        body = error_body("DatabaseUnavailable", "the database is unavailable; try again shortly")
        return _respond(request, body, 503, {"Retry-After": "5"})

    async def pool_exhausted(request: Request, exc: Exception) -> Response:
        POOL_WAITS.inc()
        body = error_body("Busy", "the service is busy; try again in a few seconds")
        return _respond(request, body, 503, {"Retry-After": "2"})

    async def data_refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DataError)
        return _respond(request, error_body("InvalidValue", data_error_message(exc)), 422)

    async def integrity(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, IntegrityError)
        mapped = domain_error(exc)
        status = status_for(mapped) if isinstance(mapped, e.YizhanError) else 409
        return _respond(
            request, error_body(type(mapped).__name__.removesuffix("Error"), str(mapped)), status
        )

    app.add_exception_handler(IntegrityError, integrity)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(PoolTimeoutError, pool_exhausted)  # every connection in use
    app.add_exception_handler(DataError, data_refused)
    app.add_exception_handler(e.YizhanError, domain)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http)
