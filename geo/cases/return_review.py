"""退单审核: a member's return waits for a manager's approval before the case goes back.

For the categories a union lists (``YIZHAN_RETURN_REVIEW``: category codes, or ``*`` for all)
a grid member cannot hand a case back alone: the return is asked for, with why
(``return_requested`` in the history; the managers hear), and the case stays with the member
until a manager approves — the case is then returned (退单) as if the member had, the member
hears — or refuses, with a note, and the member keeps working on it. One request waits at a
time. Managers return a case without review; other categories as before.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, changed_meanwhile, get_case
from geo.cases.extensions import waiting_request
from geo.cases.lifecycle import check_transition
from geo.cases.notify import notify_return
from geo.cases.transitions import transition
from geo.db import cases as db
from geo.errors import ConflictError, ValidationError
from geo.vocabulary import CaseStatus

REQUESTED, APPROVED, REFUSED = "return_requested", "return_approved", "return_refused"


def pending_return(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The return request waiting for a decision (its history entry), or None."""
    return waiting_request(conn, case_id, REQUESTED, (APPROVED, REFUSED))


def request_return(
    conn: Connection, case_id: int, reason: str, *, actor: str, scope: Scope
) -> dict[str, Any]:
    """Ask to hand a case back (退单申请), with why; the case (still the member's) afterwards."""
    case = get_case(conn, case_id, scope)
    check_transition(case["status"], CaseStatus.RETURNED)
    if not reason.strip():
        msg = "a return (退单) needs a reason"
        raise ValidationError(msg, zh="退单需要填写理由")
    if pending_return(conn, case_id) is not None:
        msg = "a return request already waits for a manager's decision"
        raise ConflictError(msg, zh="已有一条退单申请在等待审核")
    db.insert_event(conn, case_id, actor, REQUESTED, reason=reason.strip())
    notify_return(conn, case, REQUESTED, reason.strip())
    return get_case(conn, case_id)


def decide_return(
    conn: Connection,
    case_id: int,
    approve: bool,
    *,
    actor: str,
    scope: Scope,
    expected_version: int,
    note: str | None = None,
) -> dict[str, Any]:
    """Approve (the case is returned, with the member's reason) or refuse the waiting request."""
    case = get_case(conn, case_id, scope)
    waiting = pending_return(conn, case_id)
    if waiting is None:
        msg = "no return request waits on this case"
        raise ConflictError(msg, zh="该案件没有待审核的退单申请")
    said = (note or "").strip()
    member = case["member_id"]
    if approve:
        case = transition(
            conn,
            case_id,
            CaseStatus.RETURNED,
            actor=actor,
            expected_version=expected_version,
            reason=waiting["reason"],
            scope=scope,
        )
    elif case["version"] != expected_version:
        raise changed_meanwhile(case_id)
    action = APPROVED if approve else REFUSED
    db.insert_event(
        conn, case_id, actor, action, reason=said or None, data={"asked_by": waiting["actor"]}
    )
    notify_return(conn, {**case, "member_id": member}, action, said)
    return get_case(conn, case_id)
