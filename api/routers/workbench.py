"""``/manager``: the grid managers' workbench, signed in with a session cookie.

The page signs in with a form (user name and password, throttled like the token login) and
keeps the session in an HttpOnly, SameSite=Strict cookie holding a signed token; the page's
script calls the ``/v1`` API with it, sending the session's CSRF token on every change
(:func:`api.auth.current_principal` refuses a change without it). The bearer-token API is
unchanged. A person never sees JSON or a stack trace here: a wrong password shows the form
again with a message.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection

from api.auth import (
    SESSION_COOKIE,
    csrf_token,
    login_throttle,
    principal_of,
    sign_in_session,
    token_claims,
)
from api.deps import AppSettings, RequestConn, get_platform, get_settings_dep, get_web
from api.errors import error_body
from api.pages import content_security_policy, page_answer
from geo.areas import town_seats
from geo.errors import YizhanError
from geo.settings import Settings
from geo.tiles import basemap_config
from geo.users import UserInfo, authenticate, end_session
from geo.vocabulary import STAFF_CHANNELS, Channel, Role, label
from pages.workbench import TEXT, page_config

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=PackageLoader("pages", "templates"), autoescape=select_autoescape(["html"])
)
#: who may use the workbench (planners have the maps)
WORKBENCH_ROLES = (Role.ADMIN, Role.MANAGER, Role.MEMBER)


def _lang(request: Request) -> str:
    """The language a link asks for (``?lang=``), else the region's."""
    asked = request.query_params.get("lang")
    return str(asked) if asked in ("zh", "en") else get_settings_dep(request).language


def _session_user(request: Request, conn: Connection) -> tuple[UserInfo, str] | None:
    """The signed-in user and their session token, or None."""
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        return None
    try:
        user = principal_of(get_platform(request).settings, conn, session)
    except YizhanError:
        return None
    return (user, session) if user.role in WORKBENCH_ROLES else None


def _page(request: Request, settings: Settings, html: str, status: int = 200) -> Response:
    headers = {
        # staff pages are never framed, whatever the public maps allow (no clickjacking)
        "Content-Security-Policy": content_security_policy((), "'none'"),
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
    }
    return page_answer(
        request, html.encode(), "text/html; charset=utf-8", status=status, headers=headers
    )


#: the sign-in form's own cookie: a random value whose HMAC the form carries (login CSRF)
LOGIN_COOKIE = "yizhan_login"


def _login_csrf(settings: Settings, nonce: str) -> str:
    return csrf_token(settings, "login:" + nonce)


def _sign_in(
    request: Request, settings: Settings, lang: str, message: str | None, status: int
) -> Response:
    """The sign-in form, with a token tying it to this browser (another site cannot post it)."""
    assets = get_web(request).page_assets
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    html = _templates.get_template("workbench_login.html").render(
        t=TEXT[lang],
        lang=lang,
        lang_html="zh-CN" if lang == "zh" else "en",
        message=message,
        other="en" if lang == "zh" else "zh",
        css=[assets.url("workbench.css")],
        csrf=_login_csrf(settings, nonce),
    )
    answer = _page(request, settings, html, status)
    secure = request.url.scheme == "https"
    answer.set_cookie(
        LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=secure, path="/manager"
    )
    return answer


@router.get("/manager")
def workbench(request: Request, settings: AppSettings, conn: RequestConn) -> Response:
    """The workbench, or its sign-in form (Chinese by default, ``?lang=en``)."""
    return _workbench(request, settings, conn, "desk")


@router.get("/manager/intake")
def intake(request: Request, settings: AppSettings, conn: RequestConn) -> Response:
    """The workbench open at its intake form (受理登记: staff register a call)."""
    return _workbench(request, settings, conn, "intake")


@router.get("/manager/kpis")
def kpi_page(request: Request, settings: AppSettings, conn: RequestConn) -> Response:
    """The workbench open at the desk's figures (KPIs) for the cases in one's scope."""
    return _workbench(request, settings, conn, "kpis")


def _workbench(request: Request, settings: Settings, conn: Connection, view: str) -> Response:
    lang = _lang(request)
    found = _session_user(request, conn)
    if found is None:
        return _sign_in(request, settings, lang, None, 200)
    user, session = found
    assets = get_web(request).page_assets
    categories = list(settings.known_case_categories)
    csrf = csrf_token(settings, session)
    config = page_config(
        lang, user, csrf, categories, settings.amenities, return_review=settings.return_review
    )
    config["basemap"] = basemap_config(conn, lang)
    config["view"] = view if config["user"]["staff"] else "desk"
    config["towns"] = [
        {"id": r["id"], "name": r["name"], "district": r["district"]} for r in town_seats(conn)
    ]
    config["channels"] = {c: label(Channel, c, lang) for c in STAFF_CHANNELS}
    html = _templates.get_template("workbench.html").render(
        t=TEXT[lang],
        lang=lang,
        lang_html="zh-CN" if lang == "zh" else "en",
        user=config["user"],
        other="en" if lang == "zh" else "zh",
        config=json.dumps(config, ensure_ascii=False, separators=(",", ":")),
        csrf=config["csrf"],
        css=[assets.url("leaflet.css"), assets.url("workbench.css")],
        js=[
            assets.url("leaflet.js"),
            assets.url("protomaps-leaflet.js"),
            assets.url("basemap.js"),
            assets.url("workbench.js"),
        ],
    )
    return _page(request, settings, html)


@router.post("/manager/login")
def sign_in(
    request: Request,
    settings: AppSettings,
    conn: RequestConn,
    username: Annotated[str, Form(max_length=80)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """Check the form's token and the password, set the session cookie, go to the desk (303).

    A sign-in posted without the token of a form this browser was given (from another site,
    to sign the victim into the attacker's account) is refused with the form again (403).
    """
    lang = _lang(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(csrf, _login_csrf(settings, nonce)):
        return _sign_in(request, settings, lang, TEXT[lang]["expired_form"], 403)
    throttle = login_throttle(request)
    client = request.client.host if request.client else "?"
    if throttle.wait(client, username, time.monotonic()):
        return _sign_in(request, settings, lang, TEXT[lang]["throttled"], 429)
    hours = settings.session_hours
    user = authenticate(conn, username, password)
    if user is not None and user.role in WORKBENCH_ROLES:
        token = sign_in_session(conn, settings, user, hours * 60).access_token
        conn.commit()
    if user is None or user.role not in WORKBENCH_ROLES:
        throttle.failed(client, username, time.monotonic())
        return _sign_in(request, settings, lang, TEXT[lang]["wrong"], 401)
    throttle.succeeded(client, username)
    answer = RedirectResponse(f"/manager?lang={lang}", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return answer


@router.post("/manager/logout")
def sign_out(
    request: Request,
    settings: AppSettings,
    conn: RequestConn,
    csrf: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    """End the session (the form carries the CSRF token) and show the sign-in form.

    The session ends on the server: its cookie, even kept by someone, no longer works.
    """
    found = _session_user(request, conn)
    answer = RedirectResponse(f"/manager?lang={_lang(request)}", status_code=303)
    if found is not None and hmac.compare_digest(csrf, csrf_token(settings, found[1])):
        end_session(conn, str(token_claims(settings, found[1])["sid"]))
        conn.commit()
        answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


@router.get("/manager/session")
def session(request: Request, settings: AppSettings, conn: RequestConn) -> Response:
    """The signed-in user and the session's CSRF token (401 when not signed in)."""
    found = _session_user(request, conn)
    if found is None:
        refused = error_body("Authentication", "not signed in")
        return JSONResponse(refused, status_code=401)
    user, token = found
    answer = {"user": user.username, "role": user.role, "csrf": csrf_token(settings, token)}
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})
