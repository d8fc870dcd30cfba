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
from geo.hours import local_time
from geo.vocabulary import CaseCategory, CaseStatus

#: how long before the resolution deadline the managers hear that a case falls due
DUE_SOON = timedelta(hours=24)
#: the webhook event of an update for the reporter (SMS or WeChat through the union's gateway)
REPORTER_UPDATE = "reporter.update"
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
    elif target == CaseStatus.RESOLVED:
        tell_reporter_resolved(conn, after, (reason or "").strip())
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


def notify_reporter(conn: Connection, case: dict[str, Any], zh: str, en: str) -> None:
    """Queue an update for the reporter (``reporter.update``), when they left a contact.

    The contact goes only into the signed webhook body (the gateway's SMS or WeChat message);
    the workbench never lists these.
    """
    contact = (case.get("reporter_contact") or "").strip()
    if not contact:
        return
    data = {
        "en": en,
        "reference": case["reference"],
        "status": case["status"],
        "reporter_contact": contact,
    }
    wb.insert_notification(
        conn,
        {
            "kind": REPORTER_UPDATE,
            "case_id": case["id"],
            "audience": "reporter",
            "message": zh,
            "data": data,
        },
    )


def _who_handles(case: dict[str, Any]) -> tuple[str, str]:
    if case.get("member_name"):
        return f"网格员{case['member_name']}", f"grid member {case['member_name']}"
    q_zh, q_en = QUEUE_WORDS.get(case["queue"], (case["queue"], case["queue"]))
    return f"{q_zh}工作人员", f"the {q_en} staff"


def tell_reporter_received(conn: Connection, case: dict[str, Any]) -> None:
    """受理: the case number, who handles it and by when."""
    ref, (cat_zh, cat_en) = case["reference"], _category(case)
    due = local_time(case["resolution_due"])
    who_zh, who_en = _who_handles(case)
    zh = (
        f"【职工服务】您反映的{cat_zh}问题已受理，编号 {ref}，由{who_zh}办理，"
        f"预计 {due:%m月%d日} 前办结。"
    )
    en = (
        f"Your report ({cat_en}) was received as {ref}; {who_en} handles it, "
        f"to be resolved by {due:%d %b}."
    )
    notify_reporter(conn, case, zh, en)


def tell_reporter_resolved(conn: Connection, case: dict[str, Any], result: str) -> None:
    """办结: the result."""
    ref = case["reference"]
    zh = f"【职工服务】您反映的问题（编号 {ref}）已办结：{result}"
    en = f"Your report {ref} was resolved: {result}"
    notify_reporter(conn, case, zh, en)


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
    tell_reporter_received(conn, case)


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


def notify_return(conn: Connection, case: dict[str, Any], action: str, why: str) -> None:
    """A return request (退单申请) tells the managers; the decision tells the member."""
    ref = case["reference"]
    if action == "return_requested":
        zh, en = f"网格员申请退单 {ref}：{why}", f"Return of {ref} asked for: {why}"
        _queue(conn, action, case, zh, en, **_managers(case))
        return
    if case["member_id"] is None:
        return
    if action == "return_approved":
        zh, en = f"案件 {ref} 退单已批准", f"The return of {ref} was approved"
    else:
        zh = f"案件 {ref} 退单未获批准，请继续办理" + (f"：{why}" if why else "")
        en = f"The return of {ref} was refused; the case stays yours" + (f": {why}" if why else "")
    _queue(conn, action, case, zh, en, audience="member", member_id=case["member_id"])


def notify_extension(
    conn: Connection, case: dict[str, Any], action: str, days: int, why: str
) -> None:
    """A request for more time tells the managers; the decision tells the member."""
    ref = case["reference"]
    if action == "extension_requested":
        zh = f"网格员申请延期 {ref}：{days} 天（{why}）"
        en = f"Extension of {days} days asked for {ref}: {why}"
        _queue(conn, action, case, zh, en, **_managers(case))
        return
    if case["member_id"] is None:
        return
    if action == "extension_approved":
        zh, en = (
            f"案件 {ref} 延期 {days} 天已批准",
            f"The {days}-day extension of {ref} was approved",
        )
    else:
        zh = f"案件 {ref} 延期申请未获批准：{why}"
        en = f"The extension of {ref} was refused: {why}"
    _queue(conn, action, case, zh, en, audience="member", member_id=case["member_id"])
