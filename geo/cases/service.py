"""Cases glued to the road graph: travel-time functions and the batch assignment run."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Connection, func, text, update

from geo.cases.assign import TravelTimes, straight_line_times
from geo.cases.batch import MemberTimes, assign_greedy, assign_min_cost
from geo.cases.lifecycle import AWAITING_ASSIGNMENT, OPEN_STATUSES
from geo.cases.store import record_event
from geo.db import models as m
from geo.routing.engine import RoutingEngine

MEMBERS_SQL = text("""
    SELECT m.id, m.town_id, m.skills, m.capacity, m.on_leave,
           ST_X(m.base) AS lon, ST_Y(m.base) AS lat,
           (SELECT count(*) FROM cases c WHERE c.member_id = m.id AND c.status = ANY(:open))
             AS open_cases
    FROM grid_members m ORDER BY m.id
""")
WAITING_SQL = text("""
    SELECT id, version, status, category, town_id, ST_X(geom) AS lon, ST_Y(geom) AS lat
    FROM cases WHERE member_id IS NULL AND status = ANY(:waiting)
    ORDER BY created_at, id LIMIT :limit
""")


def road_travel_times(
    engine: RoutingEngine | None, *, profile: str = "e_bike", limit_s: float = 3600.0
) -> TravelTimes:
    """Travel times from member bases to a case by road (straight-line estimate without graph)."""
    if engine is None:
        return straight_line_times(15.0)

    def by_road(lon: float, lat: float, bases: np.ndarray) -> tuple[np.ndarray, str]:
        try:
            return engine.times_to_point(
                lon, lat, bases, profile=profile, limit_s=limit_s
            ), f"road ({profile})"
        except Exception:  # the case is off the road network: estimate rather than fail
            est, _ = straight_line_times(15.0)(lon, lat, bases)
            return est, "straight-line estimate (no road near the case)"

    return by_road


def member_times(
    conn: Connection, engine: RoutingEngine, *, profile: str = "e_bike", limit_s: float = 3600.0
) -> tuple[list[int], MemberTimes]:
    """Member ids and their travel-time field (build once, reuse for batches)."""
    rows = conn.execute(MEMBERS_SQL, {"open": list(OPEN_STATUSES)}).all()
    pg = engine.profile_graph(profile)
    lon = np.array([r.lon for r in rows])
    lat = np.array([r.lat for r in rows])
    x, y = engine.graph.from_wgs84.transform(lon, lat)
    return [int(r.id) for r in rows], MemberTimes(
        pg, np.column_stack([x, y]), limit_s=limit_s, max_snap_m=engine.max_snap_m
    )


def assign_batch(
    conn: Connection,
    engine: RoutingEngine,
    times: tuple[list[int], MemberTimes],
    *,
    actor: str,
    limit: int = 5000,
    apply: bool = True,
) -> dict[str, Any]:
    """Assign every waiting case (min-cost under capacities), compare with greedy, store it."""
    member_ids, field = times
    members = {int(r.id): r for r in conn.execute(MEMBERS_SQL, {"open": list(OPEN_STATUSES)}).all()}
    args = {"limit": limit, "waiting": list(AWAITING_ASSIGNMENT)}
    waiting = conn.execute(WAITING_SQL, args).all()
    if not waiting:
        return {"cases": 0, "assigned": 0, "unassigned": 0, "method": None}
    mem_rows = [members[i] for i in member_ids if i in members]
    idx = np.array([member_ids.index(int(r.id)) for r in mem_rows])
    lon = np.array([c.lon for c in waiting])
    lat = np.array([c.lat for c in waiting])
    x, y = engine.graph.from_wgs84.transform(lon, lat)
    cost = field.to_points(idx, np.column_stack([x, y])).T  # cases x members
    town = np.array([c.town_id if c.town_id is not None else -1 for c in waiting])
    m_town = np.array([r.town_id for r in mem_rows])
    ok_member = np.array([not r.on_leave for r in mem_rows])
    skills = [set(r.skills or []) for r in mem_rows]
    allowed = (town[:, None] == m_town[None, :]) & ok_member[None, :]
    allowed &= np.array([[c.category in s for s in skills] for c in waiting])
    capacity = np.array([r.capacity for r in mem_rows])
    load = np.array([r.open_cases for r in mem_rows])
    best = assign_min_cost(cost, allowed, capacity, load, town)
    greedy = assign_greedy(cost, allowed, capacity, load)
    if apply:
        for ci, mi in best.assignment.items():
            case, member = waiting[ci], mem_rows[mi]
            conn.execute(
                update(m.Case)
                .where(m.Case.id == case.id, m.Case.version == case.version)
                .values(
                    status="assigned",
                    member_id=member.id,
                    queue="grid",
                    version=m.Case.version + 1,
                    updated_at=func.now(),
                )
            )
            record_event(
                conn,
                case.id,
                actor,
                "assigned",
                frm=case.status,
                to="assigned",
                reason=f"batch assignment: {cost[ci, mi] / 60:.1f} min from base",
                data={"member_id": int(member.id), "rule": "batch min-cost"},
            )
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
    }
