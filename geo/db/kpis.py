"""The desk's figures (KPIs): cases received, on time, satisfaction, backlog — per area or week.

One query: the cases in scope created in the period, each with its last callback, then
aggregated per group (town, grid, member, category or week) and in all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Float, Integer, and_, cast, func, literal, select

from geo.db import models as m
from geo.db.cases import Visibility, visible_where

#: what a KPI table may be grouped by
KPI_GROUPS = ("town", "grid", "member", "category", "week")
#: statuses that end a case without work to time (a refused or withdrawn report)
NOT_WORKED = ("rejected", "cancelled")


def _group(by: str | None) -> tuple[Any, Any]:
    """The key and the label of a group (``None``: one group, all cases)."""
    c = m.Case
    if by == "town":
        return c.town_id, m.Town.name
    if by == "grid":
        return c.grid_id, m.Grid.code
    if by == "member":
        return c.member_id, m.GridMember.name
    if by == "category":
        return c.category, c.category
    if by == "week":
        week = func.to_char(func.date_trunc("week", c.created_at), "YYYY-MM-DD")
        return week, week
    return literal("all"), literal("all")


def case_kpis(
    conn: Connection,
    visible: Visibility,
    *,
    by: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    open_statuses: Sequence[str],
) -> list[dict[str, Any]]:
    """Per group: received, on-time acceptance and resolution, callbacks, backlog, median hours.

    Rates count only cases whose deadline has come (done, or past due); refused or withdrawn
    reports are left out of them.
    """
    c, e = m.Case, m.CaseEvent
    key, label = _group(by)
    callback = (
        select(e.data)
        .where(e.case_id == c.id, e.action == "callback")
        .order_by(e.at.desc(), e.id.desc())
        .limit(1)
        .correlate(c)
        .scalar_subquery()
    )
    where = [visible_where(visible)]
    if start is not None:
        where.append(c.created_at >= start)
    if end is not None:
        where.append(c.created_at < end)
    cases = (
        select(
            key.label("key"),
            label.label("label"),
            c.status,
            c.created_at,
            c.first_contact_at,
            c.first_contact_due,
            c.resolved_at,
            c.resolution_due,
            callback["reached"].as_boolean().label("reached"),
            callback["satisfaction"].as_float().label("satisfaction"),
        )
        .select_from(c)
        .outerjoin(m.Town, m.Town.id == c.town_id)
        .outerjoin(m.Grid, m.Grid.id == c.grid_id)
        .outerjoin(m.GridMember, m.GridMember.id == c.member_id)
        .where(*where)
        .subquery()
    )
    k = cases.c
    worked = k.status.not_in(NOT_WORKED)
    accept_due = and_(worked, (k.first_contact_at.is_not(None)) | (k.first_contact_due < now))
    resolve_due = and_(worked, (k.resolved_at.is_not(None)) | (k.resolution_due < now))
    is_open = k.status.in_(list(open_statuses))
    hours = func.extract("epoch", k.resolved_at - k.created_at) / 3600.0

    def count(*conditions: Any) -> Any:
        return cast(func.count().filter(and_(*conditions)), Integer)

    q = (
        select(
            k.key,
            func.min(k.label).label("label"),
            cast(func.count(), Integer).label("received"),
            count(accept_due).label("acceptance_due"),
            count(accept_due, k.first_contact_at <= k.first_contact_due).label("accepted_on_time"),
            count(resolve_due).label("resolution_due"),
            count(resolve_due, k.resolved_at <= k.resolution_due).label("resolved_on_time"),
            count(k.reached.is_not(None)).label("callbacks"),
            count(k.reached.is_(True)).label("reached"),
            cast(func.avg(k.satisfaction), Float).label("satisfaction"),
            count(is_open).label("open_now"),
            count(is_open, k.resolution_due < now).label("overdue_now"),
            cast(
                func.percentile_cont(0.5).within_group(hours).filter(k.resolved_at.is_not(None)),
                Float,
            ).label("median_hours_to_resolve"),
        )
        .group_by(k.key)
        .order_by(k.key)
    )
    return [dict(r._mapping) for r in conn.execute(q)]
