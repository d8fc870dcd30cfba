"""Batch assignment: all waiting cases to grid members at once, at least total travel time.

Each case may go to a member of its own town team who is not on leave, handles the category
and has room (capacity minus open cases). Within those rules the assignment minimising the
total travel time (member base -> case, by road) is a min-cost bipartite matching where each
member is repeated once per free slot (``scipy.optimize.linear_sum_assignment``); towns are
independent, so each town is solved on its own. A one-second-per-extra-case tie-breaker
spreads equal-time work across members. The greedy baseline takes the cases one by one and
gives each to the nearest member with room.

Travel times come from a :class:`~geo.routing.table.TimeField` of the members' bases: one
bounded search per member (made once and kept by the platform), so a batch is only lookups.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection

from geo.cases.lifecycle import AWAITING_ASSIGNMENT, OPEN_STATUSES
from geo.cases.notify import notify_transition
from geo.db import cases as db
from geo.routing.engine import RoutingEngine
from geo.routing.table import TimeField, point_field
from geo.vocabulary import CaseStatus


@dataclass
class BatchResult:
    """An assignment of cases to members and its figures."""

    assignment: dict[int, int]  # case index -> member index
    unassigned: list[int]
    total_travel_time_s: float
    max_load: int
    seconds: float
    method: str
    loads: dict[int, int] = field(default_factory=dict)


def _result(
    method: str,
    pairs: dict[int, int],
    cost: np.ndarray,
    open_load: np.ndarray,
    n_cases: int,
    t0: float,
) -> BatchResult:
    loads = open_load.copy()
    for mem in pairs.values():
        loads[mem] += 1
    total = float(sum(cost[c, mem] for c, mem in pairs.items()))
    unassigned = [c for c in range(n_cases) if c not in pairs]
    return BatchResult(
        pairs,
        unassigned,
        total,
        int(loads.max()) if len(loads) else 0,
        time.perf_counter() - t0,
        method,
        {i: int(v) for i, v in enumerate(loads) if v},
    )


def assign_min_cost(
    cost: np.ndarray,
    allowed: np.ndarray,
    capacity: np.ndarray,
    open_load: np.ndarray,
    groups: np.ndarray,
) -> BatchResult:
    """Minimum total travel time under capacities (cases x members ``cost``, ``allowed`` mask).

    ``groups`` gives each case's town; members are only ``allowed`` within their town, so each
    group is solved on its own.
    """
    t0 = time.perf_counter()
    free = np.maximum(capacity - open_load, 0)
    pairs: dict[int, int] = {}
    from scipy.optimize import linear_sum_assignment  # ~0.5 s to import: only where it solves

    big = 1e12
    for g in np.unique(groups):
        cases = np.flatnonzero(groups == g)
        members = np.flatnonzero(allowed[cases].any(axis=0))
        if len(members) == 0:
            continue
        slots_m = np.concatenate([np.repeat(mm, min(int(free[mm]), len(cases))) for mm in members])
        if len(slots_m) == 0:
            continue
        slot_rank = np.concatenate([np.arange(min(int(free[mm]), len(cases))) for mm in members])
        sub = cost[np.ix_(cases, slots_m)] + slot_rank[None, :] * 1.0
        sub = np.where(allowed[np.ix_(cases, slots_m)] & np.isfinite(sub), sub, big)
        rows, cols = linear_sum_assignment(sub)
        for r, c in zip(rows, cols, strict=True):
            if sub[r, c] < big:
                pairs[int(cases[r])] = int(slots_m[c])
    return _result(
        "min-cost assignment (linear_sum_assignment)", pairs, cost, open_load, len(cost), t0
    )


def assign_greedy(
    cost: np.ndarray, allowed: np.ndarray, capacity: np.ndarray, open_load: np.ndarray
) -> BatchResult:
    """Baseline: each case in turn to the nearest allowed member with room."""
    t0 = time.perf_counter()
    load = open_load.copy()
    pairs: dict[int, int] = {}
    for c in range(len(cost)):
        options = np.flatnonzero(allowed[c] & (load < capacity) & np.isfinite(cost[c]))
        if len(options) == 0:
            continue
        best = int(options[np.argmin(cost[c, options])])
        pairs[c] = best
        load[best] += 1
    return _result("greedy (nearest member with room)", pairs, cost, open_load, len(cost), t0)


@dataclass(frozen=True)
class MemberTimes:
    """Travel times from every grid member's base (member ids in field row order)."""

    member_ids: list[int]
    field: TimeField


def member_times(
    conn: Connection, engine: RoutingEngine, *, profile: str = "e_bike", limit_s: float = 3600.0
) -> MemberTimes:
    """Search once from every member's base (keep the result for later batches)."""
    rows = db.members(conn, OPEN_STATUSES)
    bases = np.array([[r["lon"], r["lat"]] for r in rows], dtype=float).reshape(-1, 2)
    field = point_field(engine, bases, profile=profile, limit_s=limit_s)
    return MemberTimes([int(r["id"]) for r in rows], field)


#: how many proposed pairs a report lists (the rest are counted)
PROPOSALS_SHOWN = 500


def assign_batch(
    conn: Connection,
    engine: RoutingEngine,
    times: MemberTimes,
    *,
    actor: str,
    profile: str = "e_bike",
    limit: int = 5000,
    apply: bool = True,
) -> dict[str, Any]:
    """Assign every waiting case (min-cost under capacities), compare with greedy, store it."""
    members = {int(r["id"]): r for r in db.members(conn, OPEN_STATUSES)}
    waiting = db.waiting_cases(conn, AWAITING_ASSIGNMENT, limit)
    if not waiting:
        return {"cases": 0, "assigned": 0, "unassigned": 0, "method": None}
    rows = [i for i, mid in enumerate(times.member_ids) if mid in members]
    mem = [members[times.member_ids[i]] for i in rows]
    places = np.array([[c["lon"], c["lat"]] for c in waiting], dtype=float)
    cost = times.field.to(engine.snap_points(places, profile))[rows].T  # cases x members
    town = np.array([c["town_id"] if c["town_id"] is not None else -1 for c in waiting])
    m_town = np.array([r["town_id"] for r in mem])
    ok_member = np.array([not r["on_leave"] for r in mem])
    skills = [set(r["skills"] or []) for r in mem]
    allowed = (town[:, None] == m_town[None, :]) & ok_member[None, :]
    allowed &= np.array([[c["category"] in s for s in skills] for c in waiting])
    capacity = np.array([r["capacity"] for r in mem])
    load = np.array([r["open_cases"] for r in mem])
    best = assign_min_cost(cost, allowed, capacity, load, town)
    greedy = assign_greedy(cost, allowed, capacity, load)
    proposals = [
        {
            "case_id": int(waiting[ci]["id"]),
            "reference": waiting[ci]["reference"],
            "member_id": int(mem[mi]["id"]),
            "member_name": mem[mi]["name"],
            "travel_time_s": round(float(cost[ci, mi]), 1),
        }
        for ci, mi in sorted(best.assignment.items())[:PROPOSALS_SHOWN]
    ]
    if apply:
        for ci, mi in best.assignment.items():
            case, member = waiting[ci], mem[mi]
            values = {"status": CaseStatus.ASSIGNED, "member_id": member["id"], "queue": "grid"}
            before = db.case_row(conn, case["id"])
            db.update_case(conn, case["id"], values, version=case["version"])
            db.insert_event(
                conn,
                case["id"],
                actor,
                "assigned",
                frm=case["status"],
                to=CaseStatus.ASSIGNED,
                reason=f"batch assignment: {cost[ci, mi] / 60:.1f} min from base",
                data={"member_id": int(member["id"]), "rule": "batch min-cost"},
            )
            if before is not None:
                notify_transition(conn, before, {**before, **values}, None)
    return {
        "cases": len(waiting),
        "assigned": len(best.assignment),
        "unassigned": len(best.unassigned),
        "method": best.method,
        "total_travel_time_s": round(best.total_travel_time_s, 1),
        "max_load": best.max_load,
        "seconds": round(best.seconds, 4),
        "baseline": {
            "method": greedy.method,
            "assigned": len(greedy.assignment),
            "total_travel_time_s": round(greedy.total_travel_time_s, 1),
            "max_load": greedy.max_load,
            "seconds": round(greedy.seconds, 4),
        },
        "capacity_respected": bool(
            all(best.loads.get(i, 0) <= max(capacity[i], load[i]) for i in range(len(capacity)))
        ),
        "applied": apply,
        "proposals": proposals,
    }
