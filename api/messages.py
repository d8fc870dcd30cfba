"""Error messages in the caller's language: Chinese when ``lang=zh`` or ``Accept-Language: zh``.

The message says in Chinese what went wrong (by the error's type) and keeps the precise
English detail after it, for the union's IT staff; English callers get the detail alone.
"""

from __future__ import annotations

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
