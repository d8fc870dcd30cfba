"""Bearer tokens for staff (OAuth2 password flow) and the dependency that checks them.

Users live in the ``users`` table (Argon2id password hashes); the initial admin comes from
``YIZHAN_ADMIN_USER`` / ``YIZHAN_ADMIN_PASSWORD`` (``admin`` / ``admin`` only in development
mode) and is created at start-up. Tokens are signed JWTs (HS256) naming the user and the
user's token version, bound to the account's id and to a server-side session
(``user_sessions``); each request reads the user's current role, scope and version on the
request's one connection, so a logged-out session's and a deactivated, deleted, downgraded or
password-reset user's tokens stop at once. Tokens expire
after ``YIZHAN_TOKEN_MINUTES``. Failed logins are throttled per client and account
(:mod:`api.throttle`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy import Connection

from api.deps import RequestConn, WriteConn, get_settings_dep, get_web
from api.schemas.common import errors
from api.throttle import LoginThrottle
from geo.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from geo.settings import Settings
from geo.users import UserInfo, authenticate, end_session, open_session, token_holder
from geo.vocabulary import Role

router = APIRouter(prefix="/v1/auth", tags=["auth"])
oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Token(BaseModel):
    """An access token answer (RFC 6749)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


def issue_token(
    settings: Settings, user: UserInfo, session_id: str, *, minutes: float | None = None
) -> Token:
    """Sign a token for ``user``'s session ``session_id`` (role and scope in the claims)."""
    ttl = timedelta(minutes=minutes or settings.token_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "uid": user.id,
        "sid": session_id,
        "role": user.role,
        "district_id": user.district_id,
        "town_id": user.town_id,
        "member_id": user.member_id,
        "ver": user.token_version,
        "iat": now,
        "exp": now + ttl,
    }
    token = jwt.encode(claims, settings.token_secret(), algorithm="HS256")
    return Token(access_token=token, expires_in=int(ttl.total_seconds()))


def sign_in_session(conn: Connection, settings: Settings, user: UserInfo, minutes: float) -> Token:
    """Open a server-side session for ``user`` and sign its token (valid ``minutes``)."""
    session_id = open_session(conn, user, timedelta(minutes=minutes))
    return issue_token(settings, user, session_id, minutes=minutes)


@router.post(
    "/token",
    response_model=Token,
    summary="Log in (OAuth2 password flow)",
    responses=errors(401, 413),
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: Annotated[Settings, Depends(get_settings_dep)],
    conn: WriteConn,
) -> Token:
    """Exchange a user name and password for a bearer token."""
    throttle, client = refuse_while_throttled(request, form.username)
    user = authenticate(conn, form.username, form.password)
    if user is not None:
        token = sign_in_session(conn, settings, user, settings.token_minutes)
    if user is None:
        throttle.failed(client, form.username, time.monotonic())
        msg = "wrong user name or password"
        raise AuthenticationError(msg)
    throttle.succeeded(client, form.username)
    return token


@router.post("/logout", status_code=204, summary="End this token's session", responses=errors(401))
def logout(
    request: Request, conn: WriteConn, token: Annotated[str | None, Depends(oauth2)]
) -> Response:
    """The token (and any copy of it) stops working at once."""
    if not token:
        msg = "this needs a bearer token: log in at POST /v1/auth/token"
        raise AuthenticationError(msg)
    principal_of(get_settings_dep(request), conn, token)  # a valid, open session
    end_session(conn, str(token_claims(get_settings_dep(request), token)["sid"]))
    return Response(status_code=204)


def refuse_while_throttled(request: Request, username: str) -> tuple[LoginThrottle, str]:
    """429 while this client and account are backing off; else the throttle and the client."""
    throttle = login_throttle(request)
    client = request.client.host if request.client else "?"
    wait = throttle.wait(client, username, time.monotonic())
    if wait:
        msg = f"too many failed attempts from here; try again in {wait} s"
        raise RateLimitedError(msg, retry_after=wait)
    return throttle, client


def login_throttle(request: Request) -> LoginThrottle:
    """The app's login throttle (made with the app, from its settings)."""
    return get_web(request).login_throttle


#: the workbench's session cookie (HttpOnly, SameSite=Strict) holding a signed token
SESSION_COOKIE = "yizhan_session"
#: the header a cookie-authenticated request that changes something must carry
CSRF_HEADER = "X-CSRF-Token"
#: methods that change nothing (no CSRF token needed)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(settings: Settings, session: str) -> str:
    """The CSRF token of a workbench session: an HMAC of the session, readable only by its page.

    A page of another site can make the browser send the cookie but cannot read this token,
    so a request it forges lacks the header and is refused.
    """
    key = settings.token_secret().encode()
    return hmac.new(key, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()[:40]


def current_principal(
    request: Request,
    conn: RequestConn,
    token: Annotated[str | None, Depends(oauth2)],
) -> UserInfo:
    """The caller behind the bearer token or the workbench's session cookie.

    Resolved on the request's one connection. 401 when missing, expired, forged or revoked
    (logged out, account changed or deleted); a cookie-authenticated request that changes
    something needs the session's CSRF token in ``X-CSRF-Token`` (403 without).
    """
    settings = get_settings_dep(request)
    try:
        return _caller(request, settings, conn, token)
    finally:
        conn.rollback()  # the read ends here: a handler that waits holds no open transaction


def _caller(request: Request, settings: Settings, conn: Connection, token: str | None) -> UserInfo:
    if token:
        return principal_of(settings, conn, token)
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        msg = "this needs a bearer token: log in at POST /v1/auth/token"
        raise AuthenticationError(msg)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(settings, session)):
            msg = "this change needs the page's CSRF token (X-CSRF-Token): reload the page"
            raise PermissionDeniedError(msg)
    return principal_of(settings, conn, session)


def token_claims(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a token signed by this service (401 when expired or not valid)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, settings.token_secret(), algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        msg = "the token has expired: log in again"
        raise AuthenticationError(msg) from exc
    except jwt.PyJWTError as exc:
        msg = "the token is not valid"
        raise AuthenticationError(msg) from exc
    return claims


def principal_of(settings: Settings, conn: Connection, token: str) -> UserInfo:
    """Check ``token`` and read its account's current role and scope on ``conn``."""
    claims = token_claims(settings, token)
    uid, version, sid = claims.get("uid"), claims.get("ver"), claims.get("sid")
    valid = isinstance(uid, int) and isinstance(version, int) and isinstance(sid, str)
    user = token_holder(conn, uid, version, sid) if valid else None  # type: ignore[arg-type]
    if user is None:
        msg = "the token was revoked (logged out, account changed or deleted): log in again"
        raise AuthenticationError(msg)
    return user


def require_roles(*roles: str) -> Callable[[UserInfo], UserInfo]:
    """A dependency that admits only callers with one of ``roles``."""

    def check(principal: Annotated[UserInfo, Depends(current_principal)]) -> UserInfo:
        if principal.role not in roles:
            msg = f"role {principal.role!r} may not do this (needs {' or '.join(roles)})"
            raise PermissionDeniedError(msg)
        return principal

    return check


Admin = Annotated[UserInfo, Depends(require_roles(Role.ADMIN))]
Staff = Annotated[UserInfo, Depends(require_roles(Role.ADMIN, Role.MANAGER))]
CaseReaders = Annotated[UserInfo, Depends(require_roles(Role.ADMIN, Role.MANAGER, Role.MEMBER))]
Planner = Annotated[UserInfo, Depends(require_roles(Role.ADMIN, Role.PLANNER, Role.MANAGER))]
Anyone = Annotated[UserInfo, Depends(current_principal)]
