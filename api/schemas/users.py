"""Accounts as the API shows them (never a password hash)."""

from __future__ import annotations

from api.schemas.common import Answer


class Caller(Answer):
    """Who is calling: role and the part of the city they work in."""

    username: str
    role: str
    district_id: int | None
    town_id: int | None
    member_id: int | None


class Account(Caller):
    """An account, for admins."""

    id: int
    active: bool


class AccountList(Answer):
    """Every account."""

    users: list[Account]
