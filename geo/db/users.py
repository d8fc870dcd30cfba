"""Queries on the ``users`` table (accounts, roles, scopes, token versions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m

_USERS = m.User.__table__
_SESSIONS = m.UserSession.__table__


def user_row(conn: Connection, username: str) -> Row[Any] | None:
    """The row of the user called ``username`` (active or not), or None."""
    return conn.execute(select(_USERS).where(_USERS.c.username == username)).first()


def user_rows(conn: Connection) -> list[Row[Any]]:
    """Every user, by name."""
    return list(conn.execute(select(_USERS).order_by(_USERS.c.username)))


def insert_user(conn: Connection, values: dict[str, Any]) -> int:
    """Add a user; returns the new id (an existing name is left alone and gives 0)."""
    stmt = insert(m.User).values(**values).on_conflict_do_nothing(index_elements=["username"])
    new_id = conn.scalar(stmt.returning(m.User.id))
    return int(new_id or 0)


def update_user(conn: Connection, username: str, values: dict[str, Any]) -> bool:
    """Change a user's columns and bump the token version; False when there is no such user."""
    stmt = (
        update(m.User)
        .where(m.User.username == username)
        .values(**values, token_version=m.User.token_version + 1)
    )
    return bool(conn.execute(stmt).rowcount)


def delete_user(conn: Connection, username: str) -> bool:
    """Remove a user; False when there is no such user."""
    return bool(conn.execute(delete(m.User).where(m.User.username == username)).rowcount)


def default_password_users(conn: Connection) -> list[Row[Any]]:
    """Active users whose password may still be a development default."""
    stmt = select(_USERS).where(_USERS.c.active, _USERS.c.default_password)
    return list(conn.execute(stmt))


def clear_default_flag(conn: Connection, username: str) -> None:
    """Record that ``username``'s password is not a development default."""
    stmt = update(m.User).where(m.User.username == username).values(default_password=False)
    conn.execute(stmt)


def member_exists(conn: Connection, member_id: int) -> bool:
    """Whether a grid member with this id exists."""
    return conn.scalar(select(m.GridMember.id).where(m.GridMember.id == member_id)) is not None


def session_holder(conn: Connection, user_id: int, session_id: str) -> Row[Any] | None:
    """The user of account ``user_id`` if session ``session_id`` is theirs and not expired."""
    stmt = (
        select(_USERS)
        .join(_SESSIONS, _SESSIONS.c.user_id == _USERS.c.id)
        .where(
            _USERS.c.id == user_id,
            _SESSIONS.c.id == session_id,
            _SESSIONS.c.expires_at > func.now(),
        )
    )
    return conn.execute(stmt).first()


def insert_session(conn: Connection, session_id: str, user_id: int, expires: datetime) -> None:
    """Open a session (and drop the user's expired ones)."""
    expired = (_SESSIONS.c.user_id == user_id, _SESSIONS.c.expires_at <= func.now())
    conn.execute(delete(m.UserSession).where(*expired))
    conn.execute(insert(m.UserSession).values(id=session_id, user_id=user_id, expires_at=expires))


def delete_session(conn: Connection, session_id: str) -> bool:
    """End a session; False when it had already ended."""
    return bool(conn.execute(delete(m.UserSession).where(_SESSIONS.c.id == session_id)).rowcount)


def delete_sessions(conn: Connection, user_id: int) -> None:
    """End every session of an account."""
    conn.execute(delete(m.UserSession).where(_SESSIONS.c.user_id == user_id))
