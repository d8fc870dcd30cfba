"""延期申请: a member asks for more time on a case; a manager approves or refuses it.

A request and its decision are entries of the case's history (``extension_requested``,
``extension_approved`` / ``extension_refused``); an approval moves the resolution deadline by
the days asked and says so. One request waits at a time. The managers hear of a request, the
member of the decision.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, changed_meanwhile, get_case
from geo.cases.lifecycle import OPEN_STATUSES
from geo.cases.notify import notify_extension
from geo.db import cases as db
from geo.errors import ConflictError, ValidationError

#: the most days one request may ask for
MAX_DAYS = 30
REQUESTED, APPROVED, REFUSED = "extension_requested", "extension_approved", "extension_refused"


def waiting_request(
    conn: Connection, case_id: int, asked: str, decided: tuple[str, ...]
) -> dict[str, Any] | None:
    """The last ``asked`` history entry no ``decided`` entry followed (a request waiting)."""
    waiting = None
    for event in db.events(conn, case_id):
        if event["action"] == asked:
            waiting = event
        elif event["action"] in decided:
            waiting = None
    return waiting


def pending_extension(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """The extension request waiting for a decision (its history entry), or None."""
    return waiting_request(conn, case_id, REQUESTED, (APPROVED, REFUSED))


def request_extension(
    conn: Connection, case_id: int, days: int, reason: str, *, actor: str, scope: Scope
) -> dict[str, Any]:
    """Ask for ``days`` more to resolve an open case, with why; the case afterwards."""
    case = get_case(conn, case_id, scope)
    if case["status"] not in OPEN_STATUSES:
        msg = f"case {case['reference']} is not open ({case['status']}): no time to extend"
        raise ConflictError(msg, zh=f"案件 {case['reference']} 已不在办理中，无需延期")
    if not 1 <= days <= MAX_DAYS:
        msg = f"an extension is 1 to {MAX_DAYS} days"
        raise ValidationError(msg, zh=f"延期天数为 1 至 {MAX_DAYS} 天")
    if not reason.strip():
        msg = "an extension request (延期申请) needs a reason"
        raise ValidationError(msg, zh="延期申请需要填写理由")
    if pending_extension(conn, case_id) is not None:
        msg = "an extension request already waits for a manager's decision"
        raise ConflictError(msg, zh="已有一条延期申请在等待审批")
    db.insert_event(conn, case_id, actor, REQUESTED, reason=reason.strip(), data={"days": days})
    notify_extension(conn, case, REQUESTED, days, reason.strip())
    return get_case(conn, case_id)


def decide_extension(
    conn: Connection,
    case_id: int,
    approve: bool,
    *,
    actor: str,
    scope: Scope,
    expected_version: int,
    note: str | None = None,
) -> dict[str, Any]:
    """Approve (the deadline moves by the days asked) or refuse the waiting request."""
    case = get_case(conn, case_id, scope)
    waiting = pending_extension(conn, case_id)
    if waiting is None:
        msg = "no extension request waits on this case"
        raise ConflictError(msg, zh="该案件没有待审批的延期申请")
    days = int((waiting["data"] or {}).get("days", 0))
    action = APPROVED if approve else REFUSED
    data: dict[str, Any] = {"days": days}
    if approve:
        due = case["resolution_due"] + timedelta(days=days)
        if not db.update_case(conn, case_id, {"resolution_due": due}, version=expected_version):
            raise changed_meanwhile(case_id)
        data |= {"from": case["resolution_due"].isoformat(), "to": due.isoformat()}
    db.insert_event(conn, case_id, actor, action, reason=(note or "").strip() or None, data=data)
    after = get_case(conn, case_id)
    notify_extension(conn, after, action, days, (note or "").strip())
    return after
