"""Error messages in the caller's language: Chinese when ``lang=zh`` or ``Accept-Language: zh``.

The message says in Chinese what went wrong (by the error's type) and keeps the precise
English detail after it, for the union's IT staff; English callers get the detail alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

ZH_LEADS = {
    "NotFound": "找不到所请求的内容",
    "RequestValidation": "请求的参数有误",
    "Validation": "请求的内容有误",
    "InvalidValue": "数据不符合要求",
    "InvalidGeometry": "几何图形无效",
    "OutsideRegion": "位置不在服务范围内",
    "Conflict": "与当前数据冲突，请刷新后重试",
    "IllegalTransition": "案件当前状态不允许此操作",
    "Integrity": "与已有数据冲突",
    "Authentication": "需要登录，或登录已失效",
    "PermissionDenied": "没有权限执行此操作",
    "RateLimited": "尝试过于频繁，请稍后再试",
    "TooManyRequests": "请求过于频繁，请稍后再试",
    "PayloadTooLarge": "上传的内容过大",
    "DatabaseUnavailable": "服务暂时不可用，请稍后再试",
    "NotReady": "服务正在启动，请稍后再试",
    "Setup": "服务配置有误",
    "Timeout": "分析耗时过长，请缩小范围后重试",
    "InvalidHost": "无效的主机名",
    "Internal": "服务器内部错误",
    "HTTP": "请求无法处理",
}


#: the fields people fill in on the pages (workbench forms, the riders' report), in their words
FIELD_WORDS = {
    "reason": "理由",
    "note": "备注",
    "text": "内容",
    "description": "诉求内容",
    "reporter_name": "来电人",
    "reporter_contact": "联系电话",
    "employer": "涉及单位",
    "address": "地址",
    "days": "延期天数",
    "satisfaction": "满意度",
    "category": "类别",
    "channel": "来源",
    "opening_hours": "开放时间",
    "name": "名称",
    "capacity": "承办上限",
    "username": "用户名",
    "password": "密码",
}


def request_error_zh(loc: Sequence[Any], kind: str, ctx: dict[str, Any] | None) -> str | None:
    """A person's words for a form field the request body got wrong (None: not a body field).

    Query parameters keep the generic lead before the English (they are a program's, not a
    person's); a field of a page's form is named and the fault said in Chinese.
    """
    if len(loc) < 2 or loc[0] != "body":
        return None
    field = FIELD_WORDS.get(str(loc[-1]), str(loc[-1]))
    ctx = ctx or {}
    faults = {
        "missing": "必须填写",
        "string_too_short": "不能为空" if ctx.get("min_length") == 1 else "太短",
        "string_too_long": f"不能超过 {ctx.get('max_length')} 个字",
        "greater_than_equal": f"不能小于 {ctx.get('ge')}",
        "less_than_equal": f"不能大于 {ctx.get('le')}",
        "greater_than": f"须大于 {ctx.get('gt')}",
        "less_than": f"须小于 {ctx.get('lt')}",
        "int_parsing": "须为整数",
        "float_parsing": "须为数字",
        "bool_parsing": "须为是或否",
        "literal_error": "取值无效",
        "enum": "取值无效",
        "extra_forbidden": "是多余的字段",
    }
    return f"{field}{faults.get(kind, '填写有误')}"


def wants_chinese(query_string: str, accept_language: str) -> bool:
    """Whether the caller asked for Chinese (``lang=zh`` wins over ``Accept-Language``)."""
    lang = parse_qs(query_string).get("lang")
    if lang:
        return lang[-1].lower().startswith("zh")
    first = accept_language.split(",")[0].strip().lower()
    return first.startswith("zh")


def localised(kind: str, message: str, *, chinese: bool) -> str:
    """``message`` for the caller: with a Chinese lead (by ``kind``) when ``chinese``."""
    if not chinese:
        return message
    return f"{ZH_LEADS.get(kind, '请求无法处理')}（{message}）"
