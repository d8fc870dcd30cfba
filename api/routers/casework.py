"""The workbench's case work: notes, the callback, attachments, the roster, notifications."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Header, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection

from api.auth import CaseReaders, Staff
from api.deps import AppSettings, ReadConn, WriteConn
from api.params import CaseId
from api.schemas.casework import (
    Attachment,
    Attachments,
    CallbackIn,
    Done,
    MemberChange,
    NoteIn,
    NotificationOut,
    Notifications,
    ReadIn,
)
from api.schemas.common import errors
from geo.cases import followup
from geo.users import UserInfo

router = APIRouter(prefix="/v1", tags=["casework"])
AttachmentId = Annotated[int, Path(ge=1, le=2**62)]


@router.post(
    "/cases/{case_id}/notes",
    status_code=201,
    summary="Add an internal note to a case",
    response_model=Done,
    responses=errors(401, 403, 404, 413),
)
def note(conn: WriteConn, case_id: CaseId, body: NoteIn, who: CaseReaders) -> Done:
    """Staff and the member in scope; kept in the case's history, never shown publicly."""
    followup.add_note(conn, case_id, body.text, actor=who.username, scope=who.case_scope)
    return Done(changed=1)


@router.post(
    "/cases/{case_id}/callback",
    status_code=201,
    summary="Record the callback to the reporter (回访)",
    response_model=Done,
    responses=errors(401, 403, 404, 409, 413),
)
def callback(conn: WriteConn, case_id: CaseId, body: CallbackIn, who: Staff) -> Done:
    """After resolution and before closing: was the reporter reached, how satisfied (1-5)."""
    followup.record_callback(
        conn,
        case_id,
        reached=body.reached,
        satisfaction=body.satisfaction,
        note=body.note,
        actor=who.username,
        scope=who.case_scope,
    )
    return Done(changed=1)


def _attachment(case_id: int, row: dict[str, Any]) -> Attachment:
    url = f"/v1/cases/{case_id}/attachments/{row['id']}"
    return Attachment(
        **{k: row[k] for k in ("id", "name", "media_type", "size", "actor", "at")}, url=url
    )


@router.get(
    "/cases/{case_id}/attachments",
    summary="A case's photos and documents",
    response_model=Attachments,
    responses=errors(401, 403, 404),
)
def attachments(conn: ReadConn, case_id: CaseId, who: CaseReaders) -> Attachments:
    """Names, types and sizes; the bytes at each ``url``."""
    rows = followup.attachments(conn, case_id, who.case_scope)
    return Attachments(attachments=[_attachment(case_id, r) for r in rows])


@router.post(
    "/cases/{case_id}/attachments",
    status_code=201,
    summary="Attach a photo (JPEG, PNG) or a PDF to a case",
    response_model=Attachment,
    responses=errors(401, 403, 404, 409, 413, 429),
)
async def attach(
    request: Request,
    conn: WriteConn,
    case_id: CaseId,
    who: CaseReaders,
    x_filename: Annotated[
        str, Header(max_length=600, description="the file's name, percent-encoded (UTF-8)")
    ] = "file",
) -> Attachment:
    """The request body is the file itself (at most 5 MB); its type is read from the content."""
    content = await request.body()
    name = unquote(x_filename)
    return await run_in_threadpool(_store_attachment, conn, case_id, name, content, who)


def _store_attachment(
    conn: Connection, case_id: int, name: str, content: bytes, who: UserInfo
) -> Attachment:
    row = followup.add_attachment(
        conn, case_id, name, content, actor=who.username, scope=who.case_scope
    )
    return _attachment(case_id, row)


@router.get(
    "/cases/{case_id}/attachments/{attachment_id}",
    summary="One attachment's bytes",
    response_class=Response,
    responses=errors(401, 403, 404),
)
def attachment(
    conn: ReadConn,
    case_id: CaseId,
    attachment_id: AttachmentId,
    who: CaseReaders,
) -> Response:
    """Served as a download to callers who may see the case (never cached by proxies)."""
    found = followup.attachment(conn, case_id, attachment_id, who.case_scope)
    ascii_name = found["name"].encode("ascii", "replace").decode().replace("?", "_")
    return Response(
        bytes(found["content"]),
        media_type=found["media_type"],
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete(
    "/cases/{case_id}/attachments/{attachment_id}",
    status_code=204,
    summary="Remove an attachment (its uploader or a manager)",
    responses=errors(401, 403, 404),
)
def remove_attachment(
    conn: WriteConn,
    case_id: CaseId,
    attachment_id: AttachmentId,
    who: CaseReaders,
) -> Response:
    """The bytes are gone; the case's history keeps who removed what."""
    followup.remove_attachment(
        conn, case_id, attachment_id, actor=who.username, role=who.role, scope=who.case_scope
    )
    return Response(status_code=204)


@router.patch(
    "/members/{member_id}",
    summary="Set a grid member's leave, capacity or skills",
    response_model=Done,
    responses=errors(401, 403, 404),
)
def change_member(
    conn: WriteConn,
    member_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: MemberChange,
    who: Staff,
    settings: AppSettings,
) -> Done:
    """Managers of the member's town or district, and admins."""
    followup.update_member(
        conn,
        member_id,
        scope=who.case_scope,
        categories=settings.known_case_categories,
        on_leave=body.on_leave,
        capacity=body.capacity,
        skills=body.skills,
    )
    return Done(changed=int(bool(body.model_dump(exclude_none=True))))


@router.get(
    "/notifications",
    summary="Your notifications",
    response_model=Notifications,
    responses=errors(401, 403),
)
def my_notifications(conn: ReadConn, who: CaseReaders) -> Notifications:
    """A member's own; a manager's area's (returns, escalations, cases falling due)."""
    rows = followup.notifications(conn, who.case_scope)
    listed = [
        NotificationOut(
            id=r["id"],
            at=r["at"],
            kind=r["kind"],
            case_id=r["case_id"],
            reference=(r["data"] or {}).get("reference"),
            message=r["message"],
            message_en=(r["data"] or {}).get("en"),
            read=r["read_at"] is not None,
        )
        for r in rows
    ]
    return Notifications(notifications=listed, unread=sum(not n.read for n in listed))


@router.post(
    "/notifications/read",
    summary="Mark notifications read",
    response_model=Done,
    responses=errors(401, 403),
)
def read(conn: WriteConn, body: ReadIn, who: CaseReaders) -> Done:
    """Only your own notifications change; others' ids are ignored."""
    return Done(changed=followup.mark_notifications_read(conn, body.ids, who.case_scope))
