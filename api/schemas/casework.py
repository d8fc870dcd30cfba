"""The workbench's answers and requests: notes, callback, attachments, notifications, roster."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Answer, UtcTime


class NoteIn(BaseModel):
    """An internal note on a case."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class CallbackIn(BaseModel):
    """The callback to the reporter (回访) after resolution."""

    model_config = ConfigDict(extra="forbid")
    reached: bool
    satisfaction: int | None = Field(None, ge=1, le=5, description="1 (very dissatisfied) to 5")
    note: str | None = Field(None, max_length=2000)


class MemberChange(BaseModel):
    """A manager's change to a grid member's leave, capacity or skills."""

    model_config = ConfigDict(extra="forbid")
    on_leave: bool | None = None
    capacity: int | None = Field(None, ge=0, le=50)
    skills: list[str] | None = Field(None, max_length=20)


class ReadIn(BaseModel):
    """Notifications to mark read."""

    model_config = ConfigDict(extra="forbid")
    ids: list[int] = Field(min_length=1, max_length=500)


class Attachment(Answer):
    """A photo or PDF of a case (its bytes at ``url``)."""

    id: int
    name: str
    media_type: str
    size: int
    actor: str
    at: UtcTime
    url: str


class Attachments(Answer):
    """A case's attachments, oldest first."""

    attachments: list[Attachment]


class NotificationOut(Answer):
    """One notification: what happened to which case, in Chinese and English."""

    id: int
    at: UtcTime
    kind: str
    case_id: int | None
    reference: str | None
    message: str
    message_en: str | None
    read: bool


class Notifications(Answer):
    """The caller's notifications, newest first, and how many are unread."""

    notifications: list[NotificationOut]
    unread: int


class Done(Answer):
    """How many things a request changed."""

    changed: int
