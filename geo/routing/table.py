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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from geo.routing.compiled import ProfileGraph, Snap, SnapArrays
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
        cls,
        pg: ProfileGraph,
        snaps: SnapArrays,
        *,
        reverse: bool,
        limit_s: float = np.inf,
        stop_at: np.ndarray | None = None,
    ) -> TimeField:
        """One bounded search per point (from all its ways in), forward or on the reversed graph.

        With ``stop_at`` (search nodes) each search may end once all of them are settled: the
        field is then exact there only — for a table whose other side is known.
        """
        n, k = pg.n_search, len(snaps.edge)
        nodes, costs = pg.exit_arrays(snaps) if reverse else pg.entry_arrays(snaps)
        graph = pg.reversed_matrix if reverse else pg.matrix
        columns, values, counts = [], [], np.zeros(k, dtype=np.int64)
        for i in range(k):
            ways = [
                (int(a), float(c)) for a, c in zip(nodes[i], costs[i], strict=True) if c < np.inf
            ]
            if not ways:
                continue
            d, _ = search(graph, ways, limit=limit_s, targets=() if stop_at is None else stop_at)
            reached = np.flatnonzero(np.isfinite(d))
            columns.append(reached)
            values.append((d[reached] + 1.0).astype(np.float32))
            counts[i] = len(reached)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        flat = np.concatenate(columns) if columns else np.empty(0, dtype=np.int64)
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
        self._same_edge(others, out)
        out[out > self.limit_s] = np.inf
        return out

    def _same_edge(self, others: SnapArrays, out: np.ndarray) -> None:
        pg = self.pg
        by_edge: dict[int, list[int]] = {}
        for j, e in enumerate(others.edge):
            if e >= 0:
                by_edge.setdefault(int(e), []).append(j)
        for i, e in enumerate(self.snaps.edge):
            if e < 0:
                continue
            mine = _snap(self.snaps, i)
            for edge in (int(e), int(pg.twin[e])):
                for j in by_edge.get(edge, []) if edge >= 0 else []:
                    other = _snap(others, j)
                    a, b = (other, mine) if self.reverse else (mine, other)
                    out[i, j] = min(out[i, j], pg.same_edge_time(a, b))


def _snap(snaps: SnapArrays, i: int) -> Snap:
    return Snap(int(snaps.edge[i]), float(snaps.fraction[i]), 0.0, (0.0, 0.0))


def travel_time_table(
    pg: ProfileGraph, origins: SnapArrays, targets: SnapArrays, *, limit_s: float = np.inf
) -> np.ndarray:
    """Travel time (s) from each origin to each target: an ``(origins, targets)`` array.

    Searches run from the smaller side; ``inf`` beyond ``limit_s`` or off the road.
    """
    if len(origins.edge) <= len(targets.edge):
        nodes, costs = pg.exit_arrays(targets)
        field = TimeField.search(
            pg, origins, reverse=False, limit_s=limit_s, stop_at=np.unique(nodes[costs < np.inf])
        )
        return field.to(targets)
    nodes, costs = pg.entry_arrays(origins)
    field = TimeField.search(
        pg, targets, reverse=True, limit_s=limit_s, stop_at=np.unique(nodes[costs < np.inf])
    )
    return field.to(origins).T
