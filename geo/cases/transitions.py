"""Transitions: status changes checked against the lifecycle, deadlines and escalation.

A change names the version the caller read; if someone changed the case meanwhile it is
refused (optimistic locking), so two managers never silently overwrite each other. Every
change appends to the case's history in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, changed_meanwhile, get_case, require_member_in_scope
from geo.cases.followup import require_callback
from geo.cases.lifecycle import (
    AWAITING_CONTACT,
    ESCALATABLE,
    ESCALATES_TO,
    LATE_CONTACT,
    LATE_RESOLUTION,
    check_transition,
    return_needs_review,
)
from geo.cases.notify import notify_transition
from geo.db import cases as db
from geo.errors import ConflictError, ValidationError
from geo.vocabulary import CaseStatus


def transition(
    conn: Connection,
    case_id: int,
    target: str,
    *,
    actor: str,
    expected_version: int,
    reason: str | None = None,
    member_id: int | None = None,
    scope: Scope | None = None,
    now: datetime | None = None,
    reviewed_returns: Sequence[str] = (),
) -> dict[str, Any]:
    """Move a case to ``target`` if the lifecycle allows it and nobody changed it meanwhile.

    ``reviewed_returns``: the categories whose return waits for a manager (退单审核, given for
    a grid member's move): returning such a case here is refused — it is asked for instead.
    """
    case = get_case(conn, case_id, scope)
    check_transition(case["status"], target)
    if target == CaseStatus.RETURNED and return_needs_review(case["category"], reviewed_returns):
        msg = "a return of this category waits for a manager: ask for it (POST …/returns)"
        raise ConflictError(msg, zh="此类案件退单需经审核：请提交退单申请", code="return_review")
    if case["version"] != expected_version:
        seen = f" (now version {case['version']}, you sent {expected_version})"
        raise changed_meanwhile(case_id, seen)
    when = now or datetime.now(UTC)
    values: dict[str, Any] = {"status": target, "updated_at": when}
    if target == CaseStatus.ASSIGNED:
        if member_id is None:
            msg = "assigning a case needs member_id"
            raise ValidationError(msg, zh="派单需要选择网格员")
        require_member_in_scope(conn, member_id, scope)
        values |= {"member_id": member_id, "queue": "grid"}
    if target == CaseStatus.RESOLVED and not (reason or "").strip():
        msg = "resolving a case (办结) needs its result (办理结果): what was done"
        raise ValidationError(msg, zh="办结需要填写办理结果：做了什么")
    if target == CaseStatus.REJECTED and not (reason or "").strip():
        msg = "rejecting a report needs a reason (spam, or the reference it duplicates)"
        raise ValidationError(msg, zh="不予受理需要填写理由（如骚扰信息，或重复的诉求编号）")
    if target == CaseStatus.RETURNED:  # 退单: back to the managers' queue, with why
        if not (reason or "").strip():
            msg = "returning a case (退单) needs a reason"
            raise ValidationError(msg, zh="退单需要填写理由")
        values["member_id"] = None
    if target == CaseStatus.CLOSED:
        require_callback(conn, case_id)
    if target == CaseStatus.ACCEPTED and case["first_contact_at"] is None:
        values["first_contact_at"] = when
    if target == CaseStatus.RESOLVED:
        values["resolved_at"] = when
    if target == CaseStatus.CLOSED:
        values["closed_at"] = when
    if target == CaseStatus.ESCALATED:  # a new owner: the managers one level up
        values |= {"escalated": True, "queue": ESCALATES_TO.get(case["queue"], "district")}
    if target == CaseStatus.REOPENED:
        values |= {"resolved_at": None, "closed_at": None}
    if not db.update_case(conn, case_id, values, version=expected_version):
        raise changed_meanwhile(case_id)
    db.insert_event(
        conn,
        case_id,
        actor,
        "status",
        frm=case["status"],
        to=target,
        reason=reason,
        data=_event_data(values, member_id, case),
    )
    after = get_case(conn, case_id)
    notify_transition(conn, case, after, reason)
    return after


def _event_data(
    values: dict[str, Any], member_id: int | None, before: dict[str, Any]
) -> dict[str, Any] | None:
    """What the history keeps besides the statuses: the member assigned or returning, the queue."""
    data = {"member_id": member_id} if member_id else {}
    if values.get("escalated"):
        data["queue"] = values["queue"]
    if values.get("status") == CaseStatus.RETURNED and before["member_id"] is not None:
        data["returned_by"] = before["member_id"]
    return data or None


def escalate_overdue(
    conn: Connection, *, now: datetime | None = None, actor: str = "system"
) -> list[int]:
    """Escalate open cases past their resolution deadline, or not contacted in time."""
    when = now or datetime.now(UTC)
    done = []
    for r in db.late_cases(conn, when, ESCALATABLE, AWAITING_CONTACT):
        transition(
            conn,
            r["id"],
            CaseStatus.ESCALATED,
            actor=actor,
            expected_version=r["version"],
            reason=LATE_RESOLUTION if r["past_resolution"] else LATE_CONTACT,
            now=when,
        )
        done.append(r["id"])
    return done


def due_soon_before(now: datetime | None, hours: float) -> datetime:
    """The cut-off of the due-soon list."""
    return (now or datetime.now(UTC)) + timedelta(hours=hours)
