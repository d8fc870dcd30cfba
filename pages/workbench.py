"""The grid managers' workbench (``/manager``): its words in Chinese and English.

The page itself is ``templates/workbench.html`` with ``static/workbench.js``: a desk of the
cases in the caller's scope (filters, paging, a map), a case page with the actions the role
allows, the roster and the notifications — all through the ``/v1`` API with the session
cookie and its CSRF token. Status, category and role words come from the vocabulary.
"""

from __future__ import annotations

from typing import Any

from geo.cases.lifecycle import OPEN_STATUSES, TRANSITIONS
from geo.vocabulary import CaseCategory, CaseStatus, Role

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "网格工作台",
        "sign_in": "登录",
        "username": "用户名",
        "password": "密码",
        "wrong": "用户名或密码错误",
        "throttled": "登录失败次数过多，请稍后再试",
        "expired_form": "登录页面已过期，请重新输入",
        "sign_out": "退出",
        "desk": "案件",
        "roster": "网格员",
        "notices": "通知",
        "status": "状态",
        "open_group": "未办结（全部）",
        "any": "全部",
        "category": "类别",
        "town": "镇街",
        "member": "网格员",
        "overdue": "已超期",
        "search": "搜索",
        "search_hint": "案件编号、来电号码或关键词",
        "due_soon": "72小时内到期",
        "export": "导出 Excel",
        "prev": "上一页",
        "next": "下一页",
        "total": "共 {n} 件",
        "days_late": "超期 {n} 天",
        "due": "期限",
        "none": "没有符合条件的案件",
        "back": "返回列表",
        "description": "情况描述",
        "reporter": "反映人",
        "history": "办理记录",
        "assignment": "派单依据",
        "actions": "办理",
        "reason": "原因",
        "reassign": "改派",
        "choose_member": "选择网格员",
        "note": "内部备注",
        "add_note": "添加备注",
        "attachments": "附件",
        "upload": "上传照片或 PDF",
        "callback": "回访",
        "reached": "已联系到反映人",
        "not_reached": "未联系到",
        "satisfaction": "满意度（1-5）",
        "save_callback": "记录回访",
        "open_cases": "在办",
        "capacity": "上限",
        "on_leave": "请假",
        "skills": "专长",
        "save": "保存",
        "mark_read": "全部标为已读",
        "no_notices": "暂无通知",
        "changed": "已保存",
        "failed": "操作失败：",
        "stale": "案件已被他人更新，已重新载入",
        "synthetic": "示例数据：网格、人员与案件为生成数据，非真实记录",
        "lang_switch": "English",
        "km": "公里",
        "minutes": "分钟",
        "map": "案件地图",
        "at": "时间",
        "actor": "操作人",
        "sort": "排序",
        "newest": "最新",
        "by_due": "期限最近",
        "oldest": "最早",
        "batch": "批量派单",
        "batch_summary": (
            "待派 {cases} 件，可派 {assigned} 件；总路程 {total} 分钟"
            "（逐件就近派单 {greedy} 分钟）；最多一人 {load} 件（逐件 {greedy_load} 件）"
        ),
        "apply": "按此派单",
        "running": "正在计算，请稍后再试",
    },
    "en": {
        "title": "Grid workbench",
        "sign_in": "Sign in",
        "username": "User name",
        "password": "Password",
        "wrong": "Wrong user name or password",
        "throttled": "Too many failed sign-ins; try again later",
        "expired_form": "The sign-in form had expired: please sign in again",
        "sign_out": "Sign out",
        "desk": "Cases",
        "roster": "Members",
        "notices": "Notifications",
        "status": "Status",
        "open_group": "Open (all)",
        "any": "Any",
        "category": "Category",
        "town": "Town",
        "member": "Member",
        "overdue": "Overdue",
        "search": "Search",
        "search_hint": "Case number, caller's phone or words",
        "due_soon": "Due within 72 h",
        "export": "Export Excel",
        "prev": "Previous",
        "next": "Next",
        "total": "{n} cases",
        "days_late": "{n} days late",
        "due": "Due",
        "none": "No case matches",
        "back": "Back to the list",
        "description": "Description",
        "reporter": "Reporter",
        "history": "History",
        "assignment": "Why this member",
        "actions": "Actions",
        "reason": "Reason",
        "reassign": "Reassign",
        "choose_member": "Choose a member",
        "note": "Internal note",
        "add_note": "Add note",
        "attachments": "Attachments",
        "upload": "Upload a photo or PDF",
        "callback": "Callback",
        "reached": "Reporter reached",
        "not_reached": "Not reached",
        "satisfaction": "Satisfaction (1-5)",
        "save_callback": "Record callback",
        "open_cases": "Open",
        "capacity": "Capacity",
        "on_leave": "On leave",
        "skills": "Skills",
        "save": "Save",
        "mark_read": "Mark all read",
        "no_notices": "No notifications",
        "changed": "Saved",
        "failed": "Failed: ",
        "stale": "Someone changed the case meanwhile; reloaded",
        "synthetic": "Sample data: grids, people and cases are synthetic, not real records",
        "lang_switch": "中文",
        "km": "km",
        "minutes": "min",
        "map": "Map of cases",
        "at": "When",
        "actor": "By",
        "sort": "Order",
        "newest": "Newest",
        "by_due": "Nearest deadline",
        "oldest": "Oldest",
        "batch": "Batch assignment",
        "batch_summary": (
            "{cases} waiting, {assigned} can be assigned; total travel {total} min (case by "
            "case: {greedy} min); at most {load} a member (case by case: {greedy_load})"
        ),
        "apply": "Assign as proposed",
        "running": "Still computing; try again shortly",
    },
}

#: the buttons of status changes, in each language (the verb, not the state)
MOVES = {
    "zh": {
        "accepted": "签收",
        "in_progress": "开始办理",
        "resolved": "办结",
        "returned": "退单",
        "escalated": "督办",
        "closed": "关闭",
        "reopened": "重新办理",
        "cancelled": "撤销",
        "rejected": "不予受理",
    },
    "en": {
        "accepted": "Accept",
        "in_progress": "Start",
        "resolved": "Resolve",
        "returned": "Return",
        "escalated": "Escalate",
        "closed": "Close",
        "reopened": "Reopen",
        "cancelled": "Cancel",
        "rejected": "Reject",
    },
}
#: the moves that need a reason typed in
NEEDS_REASON = ("returned", "rejected", "escalated", "cancelled")
#: what each role may press (the API checks again)
ROLE_MOVES = {
    Role.MEMBER: ("accepted", "in_progress", "resolved", "returned", "escalated"),
    Role.MANAGER: tuple(MOVES["en"]),
    Role.ADMIN: tuple(MOVES["en"]),
}


def _label(word: CaseCategory | None, code: str, lang: str) -> str:
    return word.label(lang) if word is not None else code


def page_config(lang: str, user: Any, csrf: str, categories: list[str]) -> dict[str, Any]:
    """What the page's script needs: words, vocabularies, the caller, the CSRF token."""
    return {
        "lang": lang,
        "text": TEXT[lang],
        "moves": MOVES[lang],
        "needs_reason": list(NEEDS_REASON),
        "role_moves": list(ROLE_MOVES.get(user.role, ())),
        "transitions": {k: list(v) for k, v in TRANSITIONS.items()},
        "open_statuses": [str(s) for s in OPEN_STATUSES],
        "statuses": {s.value: s.label(lang) for s in CaseStatus},
        "categories": {c: _label(CaseCategory.of(c), c, lang) for c in categories},
        "user": {
            "name": user.username,
            "role": user.role,
            "role_label": Role(user.role).label(lang),
            "member_id": user.member_id,
            "staff": user.role in (Role.ADMIN, Role.MANAGER),
        },
        "csrf": csrf,
    }
