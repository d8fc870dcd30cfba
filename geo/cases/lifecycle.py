"""The life of a case: statuses, allowed transitions, and deadlines.

::

    submitted -> assigned -> accepted -> in_progress -> resolved -> closed
        with escalated (督办: from assigned/accepted/in_progress, or automatically past a
        deadline), returned (退单: a member hands an assigned or accepted case back to the
        managers' queue, with a reason), reopened (from resolved/closed), cancelled (before
        resolution) and rejected (a manager's verdict that a report is spam or a duplicate:
        final, and it frees the member's capacity). Closing needs the callback (回访) first.

Deadlines follow the union's one-month rectification rule: resolution within 30 days by
default; first contact within a number of hours that depends on the category (urgent ones —
work injury, wage arrears — sooner). Both are configurable per category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from geo.errors import ConflictError
from geo.vocabulary import OPEN_CASE_STATUSES, CaseStatus, label

TRANSITIONS: Mapping[str, tuple[str, ...]] = {
    "submitted": ("assigned", "escalated", "cancelled", "rejected"),
    "assigned": ("assigned", "accepted", "returned", "escalated", "cancelled", "rejected"),
    "accepted": ("in_progress", "returned", "escalated", "cancelled", "rejected"),
    "in_progress": ("resolved", "escalated", "cancelled", "rejected"),
    "escalated": ("assigned", "in_progress", "resolved", "cancelled", "rejected"),
    "returned": ("assigned", "escalated", "cancelled", "rejected"),
    "resolved": ("closed", "reopened"),
    "closed": ("reopened",),
    "reopened": ("assigned", "in_progress", "escalated", "rejected"),
    "cancelled": (),
    "rejected": (),
}
assert set(TRANSITIONS) == set(CaseStatus.codes()), "every status has its moves"
#: the statuses of cases still being worked on (counted in workloads, escalated when late)
OPEN_STATUSES = OPEN_CASE_STATUSES

#: (first contact in hours, resolution in days) by category.
DEFAULT_DEADLINES: Mapping[str, tuple[float, float]] = {
    "wage_arrears": (24, 30),
    "labour_contract": (48, 30),
    "work_injury": (12, 30),
    "social_insurance": (48, 30),
    "occupational_safety": (12, 30),
    "mediation": (48, 30),
    "other": (72, 30),
    "station_problem": (24, 3),  # riders find the station unusable: fix it within days
}


#: in ``YIZHAN_RETURN_REVIEW``: every category's returns wait for a manager
EVERY_CATEGORY = "*"


def return_needs_review(category: str, reviewed: Sequence[str]) -> bool:
    """Whether a member's return (退单) of a case of ``category`` waits for a manager."""
    return EVERY_CATEGORY in reviewed or category in reviewed


class IllegalTransitionError(ConflictError):
    """A status change the lifecycle does not allow."""


def check_transition(current: str, target: str) -> None:
    """Refuse a transition not in :data:`TRANSITIONS`, naming the allowed ones."""
    allowed = TRANSITIONS.get(current, ())
    if target not in allowed:
        choices = ", ".join(allowed) if allowed else "none (the case is final)"
        msg = f"a {current} case cannot become {target}; allowed next: {choices}"
        was, asked = label(CaseStatus, current, "zh"), label(CaseStatus, target, "zh")
        raise IllegalTransitionError(msg, zh=f"「{was}」的案件不能改为「{asked}」")


def deadlines(
    category: str, created: datetime, table: Mapping[str, tuple[float, float]] | None = None
) -> tuple[datetime, datetime]:
    """First-contact and resolution due times of a case created at ``created``.

    ``table`` (a union's own, ``YIZHAN_CASE_DEADLINES``) wins over :data:`DEFAULT_DEADLINES`
    for the categories it names.
    """
    fallback = DEFAULT_DEADLINES.get(category, DEFAULT_DEADLINES["other"])
    hours, days = (table or {}).get(category, fallback)
    return created + timedelta(hours=hours), created + timedelta(days=days)


#: why a case was escalated automatically (the reasons kept in its history)
LATE_RESOLUTION = "resolution deadline passed"
LATE_CONTACT = "first contact deadline passed"

#: open cases that may still be escalated (an escalated case is not escalated again)
ESCALATABLE = tuple(s for s in OPEN_STATUSES if s != "escalated")
#: cases nobody has contacted the reporter about yet
AWAITING_CONTACT = ("submitted", "assigned")
#: cases waiting for a member (new, or reopened)
AWAITING_ASSIGNMENT = ("submitted", "returned", "reopened")

#: who takes over a case escalated (督办): the grid's case goes to the town's managers, the
#: town's to the district's
ESCALATES_TO = {"grid": "town", "town": "district", "district": "district"}
