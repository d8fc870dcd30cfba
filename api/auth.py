"""Bearer tokens for staff (OAuth2 password flow) and the dependency that checks them.

Users live in the ``users`` table (Argon2id password hashes); the initial admin comes from
``YIZHAN_ADMIN_USER`` / ``YIZHAN_ADMIN_PASSWORD`` (``admin`` / ``admin`` only in development
mode) and is created at start-up. Tokens are signed JWTs (HS256) naming the user and the
user's token version; each request reads the user's current role, scope and version, so a
deactivated, deleted, downgraded or password-reset user's tokens stop at once. Tokens expire
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
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import get_platform, get_settings_dep, get_web
from api.schemas.common import errors
from api.throttle import LoginThrottle
from geo.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from geo.settings import Settings
from geo.users import UserInfo, authenticate, token_holder
from geo.vocabulary import Role

router = APIRouter(prefix="/v1/auth", tags=["auth"])
oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Token(BaseModel):
    """An access token answer (RFC 6749)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


def issue_token(settings: Settings, user: UserInfo, *, minutes: float | None = None) -> Token:
    """Sign a token for ``user`` (role and scope in the claims), valid ``minutes``."""
    ttl = timedelta(minutes=minutes or settings.token_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
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
) -> Token:
    """Exchange a user name and password for a bearer token."""
    throttle = login_throttle(request)
    client = request.client.host if request.client else "?"
    wait = throttle.wait(client, form.username, time.monotonic())
    if wait:
        msg = f"too many failed logins from here; try again in {wait} s"
        raise RateLimitedError(msg, retry_after=wait)
    with get_platform(request).db.connect() as conn:
        user = authenticate(conn, form.username, form.password)
    if user is None:
        throttle.failed(client, form.username, time.monotonic())
        msg = "wrong user name or password"
        raise AuthenticationError(msg)
    throttle.succeeded(client, form.username)
    return issue_token(settings, user)


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
    token: Annotated[str | None, Depends(oauth2)],
) -> UserInfo:
    """The caller behind the bearer token or the workbench's session cookie.

    401 when missing, expired, forged or revoked; a cookie-authenticated request that
    changes something needs the session's CSRF token in ``X-CSRF-Token`` (403 without).
    """
    if token:
        return principal_of(request, token)
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        msg = "this needs a bearer token: log in at POST /v1/auth/token"
        raise AuthenticationError(msg)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(get_settings_dep(request), session)):
            msg = "this change needs the page's CSRF token (X-CSRF-Token): reload the page"
            raise PermissionDeniedError(msg)
    return principal_of(request, session)


def principal_of(request: Request, token: str) -> UserInfo:
    """Check ``token`` and read its user's current role and scope."""
    settings = get_settings_dep(request)
    try:
        claims: dict[str, Any] = jwt.decode(token, settings.token_secret(), algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        msg = "the token has expired: log in again"
        raise AuthenticationError(msg) from exc
    except jwt.PyJWTError as exc:
        msg = "the token is not valid"
        raise AuthenticationError(msg) from exc
    version = claims.get("ver")
    with get_platform(request).db.connect() as conn:
        user = (
            token_holder(conn, str(claims.get("sub")), version)
            if isinstance(version, int)
            else None
        )
    if user is None:
        msg = "the token was revoked (account changed or deactivated): log in again"
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
