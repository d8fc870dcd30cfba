"""What the workbench adds besides status changes: notes, callback, attachments, roster.

- **Notes** are internal (staff and the member in scope), kept in the append-only history.
- **The callback** (回访): after resolution someone calls the reporter back — reached or
  not, how satisfied (1-5) — and only then may the case be closed.
- **Attachments** (photos, PDFs) are checked by content, not by name, and kept in the
  database; they are served only to callers who may see the case.
- **The roster**: managers set their members' leave, capacity and skills.
- **Notifications**: each person's list (:mod:`geo.cases.notify` writes them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, get_case, require_member_in_scope
from geo.db import cases as db
from geo.db import workbench as wb
from geo.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from geo.vocabulary import CaseStatus, Role, label

NOTE_MAX = 2000
#: attachment types by their first bytes (what a file is, whatever its name says)
ATTACHMENT_MAGIC = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
}
ATTACHMENT_MAX_BYTES = 5_000_000
#: what one case may keep, and what one account may upload in a day
CASE_ATTACHMENTS = 20
CASE_ATTACHMENT_BYTES = 40_000_000
DAILY_UPLOAD_BYTES = 100_000_000


def add_note(conn: Connection, case_id: int, text: str, *, actor: str, scope: Scope) -> None:
    """Append an internal note to a case's history."""
    get_case(conn, case_id, scope)
    body = text.strip()
    if not body or len(body) > NOTE_MAX:
        msg = f"a note needs 1 to {NOTE_MAX} characters"
        raise ValidationError(msg, zh=f"备注需 1 至 {NOTE_MAX} 个字")
    db.insert_event(conn, case_id, actor, "note", reason=body)


def record_callback(
    conn: Connection,
    case_id: int,
    *,
    reached: bool,
    satisfaction: int | None,
    note: str | None,
    actor: str,
    scope: Scope,
) -> None:
    """Record the callback to the reporter (回访) of a resolved case."""
    case = get_case(conn, case_id, scope)
    if case["status"] != CaseStatus.RESOLVED:
        msg = f"the callback (回访) follows resolution; this case is {case['status']}"
        now = label(CaseStatus, case["status"], "zh")
        raise ConflictError(msg, zh=f"办结后才能回访；该案件当前为「{now}」")
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        msg = "satisfaction is 1 (very dissatisfied) to 5 (very satisfied)"
        raise ValidationError(msg, zh="满意度为 1（很不满意）至 5（很满意）")
    if reached and satisfaction is None:
        msg = "a reporter who was reached gives a satisfaction (1-5)"
        raise ValidationError(msg, zh="已联系上诉求人时请选择满意度（1–5）")
    data = {"reached": reached, "satisfaction": satisfaction if reached else None}
    db.insert_event(
        conn, case_id, actor, "callback", reason=(note or "").strip() or None, data=data
    )


def require_callback(conn: Connection, case_id: int) -> None:
    """Refuse closing a case whose callback was not recorded since its resolution."""
    if not wb.callback_since_resolution(conn, case_id):
        msg = "record the callback to the reporter (回访) before closing the case"
        raise ConflictError(msg, zh="关闭案件前请先完成对诉求人的回访")


def media_type_of(content: bytes) -> str:
    """The attachment type its first bytes show (refusing anything else)."""
    for media, magic in ATTACHMENT_MAGIC.items():
        if content.startswith(magic):
            return media
    msg = "attachments must be JPEG or PNG photos or PDF documents"
    raise ValidationError(msg, zh="附件须为 JPEG 或 PNG 照片、PDF 文件")


def add_attachment(
    conn: Connection, case_id: int, name: str, content: bytes, *, actor: str, scope: Scope
) -> dict[str, Any]:
    """Store a photo or PDF for a case (type read from the content, size limited)."""
    get_case(conn, case_id, scope)
    if not content or len(content) > ATTACHMENT_MAX_BYTES:
        msg = f"an attachment must hold 1 byte to {ATTACHMENT_MAX_BYTES // 1_000_000} MB"
        zh = f"附件大小须在 {ATTACHMENT_MAX_BYTES // 1_000_000} MB 以内且不为空"
        raise ValidationError(msg, zh=zh)
    media = media_type_of(content)
    since = datetime.now(UTC) - timedelta(days=1)
    count, size, daily = wb.attachment_usage(conn, case_id, actor, since)
    if count >= CASE_ATTACHMENTS or size + len(content) > CASE_ATTACHMENT_BYTES:
        msg = (
            f"a case keeps at most {CASE_ATTACHMENTS} attachments and "
            f"{CASE_ATTACHMENT_BYTES // 1_000_000} MB; remove one first"
        )
        most = CASE_ATTACHMENT_BYTES // 1_000_000
        zh = f"每个案件最多 {CASE_ATTACHMENTS} 个附件、共 {most} MB；请先删除一个"
        raise ConflictError(msg, zh=zh)
    if daily + len(content) > DAILY_UPLOAD_BYTES:
        msg = f"you may upload {DAILY_UPLOAD_BYTES // 1_000_000} MB a day; try again tomorrow"
        zh = f"每天最多上传 {DAILY_UPLOAD_BYTES // 1_000_000} MB，请明天再试"
        raise RateLimitedError(msg, retry_after=3600, zh=zh)
    clean = "".join(ch for ch in name if ch.isprintable() and ch not in '/\\"')[:200] or "file"
    row = wb.insert_attachment(conn, case_id, clean, media, content, actor)
    db.insert_event(conn, case_id, actor, "attachment", data={"id": row["id"], "name": clean})
    return row


def remove_attachment(
    conn: Connection, case_id: int, attachment_id: int, *, actor: str, role: str, scope: Scope
) -> None:
    """Remove an attachment: its uploader or a manager in scope may; the history says so."""
    get_case(conn, case_id, scope)
    found = wb.attachment_bytes(conn, case_id, attachment_id)
    if found is None:
        msg = f"attachment {attachment_id} of case {case_id} not found"
        raise NotFoundError(msg, zh="找不到该附件")
    if found["actor"] != actor and role not in (Role.ADMIN, Role.MANAGER):
        msg = "only its uploader or a manager may remove an attachment"
        raise PermissionDeniedError(msg, zh="只有上传者或管理人员可以删除附件")
    gone = wb.delete_attachment(conn, case_id, attachment_id)
    if gone is not None:
        data = {"id": attachment_id, "name": gone["name"], "uploaded_by": gone["actor"]}
        db.insert_event(conn, case_id, actor, "attachment_removed", data=data)


def attachments(conn: Connection, case_id: int, scope: Scope) -> list[dict[str, Any]]:
    """A case's attachments (without their bytes)."""
    get_case(conn, case_id, scope)
    return wb.attachment_list(conn, case_id)


def attachment(conn: Connection, case_id: int, attachment_id: int, scope: Scope) -> dict[str, Any]:
    """One attachment with its bytes (404 outside the scope or when unknown)."""
    get_case(conn, case_id, scope)
    found = wb.attachment_bytes(conn, case_id, attachment_id)
    if found is None:
        msg = f"attachment {attachment_id} of case {case_id} not found"
        raise NotFoundError(msg, zh="找不到该附件")
    return found


#: the most open cases a member may be given at once
MAX_CAPACITY = 50


def update_member(
    conn: Connection,
    member_id: int,
    *,
    scope: Scope,
    categories: Sequence[str],
    on_leave: bool | None = None,
    capacity: int | None = None,
    skills: Sequence[str] | None = None,
) -> None:
    """A manager sets a member's leave, capacity or skills (members of their area only)."""
    if scope.member_id is not None:
        msg = "grid members cannot change the roster"
        raise PermissionDeniedError(msg, zh="网格员不能修改人员名册")
    require_member_in_scope(conn, member_id, scope)
    values: dict[str, Any] = {}
    if on_leave is not None:
        values["on_leave"] = on_leave
    if capacity is not None:
        if not 0 <= capacity <= MAX_CAPACITY:
            msg = f"capacity is 0 to {MAX_CAPACITY} open cases"
            raise ValidationError(msg, zh=f"承办上限为 0 至 {MAX_CAPACITY} 件")
        values["capacity"] = capacity
    if skills is not None:
        unknown = sorted(set(skills) - set(categories))
        if unknown:
            msg = (
                f"unknown skills {', '.join(unknown)}; use case categories: {', '.join(categories)}"
            )
            raise ValidationError(msg, zh=f"未知的专长：{'、'.join(unknown)}")
        values["skills"] = sorted(set(skills))
    if values:
        wb.update_member_row(conn, member_id, values)


def _receiver(scope: Scope) -> dict[str, Any]:
    """Who ``scope`` is, as the notifications see a person."""
    return {
        "member_id": scope.member_id,
        "town_id": scope.town_id,
        "district_id": scope.district_id,
        "everything": scope.everything,
    }


def notifications(conn: Connection, scope: Scope, *, limit: int = 50) -> list[dict[str, Any]]:
    """The caller's notifications, newest first (a member's own, or their area's managers')."""
    return wb.notifications_for(conn, limit=limit, **_receiver(scope))


def mark_notifications_read(conn: Connection, ids: Sequence[int], scope: Scope) -> int:
    """Mark those of ``ids`` the caller receives as read; how many that were."""
    return wb.mark_read(conn, list(ids), datetime.now(UTC), **_receiver(scope))
