"""Accounts: admins create, change and remove them; everyone changes their own password."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Admin, Anyone, refuse_while_throttled
from api.deps import ReadConn, WriteConn
from api.schemas.common import errors
from api.schemas.users import Account, AccountList, Caller
from geo.errors import AuthenticationError, ConflictError
from geo.users import (
    UserInfo,
    authenticate,
    change_user,
    create_user,
    delete_user,
    list_users,
    user_dict,
)
from geo.vocabulary import Role

router = APIRouter(prefix="/v1", tags=["users"])


class UserCreate(BaseModel):
    """A new account."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=12, max_length=200)
    role: Role
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None


class UserChange(BaseModel):
    """A change to an account: a new role (with its scope), activity, or a password reset.

    Any change ends the user's current sessions (their tokens stop working).
    """

    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=12, max_length=200)


class PasswordChange(BaseModel):
    """A user's own password change."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=200)
    new_password: str = Field(min_length=12, max_length=200)


UserName = Annotated[str, Path(min_length=1, max_length=80)]


@router.get(
    "/users", summary="Accounts (admin)", response_model=AccountList, responses=errors(401, 403)
)
def users(conn: ReadConn, _: Admin) -> AccountList:
    """Every account with its role, scope and whether it is active."""
    return AccountList(users=[Account(**user_dict(u)) for u in list_users(conn)])


@router.patch(
    "/users/{username}",
    summary="Change, deactivate or reset an account (admin)",
    response_model=Account,
    responses=errors(401, 403, 404, 409, 413),
)
def change_account(conn: WriteConn, username: UserName, body: UserChange, _: Admin) -> Account:
    """Role and scope, ``active`` or a new password; the user's old tokens stop working."""
    user = change_user(
        conn,
        username,
        role=body.role,
        district_id=body.district_id,
        town_id=body.town_id,
        member_id=body.member_id,
        active=body.active,
        password=body.password,
    )
    return Account(**user_dict(user))


@router.delete(
    "/users/{username}",
    status_code=204,
    summary="Delete an account (admin)",
    responses=errors(401, 403, 404, 409),
)
def remove_account(conn: WriteConn, username: UserName, who: Admin) -> Response:
    """Remove an account (its tokens stop working); you cannot remove yourself."""
    if username == who.username:
        msg = "you cannot delete your own account"
        raise ConflictError(msg)
    delete_user(conn, username)
    return Response(status_code=204)


@router.post(
    "/users/me/password",
    summary="Change your own password",
    response_model=Account,
    responses=errors(401, 413),
)
def change_own_password(
    request: Request, conn: WriteConn, body: PasswordChange, who: Anyone
) -> Account:
    """Your sessions end; log in again with the new password.

    Wrong current passwords are throttled like failed logins (a stolen session cannot be
    used to guess the password).
    """
    throttle, client = refuse_while_throttled(request, who.username)
    if authenticate(conn, who.username, body.current_password) is None:
        throttle.failed(client, who.username, time.monotonic())
        msg = "the current password is wrong"
        raise AuthenticationError(msg)
    throttle.succeeded(client, who.username)
    return Account(**user_dict(change_user(conn, who.username, password=body.new_password)))


@router.post(
    "/users",
    status_code=201,
    summary="Create an account (admin)",
    response_model=Account,
    responses=errors(401, 403, 404, 409, 413),
)
def add_user(conn: WriteConn, body: UserCreate, _: Admin) -> Account:
    """Managers need a district or town; members a grid member."""
    user = create_user(
        conn,
        body.username,
        body.password,
        body.role,
        district_id=body.district_id,
        town_id=body.town_id,
        member_id=body.member_id,
    )
    return Account(**user_dict(user))


@router.get("/users/me", summary="Who am I", response_model=Caller, responses=errors(401))
def me(who: Anyone) -> UserInfo:
    """The caller's role and scope."""
    return who
