"""Users, their roles and scopes, and password hashing (Argon2id via argon2-cffi)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m
from geo.errors import ConflictError, NotFoundError, ValidationError

_hasher = PasswordHasher()
# verifying against this keeps the time of a login with an unknown user like a real one
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class UserInfo:
    """Who a user is and what they may see."""

    id: int
    username: str
    role: str
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    if len(password) < 8:
        msg = "passwords need at least 8 characters"
        raise ValidationError(msg)
    return _hasher.hash(password)


def authenticate(conn: Connection, username: str, password: str) -> UserInfo | None:
    """The active user with these credentials, or None."""
    row = conn.execute(
        select(m.User.__table__).where(m.User.username == username, m.User.active)
    ).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return UserInfo(row.id, row.username, row.role, row.district_id, row.town_id, row.member_id)


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
    if role not in m.USER_ROLES:
        msg = f"role must be one of {', '.join(m.USER_ROLES)}"
        raise ValidationError(msg)
    if role == "manager" and district_id is None and town_id is None:
        msg = "a manager is scoped to a district or a town"
        raise ValidationError(msg)
    if role == "member" and member_id is None:
        msg = "a member account belongs to a grid member"
        raise ValidationError(msg)
    exists = conn.scalar(select(m.User.id).where(m.User.username == username))
    if exists:
        msg = f"user {username!r} exists"
        raise ConflictError(msg)
    new_id = conn.scalar(
        insert(m.User)
        .values(
            username=username,
            password_hash=hash_password(password),
            role=role,
            district_id=district_id,
            town_id=town_id,
            member_id=member_id,
            active=True,
        )
        .returning(m.User.id)
    )
    return UserInfo(int(new_id or 0), username, role, district_id, town_id, member_id)


def ensure_admin(conn: Connection, username: str, password: str) -> None:
    """Create the initial admin if no user of that name exists (idempotent).

    The password comes from the settings, which refuse well-known ones outside development.
    """
    if conn.scalar(select(m.User.id).where(m.User.username == username)) is not None:
        return
    stmt = insert(m.User).values(
        username=username, password_hash=_hasher.hash(password), role="admin", active=True
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["username"]))


def get_user(conn: Connection, username: str) -> UserInfo:
    """A user by name."""
    row = conn.execute(select(m.User.__table__).where(m.User.username == username)).first()
    if row is None:
        msg = f"user {username!r} not found"
        raise NotFoundError(msg)
    return UserInfo(row.id, row.username, row.role, row.district_id, row.town_id, row.member_id)


def user_dict(user: UserInfo) -> dict[str, Any]:
    """A user as JSON-able data (no secrets)."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "district_id": user.district_id,
        "town_id": user.town_id,
        "member_id": user.member_id,
    }
