"""Bearer tokens for staff (OAuth2 password flow) and the dependency that checks them.

Users live in the ``users`` table (Argon2id password hashes); the initial admin comes from
``YIZHAN_ADMIN_USER`` / ``YIZHAN_ADMIN_PASSWORD`` (``admin`` / ``admin`` only in development
mode) and is created at start-up. Tokens are signed JWTs (HS256) carrying the role and scope
(district, town or grid member); they expire after ``YIZHAN_TOKEN_MINUTES``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel

from geo.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from geo.settings import Settings
from geo.users import UserInfo, authenticate

router = APIRouter(prefix="/v1/auth", tags=["auth"])
_failures: dict[str, list[float]] = {}  # failed logins per user name (this process)
oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


class Token(BaseModel):
    """An access token answer (RFC 6749)."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Principal(BaseModel):
    """Who is calling, and the part of the city they may see."""

    username: str
    role: str
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def issue_token(settings: Settings, user: UserInfo) -> Token:
    """Sign a token for ``user`` (role and scope in the claims)."""
    ttl = timedelta(minutes=settings.token_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "role": user.role,
        "district_id": user.district_id,
        "town_id": user.town_id,
        "member_id": user.member_id,
        "iat": now,
        "exp": now + ttl,
    }
    token = jwt.encode(claims, settings.token_secret(), algorithm="HS256")
    return Token(access_token=token, expires_in=int(ttl.total_seconds()))


@router.post("/token", response_model=Token, summary="Log in (OAuth2 password flow)")
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    settings: Annotated[Settings, Depends(_settings)],
) -> Token:
    """Exchange a user name and password for a bearer token."""
    key = form.username.lower()
    now = time.monotonic()
    recent = [t for t in _failures.get(key, []) if now - t < 300]
    if len(recent) >= settings.login_attempts:
        msg = "too many failed logins for this user; wait a few minutes"
        raise RateLimitedError(msg)
    with request.app.state.yizhan.engine.connect() as conn:
        user = authenticate(conn, form.username, form.password)
    if user is None:
        _failures[key] = [*recent, now]
        msg = "wrong user name or password"
        raise AuthenticationError(msg)
    _failures.pop(key, None)
    return issue_token(settings, user)


def current_principal(
    token: Annotated[str | None, Depends(oauth2)],
    settings: Annotated[Settings, Depends(_settings)],
) -> Principal:
    """The caller behind the bearer token (401 when missing, expired or forged)."""
    if not token:
        msg = "this needs a bearer token: log in at POST /v1/auth/token"
        raise AuthenticationError(msg)
    try:
        claims: dict[str, Any] = jwt.decode(token, settings.token_secret(), algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        msg = "the token has expired: log in again"
        raise AuthenticationError(msg) from exc
    except jwt.PyJWTError as exc:
        msg = "the token is not valid"
        raise AuthenticationError(msg) from exc
    return Principal(
        username=str(claims.get("sub")),
        role=str(claims.get("role")),
        district_id=claims.get("district_id"),
        town_id=claims.get("town_id"),
        member_id=claims.get("member_id"),
    )


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that admits only callers with one of ``roles``."""

    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            msg = f"role {principal.role!r} may not do this (needs {' or '.join(roles)})"
            raise PermissionDeniedError(msg)
        return principal

    return check
