"""Batch assignment: all waiting cases to grid members at once, at least total travel time.

Each case may go to a member of its own town team who is not on leave, handles the category
and has room (capacity minus open cases). Within those rules the assignment minimising the
total travel time (member base -> case, by road) is a min-cost bipartite matching where each
member is repeated once per free slot (``scipy.optimize.linear_sum_assignment``); towns are
independent, so each town is solved on its own. A one-second-per-extra-case tie-breaker
spreads equal-time work across members. The greedy baseline takes the cases one by one and
gives each to the nearest member with room.

Travel times come from :class:`MemberTimes`: one bounded forward Dijkstra per member from
their base (computed once, kept as a sparse matrix), so a batch is only lookups.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from geo.routing.compiled import ProfileGraph

UNREACHABLE = np.inf


class MemberTimes:
    """Travel times from each member's base to any point, by one bounded search per member."""

    def __init__(
        self,
        pg: ProfileGraph,
        bases_xy: np.ndarray,
        *,
        limit_s: float = 3600.0,
        max_snap_m: float = 1000.0,
    ) -> None:
        self.pg, self.limit_s, self.max_snap_m = pg, limit_s, max_snap_m
        n = pg.graph.n_nodes
        snaps = pg.snap_many(bases_xy, max_distance_m=max_snap_m)
        node_a, cost_a, node_b, cost_b = pg.entry_arrays(snaps)
        k = len(bases_xy)
        src = np.concatenate([np.arange(k), np.arange(k)]) + n
        dst = np.concatenate([node_a, node_b])
        cost = np.concatenate([cost_a, cost_b])
        keep = np.isfinite(cost)
        base = pg.matrix.tocoo()
        aug = csr_matrix(
            (
                np.concatenate([base.data, np.maximum(cost[keep], 1e-9)]),
                (np.concatenate([base.row, src[keep]]), np.concatenate([base.col, dst[keep]])),
            ),
            shape=(n + k, n + k),
        )
        rows = []
        for start in range(0, k, 64):
            idx = np.arange(start, min(start + 64, k)) + n
            d = dijkstra(aug, indices=idx, limit=limit_s)[:, :n]
            d = np.where(np.isfinite(d), d + 1.0, 0.0)  # +1 s so that 0 means "not reached"
            rows.append(csr_matrix(d.astype(np.float32)))
        from scipy.sparse import vstack

        self.field = vstack(rows, format="csr") if rows else csr_matrix((0, n))

    def to_points(self, members: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
        """Times (s) from ``members`` (row indices) to points: a ``(members, points)`` array."""
        snaps = self.pg.snap_many(points_xy, max_distance_m=self.max_snap_m)
        node_a, cost_a, node_b, cost_b = self.pg.exit_arrays(snaps)
        sub = self.field[members]
        a = sub[:, node_a].toarray().astype(float)
        b = sub[:, node_b].toarray().astype(float)
        a = np.where(a > 0, a - 1.0 + cost_a[None, :], np.inf)
        b = np.where(b > 0, b - 1.0 + cost_b[None, :], np.inf)
        return np.minimum(a, b)


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
