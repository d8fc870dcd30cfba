"""Users, their roles and scopes, passwords (Argon2id via argon2-cffi) and token versions.

Every change that should end a user's sessions — deactivation, deletion, a new role or scope,
a password reset — bumps the user's ``token_version``; tokens carry the version they were
issued with and :func:`token_holder` refuses any other, so old tokens stop at once.
Development default passwords (``admin`` and its like) are never accepted for a new
password; the one account a development set-up creates with ``admin`` is flagged, and
:func:`development_password_accounts` lets production refuse to start while it is so.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Row

from geo.access import Area, area_of
from geo.cases.access import Scope, scope_for
from geo.db import users as q
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.settings import DEVELOPMENT_PASSWORDS, password_weakness
from geo.vocabulary import Role

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verifying against this keeps the time of a login with an unknown user like a real one.

    Made at the first login, not at import (an argon2 hash costs every process a moment).
    """
    return _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class UserInfo:
    """Who a user is and what they may see: the caller of every staff request."""

    id: int
    username: str
    role: str
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    active: bool = True
    token_version: int = 1

    @property
    def area(self) -> Area:
        """Where this user may change things (see :mod:`geo.access`)."""
        return area_of(self.role, self.district_id, self.town_id)

    @property
    def case_scope(self) -> Scope:
        """Which cases this user may see (see :mod:`geo.cases.access`)."""
        return scope_for(
            self.role,
            district_id=self.district_id,
            town_id=self.town_id,
            member_id=self.member_id,
        )


def _info(row: Row[Any]) -> UserInfo:
    return UserInfo(
        row.id,
        row.username,
        row.role,
        row.district_id,
        row.town_id,
        row.member_id,
        row.active,
        row.token_version,
    )


def hash_password(password: str, username: str = "") -> str:
    """An Argon2id hash of ``password``, refusing weak ones (see :func:`password_weakness`)."""
    weakness = password_weakness(password, username)
    if weakness:
        msg = f"password refused: {weakness}"
        raise ValidationError(msg)
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(conn: Connection, username: str, password: str) -> UserInfo | None:
    """The active user with these credentials, or None."""
    row = q.user_row(conn, username)
    ok = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    if row is None or not ok or not row.active:
        return None
    return _info(row)


def token_holder(conn: Connection, user_id: int, version: int, session_id: str) -> UserInfo | None:
    """The active account a token names, if its session is open and its version current.

    A token is bound to the account's id (never reused: a new account of a deleted one's
    name is another account) and to a session that logging out ends.
    """
    row = q.session_holder(conn, user_id, session_id)
    if row is None or not row.active or row.token_version != version:
        return None
    return _info(row)


def open_session(conn: Connection, user: UserInfo, ttl: timedelta) -> str:
    """Open a session for ``user`` lasting ``ttl``; returns its id (for the token)."""
    session_id = secrets.token_urlsafe(24)
    q.insert_session(conn, session_id, user.id, datetime.now(UTC) + ttl)
    return session_id


def end_session(conn: Connection, session_id: str) -> bool:
    """End a session (logging out); False when it had already ended."""
    return q.delete_session(conn, session_id)


def _check_role(
    conn: Connection, role: str, district_id: int | None, town_id: int | None, member_id: int | None
) -> None:
    if role not in Role.codes():
        msg = f"role must be one of {', '.join(Role.codes())}"
        raise ValidationError(msg)
    if role == "manager" and district_id is None and town_id is None:
        msg = "a manager is scoped to a district or a town"
        raise ValidationError(msg)
    if role == "member" and member_id is None:
        msg = "a member account belongs to a grid member"
        raise ValidationError(msg)
    if member_id is not None and not q.member_exists(conn, member_id):
        msg = f"grid member {member_id} not found"
        raise NotFoundError(msg)


def create_user(
    conn: Connection,
    username: str,
    password: str,
    role: str,
    *,
    district_id: int | None = None,
    town_id: int | None = None,
    member_id: int | None = None,
) -> UserInfo:
    """Add a user; managers need a district or town, members a grid member."""
    _check_role(conn, role, district_id, town_id, member_id)
    values = {
        "username": username,
        "password_hash": hash_password(password, username),
        "role": role,
        "district_id": district_id,
        "town_id": town_id,
        "member_id": member_id,
        "active": True,
    }
    new_id = q.insert_user(conn, values)
    if not new_id:
        msg = f"user {username!r} exists"
        raise ConflictError(msg)
    return UserInfo(new_id, username, role, district_id, town_id, member_id)


def get_user(conn: Connection, username: str) -> UserInfo:
    """A user by name."""
    row = q.user_row(conn, username)
    if row is None:
        msg = f"user {username!r} not found"
        raise NotFoundError(msg)
    return _info(row)


def list_users(conn: Connection) -> list[UserInfo]:
    """Every user, by name."""
    return [_info(r) for r in q.user_rows(conn)]


def change_user(
    conn: Connection,
    username: str,
    *,
    role: str | None = None,
    district_id: int | None = None,
    town_id: int | None = None,
    member_id: int | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> UserInfo:
    """Change a user's role and scope, activity or password; their old tokens stop working.

    A new ``role`` replaces the whole scope (``district_id``, ``town_id``, ``member_id``).
    """
    user = get_user(conn, username)
    values: dict[str, Any] = {}
    if role is not None:
        _check_role(conn, role, district_id, town_id, member_id)
        values |= {
            "role": role,
            "district_id": district_id,
            "town_id": town_id,
            "member_id": member_id,
        }
    if active is not None:
        values["active"] = active
    if password is not None:
        values |= {"password_hash": hash_password(password, username), "default_password": False}
    q.update_user(conn, user.username, values)
    q.delete_sessions(conn, user.id)  # every change ends the user's sessions
    return get_user(conn, username)


def delete_user(conn: Connection, username: str) -> None:
    """Remove a user (their tokens stop working: the name no longer resolves)."""
    if not q.delete_user(conn, username):
        msg = f"user {username!r} not found"
        raise NotFoundError(msg)


def ensure_admin(conn: Connection, username: str, password: str) -> None:
    """Create the initial admin if no user of that name exists (idempotent).

    A development default password (``admin``) is flagged on the account, so that
    production can refuse to start while it is still in use.
    """
    if q.user_row(conn, username) is not None:
        return
    default = password.lower() in DEVELOPMENT_PASSWORDS
    pw_hash = _hasher.hash(password) if default else hash_password(password, username)
    q.insert_user(
        conn,
        {
            "username": username,
            "password_hash": pw_hash,
            "role": "admin",
            "active": True,
            "default_password": default,
        },
    )


def development_password_accounts(conn: Connection) -> list[str]:
    """Active accounts whose password is still a development default (flags are re-checked)."""
    found = []
    for row in q.default_password_users(conn):
        if any(_verify(row.password_hash, pw) for pw in sorted(DEVELOPMENT_PASSWORDS)):
            found.append(row.username)
        else:
            q.clear_default_flag(conn, row.username)
    return found


def user_dict(user: UserInfo) -> dict[str, Any]:
    """A user as JSON-able data (no secrets)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "district_id": user.district_id,
        "town_id": user.town_id,
        "member_id": user.member_id,
        "active": user.active,
    }
