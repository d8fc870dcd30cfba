"""Expected failures of the ``yizhan`` command, said in one sentence (English or Chinese).

An operator never sees a traceback for a failure they can fix — bad settings, a database that
does not answer or lacks PostGIS, a missing file — nor a password: database URLs are masked.
``yizhan --debug`` shows the traceback as well.
"""

from __future__ import annotations

import os

from pydantic import ValidationError as SettingsError
from sqlalchemy.exc import OperationalError, ProgrammingError

from geo.errors import YizhanError

#: a sentence's Chinese, by the English lead the explanation starts with
_ZH = {
    "error": "错误",
    "a setting is not valid": "配置无效",
    "the database does not answer": "数据库无法连接",
    "the database refused": "数据库拒绝了操作",
    "file not found": "找不到文件",
    "no permission": "没有权限",
    "stopped": "已中止",
}


def language(asked: str | None) -> str:
    """``zh`` or ``en``: as asked (``--lang``), else from ``LANG`` / ``LC_ALL``."""
    if asked:
        return asked
    env = os.environ.get("LC_ALL") or os.environ.get("LANG") or ""
    return "zh" if env.lower().startswith("zh") else "en"


def explain(exc: BaseException, lang: str) -> str | None:
    """One sentence for an expected failure, or None for a bug (shown with its traceback)."""
    found = _explain(exc)
    if found is None:
        return None
    lead, detail = found
    if lang == "zh":
        lead = _ZH.get(lead, lead)
        return f"{lead}：{detail}" if detail else lead
    return f"{lead}: {detail}" if detail else lead


def _explain(exc: BaseException) -> tuple[str, str] | None:
    if isinstance(exc, YizhanError):
        return "error", str(exc)
    if isinstance(exc, SettingsError):  # never the value given: it may be a secret
        first = exc.errors()[0]
        name = "_".join(str(p) for p in first.get("loc", ())).upper()
        where = f"YIZHAN_{name}: " if name else ""
        return "a setting is not valid", f"{where}{first.get('msg', '')}"
    if isinstance(exc, OperationalError):
        return (
            "the database does not answer",
            "check YIZHAN_DATABASE_URL and that the server runs (yizhan db check says more)",
        )
    if isinstance(exc, ProgrammingError):
        reason = getattr(getattr(exc.orig, "diag", None), "message_primary", None) or ""
        return "the database refused", f"{reason} (yizhan db check says what is missing)"
    if isinstance(exc, FileNotFoundError):
        return "file not found", str(exc.filename or exc)
    if isinstance(exc, PermissionError):
        return "no permission", str(exc.filename or exc)
    if isinstance(exc, KeyboardInterrupt):
        return "stopped", ""
    return None
