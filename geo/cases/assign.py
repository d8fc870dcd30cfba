"""Where a case belongs and who should take it — with the reasons written down.

1. **Place** the case (:func:`geo.cases.intake.place_case`): the grid whose polygon covers the
   point, and any other grid within ``boundary_m`` of it. No grid: the town's queue; no
   town: the district's queue. A case is never dropped.
2. **Choose a member** (:func:`choose_member`, pure): the grid's own member when they are
   not on leave, below capacity and handle the category. Otherwise the best alternative in
   the same town team, by travel time from their base (road graph) plus a workload penalty
   per open case. Nobody eligible: the town queue. Every candidate's figures and the rule
   applied are returned as the explanation ("why this member"), and stored with the case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from geo.routing.engine import RoutingEngine
from geo.routing.table import point_table
from geo.vocabulary import CaseCategory, label


@dataclass(frozen=True)
class Placement:
    """Where a case falls: grid (if any), town, district, and which queue holds it."""

    grid_id: int | None
    grid_code: str | None
    town_id: int | None
    district_id: int | None
    queue: str
    nearby_grid_ids: list[int] = field(default_factory=list)
    nearby_grid_codes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Candidate:
    """A team member considered for a case, with the figures that decided."""

    member_id: int
    code: str
    name: str
    grid_id: int | None
    open_cases: int
    capacity: int
    on_leave: bool
    handles_category: bool
    travel_time_s: float | None
    score_s: float | None
    eligible: bool
    why_not: str | None
    why_not_zh: str | None = None


@dataclass(frozen=True)
class Choice:
    """The member chosen (or none: the case waits in a queue) and the explanation."""

    member_id: int | None
    queue: str
    explanation: dict[str, Any]


TravelTimes = Callable[[float, float, np.ndarray], tuple[np.ndarray, str]]


def choose_member(
    placement: Placement,
    category: str,
    members: list[dict[str, Any]],
    *,
    lon: float,
    lat: float,
    travel_times: TravelTimes,
    workload_penalty_s: float = 600.0,
) -> Choice:
    """Apply the assignment rules to a placed case (see the module docstring)."""
    if placement.town_id is None or not members:
        no_town = placement.town_id is None
        queued_why = "outside every town's grid team" if no_town else "the town has no team"
        queued_zh = "不在任何镇街网格队伍范围内" if no_town else "该镇街尚无网格队伍"
        return Choice(
            None,
            placement.queue if placement.queue != "grid" else "town",
            {
                "rule": "queued",
                "queue": placement.queue,
                "reason": queued_why,
                "reason_zh": queued_zh,
                "candidates": [],
            },
        )
    bases = np.array([[mm["lon"], mm["lat"]] for mm in members], dtype=float)
    times, method = travel_times(lon, lat, bases)
    cands = []
    for mm, t in zip(members, times, strict=True):
        handles = category in (mm["skills"] or [])
        why: str | None = None
        why_zh: str | None = None
        if mm["on_leave"]:
            why, why_zh = "is on leave", "正在休假"
        elif mm["open_cases"] >= mm["capacity"]:
            load = f"{mm['open_cases']}/{mm['capacity']}"
            why = f"is at capacity ({load} open cases)"
            why_zh = f"手上案件已满（{load} 件在办）"
        elif not handles:
            why = f"does not handle {category}"
            why_zh = f"不负责“{label(CaseCategory, category, 'zh')}”类案件"
        elif not np.isfinite(t):
            why, why_zh = "cannot reach the place by road", "无法经道路到达该地点"
        tt = float(t) if np.isfinite(t) else None
        score = tt + workload_penalty_s * mm["open_cases"] if tt is not None else None
        cands.append(
            Candidate(
                mm["id"],
                mm["code"],
                mm["name"],
                mm["grid_id"],
                int(mm["open_cases"]),
                int(mm["capacity"]),
                bool(mm["on_leave"]),
                handles,
                tt,
                score,
                why is None,
                why,
                why_zh,
            )
        )
    own = next(
        (c for c in cands if placement.grid_id is not None and c.grid_id == placement.grid_id), None
    )
    base = {
        "grid": placement.grid_code,
        "nearby_grids": placement.nearby_grid_codes,
        "travel_time_method": method,
        "workload_penalty_s_per_open_case": workload_penalty_s,
    }
    listing = [
        asdict(c) for c in sorted(cands, key=lambda c: (c.score_s is None, c.score_s or 0.0))
    ]
    if own is not None and own.eligible:
        return Choice(
            own.member_id,
            "grid",
            {
                **base,
                "rule": "grid member",
                "reason": f"{own.name} is responsible for grid {placement.grid_code} "
                "and is available",
                "reason_zh": f"{own.name}负责网格 {placement.grid_code}，目前可以受理",
                "candidates": listing,
            },
        )
    eligible = [c for c in cands if c.eligible]
    if not eligible:
        return Choice(
            None,
            "town",
            {
                **base,
                "rule": "queued",
                "queue": "town",
                "reason": "nobody in the town team is available for this category",
                "reason_zh": "本镇街网格员中暂无可受理此类案件的人员，案件进入镇街队列",
                "candidates": listing,
            },
        )
    best = min(eligible, key=lambda c: (c.score_s, c.member_id))
    own_why = (
        f"the grid's member {own.name} {own.why_not}"
        if own is not None
        else "the place is in no grid"
    )
    own_why_zh = (
        f"本网格网格员{own.name}{own.why_not_zh}" if own is not None else "该地点不在任何网格内"
    )
    minutes = (best.travel_time_s or 0) / 60
    reason = (
        f"{own_why}; {best.name} is the best alternative in the town team: "
        f"{minutes:.0f} min away with {best.open_cases} open cases"
    )
    reason_zh = (
        f"{own_why_zh}；{best.name}是本镇街最合适的替代人选："
        f"约 {minutes:.0f} 分钟可到达，手上 {best.open_cases} 件在办"
    )
    return Choice(
        best.member_id,
        "grid" if placement.grid_id else "town",
        {
            **base,
            "rule": "alternative",
            "reason": reason,
            "reason_zh": reason_zh,
            "candidates": listing,
        },
    )


def straight_line_times(speed_kph: float) -> TravelTimes:
    """Travel times estimated from straight-line distance (when no road graph is loaded)."""

    def estimate(lon: float, lat: float, bases: np.ndarray) -> tuple[np.ndarray, str]:
        dlat = np.radians(bases[:, 1] - lat)
        dlon = np.radians(bases[:, 0] - lon) * np.cos(np.radians(lat))
        metres = 6_371_000 * np.hypot(dlat, dlon)
        return metres / (speed_kph / 3.6), "straight-line estimate (road graph not ready)"

    return estimate


def road_travel_times(
    engine: RoutingEngine | None, *, profile: str = "e_bike", limit_s: float = 3600.0
) -> TravelTimes:
    """Travel times from member bases to a case by road (straight-line estimate without graph)."""
    if engine is None:
        return straight_line_times(15.0)

    def by_road(lon: float, lat: float, bases: np.ndarray) -> tuple[np.ndarray, str]:
        target = engine.snap_points(np.array([[lon, lat]]), profile)
        if target.edge[0] < 0:  # the case is off the road network: estimate rather than fail
            est, _ = straight_line_times(15.0)(lon, lat, bases)
            return est, "straight-line estimate (no road near the case)"
        times = point_table(engine, bases, target, profile=profile, limit_s=limit_s)
        return times[:, 0], f"road ({profile})"

    return by_road
