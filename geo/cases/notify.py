"""Who hears of a case's changes: notifications queued in the outbox with the change itself.

A notification is written in the same transaction as the change it tells of, so none is lost
and none tells of a change that did not happen. Members hear of cases given to them or taken
away; the managers of the case's area (the town's for a grid or town queue, the district's
above) hear of returns (退单), escalations (督办) and cases falling due. Messages are kept in
Chinese with the English beside them (``data.en``); the workbench lists them and the webhooks
(:mod:`geo.cases.delivery`) carry them to SMS or WeChat Work gateways.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.lifecycle import LATE_CONTACT, LATE_RESOLUTION
from geo.db import workbench as wb
from geo.db.cases import due_without_notice
from geo.vocabulary import CaseCategory, CaseStatus

#: how long before the resolution deadline the managers hear that a case falls due
DUE_SOON = timedelta(hours=24)
QUEUE_WORDS = {"grid": ("网格", "grid"), "town": ("镇街", "town"), "district": ("区县", "district")}


def _category(case: dict[str, Any]) -> tuple[str, str]:
    cat = CaseCategory.of(str(case["category"]))
    return (cat.zh, cat.en) if cat else (str(case["category"]), str(case["category"]))


def _queue(conn: Connection, kind: str, case: dict[str, Any], zh: str, en: str, **to: Any) -> None:
    data = {"en": en, "reference": case["reference"], "status": case["status"]}
    wb.insert_notification(
        conn,
        {"kind": kind, "case_id": case["id"], "message": zh, "data": data, **to},
    )


def _managers(case: dict[str, Any]) -> dict[str, Any]:
    """The managers' audience of a case: its town's, or only its district's above the town."""
    town = case["town_id"] if case["queue"] in ("grid", "town") else None
    return {"audience": "managers", "town_id": town, "district_id": case["district_id"]}


def notify_transition(
    conn: Connection,
    before: dict[str, Any],
    after: dict[str, Any],
    reason: str | None,
) -> None:
    """Queue what a status change tells the people concerned."""
    ref, (cat_zh, cat_en) = after["reference"], _category(after)
    target = after["status"]
    if target == CaseStatus.ASSIGNED and after["member_id"] is not None:
        _queue(
            conn,
            "assigned",
            after,
            f"新派单 {ref}（{cat_zh}），请及时签收",
            f"New case {ref} ({cat_en}) assigned to you: please accept it",
            audience="member",
            member_id=after["member_id"],
        )
        previous = before["member_id"]
        if previous is not None and previous != after["member_id"]:
            _queue(
                conn,
                "reassigned",
                after,
                f"案件 {ref} 已改派他人",
                f"Case {ref} was reassigned to someone else",
                audience="member",
                member_id=previous,
            )
    elif target == CaseStatus.RETURNED:
        why = reason or ""
        zh, en = f"网格员退单 {ref}（{cat_zh}）：{why}", f"Case {ref} ({cat_en}) returned: {why}"
        _queue(conn, "returned", after, zh, en, **_managers(after))
    elif target == CaseStatus.ESCALATED:
        q_zh, q_en = QUEUE_WORDS.get(after["queue"], (after["queue"], after["queue"]))
        late = reason in (LATE_RESOLUTION, LATE_CONTACT)  # escalated because a deadline passed
        kind = "overdue" if late else "escalated"
        was_zh, was_en = ("已超期，", "is overdue and ") if late else ("", "")
        zh = f"案件 {ref}（{cat_zh}）{was_zh}已督办，转{q_zh}管理员"
        en = f"Case {ref} ({cat_en}) {was_en}escalated to the {q_en} managers"
        _queue(conn, kind, after, zh, en, **_managers(after))
        if late and after["member_id"] is not None:
            _queue(conn, kind, after, zh, en, audience="member", member_id=after["member_id"])


def notify_intake(conn: Connection, case: dict[str, Any]) -> None:
    """Queue what a new case tells: its member (when given one at once) and its area's managers."""
    ref, (cat_zh, cat_en) = case["reference"], _category(case)
    if case["status"] == CaseStatus.ASSIGNED and case["member_id"] is not None:
        notify_transition(conn, {"member_id": None}, case, None)
        zh = f"新案件 {ref}（{cat_zh}）已受理，已派给网格员"
        en = f"New case {ref} ({cat_en}) received and assigned to a grid member"
    else:
        q_zh, q_en = QUEUE_WORDS.get(case["queue"], (case["queue"], case["queue"]))
        zh = f"新案件 {ref}（{cat_zh}）已受理，待{q_zh}派单"
        en = f"New case {ref} ({cat_en}) received, waiting in the {q_en} queue"
    _queue(conn, "received", case, zh, en, **_managers(case))


def notify_due_soon(conn: Connection, now: datetime) -> int:
    """Tell managers (and the member) of open cases due within a day, once each."""
    rows = due_without_notice(conn, now, now + DUE_SOON, kind="due_soon")
    for case in rows:
        ref = case["reference"]
        zh, en = f"案件 {ref} 将于 24 小时内到期", f"Case {ref} is due within 24 hours"
        _queue(conn, "due_soon", case, zh, en, **_managers(case))
        if case["member_id"] is not None:
            _queue(conn, "due_soon", case, zh, en, audience="member", member_id=case["member_id"])
    return len(rows)
