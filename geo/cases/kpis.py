"""The desk's figures (按时签收率, 按时办结率, 满意率, backlog) for the cases in one's scope.

Rates are shares of the cases whose deadline has come (done, or past due); a refused or
withdrawn report is left out of them. Satisfaction is the mean of the last callback's score;
the callback reach rate the share of callbacks that reached the reporter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope
from geo.cases.lifecycle import OPEN_STATUSES
from geo.db.kpis import KPI_GROUPS, case_kpis
from geo.errors import ValidationError
from geo.vocabulary import CaseCategory

#: the counts a group of no cases has (all 0)
COUNTS = (
    "received",
    "acceptance_due",
    "accepted_on_time",
    "resolution_due",
    "resolved_on_time",
    "callbacks",
    "reached",
    "open_now",
    "overdue_now",
)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(r: dict[str, Any], lang: str) -> dict[str, Any]:
    label = r["label"]
    if isinstance(label, str) and (cat := CaseCategory.of(label)) is not None:
        label = cat.label(lang)
    median = r["median_hours_to_resolve"]
    mean = r["satisfaction"]
    return {
        "key": None if r["key"] is None else str(r["key"]),
        "label": None if label is None else str(label),
        "received": r["received"],
        "on_time_acceptance": _share(r["accepted_on_time"], r["acceptance_due"]),
        "on_time_resolution": _share(r["resolved_on_time"], r["resolution_due"]),
        "satisfaction": None if mean is None else round(mean, 2),
        "callbacks": r["callbacks"],
        "callback_reach": _share(r["reached"], r["callbacks"]),
        "open_now": r["open_now"],
        "overdue_now": r["overdue_now"],
        "median_hours_to_resolve": None if median is None else round(median, 1),
    }


def kpis(
    conn: Connection,
    scope: Scope,
    *,
    by: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    lang: str = "zh",
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The figures per group (``by``: town, grid, member, category or week) and in all."""
    if by is not None and by not in KPI_GROUPS:
        msg = f"by must be one of {', '.join(KPI_GROUPS)}"
        raise ValidationError(msg, zh="统计维度无效")
    if start is not None and end is not None and end <= start:
        msg = "to must come after from"
        raise ValidationError(msg, zh="结束日期须晚于开始日期")
    now = now or datetime.now(UTC)
    rule = scope.rule()

    def figures(group: str | None) -> list[dict[str, Any]]:
        return case_kpis(
            conn, rule, by=group, start=start, end=end, now=now, open_statuses=OPEN_STATUSES
        )

    rows = figures(by) if by else []
    total = figures(None)
    blank: dict[str, Any] = dict.fromkeys(COUNTS, 0)
    blank |= {"key": "all", "label": "all", "satisfaction": None, "median_hours_to_resolve": None}
    return [_row(r, lang) for r in rows], _row(total[0] if total else blank, lang)
