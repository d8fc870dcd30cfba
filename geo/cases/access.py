"""Who may see and do what with cases, written once.

A caller's :class:`Scope` follows from their role: an admin sees every case, a manager the
cases of their district or town, a member their own cases, anyone else none. The same rule
(:meth:`Scope.rule`) both checks one case in Python and filters lists in the database, so
the two can never disagree. Reads here take a scope; a case outside it answers 404, with no
hint that it exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.access import Area, require_area
from geo.cases.lifecycle import OPEN_STATUSES
from geo.db import cases as db
from geo.db.areas import member_area
from geo.db.cases import CaseFilter as CaseFilter
from geo.db.versions import data_version
from geo.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from geo.vocabulary import CaseStatus, Role, label

#: the statuses a grid member may move their own cases to (the rest is for managers)
MEMBER_MAY = ("accepted", "in_progress", "resolved", "escalated", "returned")


@dataclass(frozen=True)
class Scope:
    """What the caller may see: everything, a district, a town, or one member's cases."""

    district_id: int | None = None
    town_id: int | None = None
    member_id: int | None = None
    everything: bool = False

    def rule(self) -> db.Visibility:
        """The visibility rule: all, none, or ``(column, value)`` a case must match."""
        if self.everything:
            return True
        if self.member_id is not None:
            return ("member_id", self.member_id)
        if self.town_id is not None:
            return ("town_id", self.town_id)
        if self.district_id is not None:
            return ("district_id", self.district_id)
        return False


def scope_for(
    role: str,
    *,
    district_id: int | None = None,
    town_id: int | None = None,
    member_id: int | None = None,
) -> Scope:
    """What a user with ``role`` (and its scope ids) may see of the cases."""
    if role == Role.ADMIN:
        return Scope(everything=True)
    if role == Role.MEMBER:
        return Scope(member_id=member_id if member_id is not None else -1)
    if role == Role.MANAGER:
        return Scope(district_id=district_id, town_id=town_id)
    return Scope()


def in_scope(case: Mapping[str, Any], scope: Scope) -> bool:
    """Whether a case is visible to a caller with ``scope``."""
    rule = scope.rule()
    if isinstance(rule, bool):
        return rule
    column, value = rule
    return value is not None and case.get(column) == value


def check_member_move(role: str, target: str) -> None:
    """Refuse a grid member a status change that is for managers (403)."""
    if role == Role.MEMBER and target not in MEMBER_MAY:
        msg = f"a grid member may only move a case to {', '.join(MEMBER_MAY)}"
        may = "、".join(label(CaseStatus, s, "zh") for s in MEMBER_MAY)
        raise PermissionDeniedError(msg, zh=f"网格员只能将案件改为：{may}")


def changed_meanwhile(case_id: int, detail: str = "") -> ConflictError:
    """The refusal of a change to a case someone changed since it was read (``code`` stale)."""
    msg = f"case {case_id} was changed meanwhile{detail}; reload it and try again"
    return ConflictError(msg, zh="案件刚被他人修改，请刷新后重试", code="stale")


def get_case(conn: Connection, case_id: int, scope: Scope | None = None) -> dict[str, Any]:
    """One case (404 also when it is outside ``scope``)."""
    row = db.case_row(conn, case_id)
    if row is None or (scope is not None and not in_scope(row, scope)):
        msg = f"case {case_id} not found"
        raise NotFoundError(msg, zh=f"找不到案件 {case_id}（或已不在您的范围内）")
    return row


def case_by_reference(conn: Connection, reference: str) -> dict[str, Any]:
    """One case by its public reference (404 when there is none)."""
    case_id = db.case_id_by_reference(conn, reference)
    if case_id is None:
        msg = f"request {reference} not found"
        raise NotFoundError(msg, zh=f"找不到编号为 {reference} 的诉求")
    return get_case(conn, case_id)


#: no filter: the newest cases in scope
EVERY_CASE = CaseFilter()


def list_cases(
    conn: Connection, scope: Scope, f: CaseFilter = EVERY_CASE
) -> tuple[list[dict[str, Any]], int]:
    """Cases visible in ``scope`` matching ``f`` (newest first by default), with the count."""
    return db.select_cases(conn, scope.rule(), f, open_statuses=OPEN_STATUSES)


def workbench_filter(
    *,
    statuses: Sequence[str],
    categories: Sequence[str],
    known_categories: Sequence[str],
    overdue: bool,
    due_within_hours: int | None,
    town_ids: Sequence[int],
    grid_ids: Sequence[int],
    member_ids: Sequence[int],
    sort: str,
    q: str | None = None,
) -> CaseFilter:
    """The filter of the workbench's case list (and its export) from what its URL says.

    ``open`` stands for every open status; unknown statuses or categories are refused
    (:class:`~geo.errors.ValidationError`); ``overdue`` and ``due_within_hours`` both ask
    for open cases due before a time — the later of the two; ``q`` searches (the case
    number, a reporter's phone, words of the description or notes) within the caller's scope.
    """
    now = datetime.now(UTC)
    due = [now] if overdue else []
    if due_within_hours is not None:
        due.append(now + timedelta(hours=due_within_hours))
    return CaseFilter(
        statuses=status_filter(statuses),
        categories=category_filter(categories, known_categories),
        due_before=max(due) if due else None,
        town_ids=town_ids,
        grid_ids=grid_ids,
        member_ids=member_ids,
        sort=sort,
        q=(q or "").strip() or None,
    )


def roster(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    """The grid members in ``scope`` (a member: only themselves) with open cases and capacity."""
    return db.roster(conn, OPEN_STATUSES, scope.rule())


#: the status filter's name for every open status at once
OPEN_GROUP = "open"


def status_filter(asked: Sequence[str]) -> list[str]:
    """The statuses asked for, ``open`` standing for every open one; unknown ones refused.

    Raises
    ------
    ValidationError
        Naming the statuses (and the group) that exist.
    """
    known = set(CaseStatus.codes())
    unknown = [s for s in asked if s != OPEN_GROUP and s not in known]
    if unknown:
        allowed = ", ".join([OPEN_GROUP, *CaseStatus.codes()])
        msg = f"unknown status {', '.join(map(repr, unknown))}; use one of: {allowed}"
        raise ValidationError(msg, zh=f"未知的案件状态：{'、'.join(map(str, unknown))}")
    out = [s for s in asked if s != OPEN_GROUP]
    if OPEN_GROUP in asked:
        out += [s for s in OPEN_STATUSES if s not in out]
    return out


def category_filter(asked: Sequence[str], known: Sequence[str]) -> list[str]:
    """The categories asked for; unknown ones refused, naming those that exist."""
    unknown = [c for c in asked if c not in known]
    if unknown:
        msg = f"unknown category {', '.join(map(repr, unknown))}; use one of: {', '.join(known)}"
        raise ValidationError(msg, zh=f"未知的诉求类别：{'、'.join(map(str, unknown))}")
    return list(asked)


def events(conn: Connection, case_id: int, scope: Scope) -> list[dict[str, Any]]:
    """A case's history, oldest first (404 outside ``scope``)."""
    get_case(conn, case_id, scope)
    return db.events(conn, case_id)


def public_stats(conn: Connection, *, min_count: int = 5) -> list[dict[str, Any]]:
    """Case counts per grid for the public: no locations, no people, no small counts.

    A grid with fewer than ``min_count`` cases is not listed at all (listing it, even with
    its count hidden, would tell which grid holds a single case); an open count below
    ``min_count`` is shown as ``None``.
    """
    out = []
    for r in db.grid_counts(conn, OPEN_STATUSES, min_count=min_count):
        small = 0 < r["open_cases"] < min_count
        out.append(
            {
                "grid": r["grid"],
                "town": r["town"],
                "district": r["district"],
                "cases": int(r["cases"]),
                "open_cases": None if small else int(r["open_cases"]),
                "suppressed": small,
            }
        )
    return out


def require_member_in_scope(conn: Connection, member_id: int, scope: Scope | None) -> None:
    """Refuse an unknown grid member (404) or one outside ``scope``'s area (403)."""
    place = member_area(conn, member_id)
    if place is None:
        msg = f"grid member {member_id} not found"
        raise NotFoundError(msg, zh=f"找不到网格员 {member_id}（或不在您的范围内）")
    if scope is not None:
        area = Area(scope.district_id, scope.town_id, everything=scope.everything)
        require_area(area, place, f"grid member {member_id}")


def outcomes(conn: Connection, case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each case's result (办理结果) and satisfaction (满意度), for exports."""
    return db.case_outcomes(conn, case_ids)


def cases_version(conn: Connection) -> str:
    """A fingerprint of the cases table: it differs once any case has changed."""
    return data_version(conn, ("cases",))
