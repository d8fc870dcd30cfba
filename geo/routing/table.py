"""Travel-time tables: origins × targets in one call, the shape of OSRM's ``table``.

Every point enters (or leaves) the road graph through its snapped edge's ways in (or out): the
edge's end nodes — or edge states, for profiles that pay for turns — at the share of the
edge's time still to go. One bounded search (:mod:`geo.routing.search`) runs per point of the
smaller side: forward from the origins, or on the reversed graph from the targets. Pairs on
one edge also get the direct way along it. Searches stop at ``limit_s``; beyond it, and for
points that met no road, the time is ``inf``.

A :class:`TimeField` keeps the searches of one side (seconds to or from every node, sparse),
so a caller that meets the same origins again — the grid members' bases, for instance —
searches once and looks up afterwards.

:func:`point_table` and :func:`point_field` take WGS-84 points (or points already snapped)
and an engine: the tables coverage and case assignment ask for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from geo.routing.compiled import Snap, SnapArrays
from geo.routing.engine import RoutingEngine
from geo.routing.profile_graph import ProfileGraph
from geo.routing.search import search


@dataclass(frozen=True)
class TimeField:
    """Bounded times between some snapped points and every node.

    ``reverse`` False: from each point to every node; True: from every node to each point.
    ``seconds`` holds the time + 1 s (0: not reached within ``limit_s``), one row per point.
    """

    pg: ProfileGraph
    snaps: SnapArrays
    seconds: csr_matrix
    reverse: bool
    limit_s: float

    @classmethod
    def search(
        cls, pg: ProfileGraph, snaps: SnapArrays, *, reverse: bool, limit_s: float = np.inf
    ) -> TimeField:
        """One bounded search per point (from all its ways in), forward or on the reversed graph."""
        n, k = pg.n_search, len(snaps.edge)
        columns, values, counts = [], [], np.zeros(k, dtype=np.int64)
        for i, d in enumerate(_searches(pg, snaps, reverse=reverse, limit_s=limit_s)):
            if d is None:
                continue
            reached = np.flatnonzero(np.isfinite(d)).astype(np.int32)
            columns.append(reached)
            values.append((d[reached] + 1.0).astype(np.float32))
            counts[i] = len(reached)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        flat = np.concatenate(columns) if columns else np.empty(0, dtype=np.int32)
        data = np.concatenate(values) if values else np.empty(0, dtype=np.float32)
        seconds = csr_matrix((data, flat, indptr), shape=(k, n))
        return cls(pg, snaps, seconds, reverse, limit_s)

    def to(self, others: SnapArrays) -> np.ndarray:
        """Times between the field's points and ``others``: ``(field points, others)``.

        Forward fields give the time from each field point to each other point; reversed
        fields the time from each other point to each field point.
        """
        pg = self.pg
        nodes, costs = pg.entry_arrays(others) if self.reverse else pg.exit_arrays(others)
        out = np.full((len(self.snaps.edge), len(others.edge)), np.inf)
        for node, cost in zip(nodes.T, costs.T, strict=True):
            reached = self.seconds[:, node].toarray().astype(float)
            t = np.where(reached > 0, reached - 1.0 + cost[None, :], np.inf)
            out = np.minimum(out, t)
        _same_edge(pg, self.snaps, others, out, reverse=self.reverse)
        out[out > self.limit_s] = np.inf
        return out


def _searches(
    pg: ProfileGraph,
    snaps: SnapArrays,
    *,
    reverse: bool,
    limit_s: float,
    stop_at: np.ndarray | None = None,
) -> Iterator[np.ndarray | None]:
    """Seconds from each point to every search node (to each point, ``reverse``); None: no road.

    With ``stop_at``, each search may end once all of those nodes are settled (exact there).
    """
    nodes, costs = pg.exit_arrays(snaps) if reverse else pg.entry_arrays(snaps)
    graph = pg.reversed_matrix if reverse else pg.matrix
    stop = () if stop_at is None else stop_at
    for i in range(len(snaps.edge)):
        ways = [(int(a), float(c)) for a, c in zip(nodes[i], costs[i], strict=True) if c < np.inf]
        yield search(graph, ways, limit=limit_s, targets=stop)[0] if ways else None


def _same_edge(
    pg: ProfileGraph, mine: SnapArrays, others: SnapArrays, out: np.ndarray, *, reverse: bool
) -> None:
    """The direct way along an edge that a point of each side shares, where it is faster."""
    by_edge: dict[int, list[int]] = {}
    for j, e in enumerate(others.edge):
        if e >= 0:
            by_edge.setdefault(int(e), []).append(j)
    for i, e in enumerate(mine.edge):
        if e < 0:
            continue
        me = _snap(mine, i)
        for edge in (int(e), int(pg.twin[e])):
            for j in by_edge.get(edge, []) if edge >= 0 else []:
                other = _snap(others, j)
                a, b = (other, me) if reverse else (me, other)
                out[i, j] = min(out[i, j], pg.same_edge_time(a, b))


def _snap(snaps: SnapArrays, i: int) -> Snap:
    return Snap(int(snaps.edge[i]), float(snaps.fraction[i]), 0.0, (0.0, 0.0))


def travel_time_table(
    pg: ProfileGraph, origins: SnapArrays, targets: SnapArrays, *, limit_s: float = np.inf
) -> np.ndarray:
    """Travel time (s) from each origin to each target: an ``(origins, targets)`` array.

    Searches run from the smaller side, each ending once the other side is reached or at
    ``limit_s``; ``inf`` beyond ``limit_s`` or off the road. Each search is read as it ends,
    so memory holds the answer and one search, whatever the sizes.
    """
    reverse = len(origins.edge) > len(targets.edge)
    mine, others = (targets, origins) if reverse else (origins, targets)
    nodes, costs = pg.entry_arrays(others) if reverse else pg.exit_arrays(others)
    stop = np.unique(nodes[np.isfinite(costs)])
    out = np.full((len(mine.edge), len(others.edge)), np.inf)
    for i, d in enumerate(_searches(pg, mine, reverse=reverse, limit_s=limit_s, stop_at=stop)):
        if d is not None:
            out[i] = np.min(d[nodes] + costs, axis=1)
    _same_edge(pg, mine, others, out, reverse=reverse)
    out[out > limit_s] = np.inf
    return out.T if reverse else out


def point_table(
    engine: RoutingEngine,
    origins: np.ndarray | SnapArrays,
    targets: np.ndarray | SnapArrays,
    *,
    profile: str,
    limit_s: float = np.inf,
) -> np.ndarray:
    """Travel time (s) from each origin to each target (WGS-84 ``(n, 2)`` or snapped).

    An ``(origins, targets)`` array, ``inf`` beyond ``limit_s`` or off the road.
    """
    o = origins if isinstance(origins, SnapArrays) else engine.snap_points(origins, profile)
    t = targets if isinstance(targets, SnapArrays) else engine.snap_points(targets, profile)
    return travel_time_table(engine.profile_graph(profile), o, t, limit_s=limit_s)


def point_field(
    engine: RoutingEngine, origins: np.ndarray, *, profile: str, limit_s: float
) -> TimeField:
    """Bounded times from WGS-84 origins to everywhere, kept for repeated lookups.

    ``field.to(engine.snap_points(targets, profile))`` is then the ``(origins, targets)``
    table without searching again.
    """
    snaps = engine.snap_points(origins, profile)
    pg = engine.profile_graph(profile)
    return TimeField.search(pg, snaps, reverse=False, limit_s=limit_s)
