"""Station labels per node: nearest-station answers whose memory grows with nodes only.

The per-station travel-time fields of :mod:`geo.routing.engine` hold ``stations x nodes``
numbers — fine for a city's few dozen stations, far too many for thousands of stations on a
graph of a million nodes (5,000 x 1M x 12 bytes = 60 GB). Labels keep instead, for every node,
the ``K`` stations reached fastest from it: the time, the station and the next node on the
way (``nodes x K`` numbers, 96 MB for a million nodes and ``K = 8``), from one multi-source
label-setting Dijkstra on the reversed graph (numba: every station's search at once; a node
stops accepting labels when it has ``K``).

A query reads the labels of the point's (at most two) entry nodes: any station missing from
them is at least ``bound`` away (the ``K``-th label plus the way to the node), so candidates
within the bound are exact. When filters (opening hours, kinds, amenities) leave fewer than
``k`` within the bound, :func:`forward_search` answers exactly from a bounded search instead.
Routes are unwound label by label: each label came from a label of its next node.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse.csgraph import dijkstra

from geo.routing.compiled import Snap
from geo.routing.profile_graph import ProfileGraph
from geo.routing.search import search, unwind

#: labels kept per node
K_LABELS = 8


@njit(cache=True)
def _k_best(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seed_node: np.ndarray,
    seed_cost: np.ndarray,
    seed_row: np.ndarray,
    n: int,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    times = np.full((n, k), np.inf, dtype=np.float32)
    station = np.full((n, k), -1, dtype=np.int32)
    hop = np.full((n, k), -1, dtype=np.int32)
    count = np.zeros(n, dtype=np.int32)
    heap = [(0.0, np.int64(0), np.int64(0), np.int64(0))]
    heap.pop()
    for i in range(len(seed_node)):
        seed = (seed_cost[i], np.int64(seed_node[i]), np.int64(seed_row[i]), np.int64(-1))
        heapq.heappush(heap, seed)
    while heap:
        t, node, row, frm = heapq.heappop(heap)
        c = count[node]
        if c >= k:
            continue
        seen = False
        for j in range(c):
            if station[node, j] == row:
                seen = True
                break
        if seen:
            continue
        times[node, c] = t
        station[node, c] = row
        hop[node, c] = frm
        count[node] = c + 1
        for e in range(indptr[node], indptr[node + 1]):
            m = indices[e]
            if count[m] < k:
                heapq.heappush(heap, (t + weights[e], np.int64(m), row, node))
    return times, station, hop


@dataclass(frozen=True)
class StationLabels:
    """The ``K`` fastest-reached stations of every node (rows of the stations' list).

    Attributes
    ----------
    times
        ``(nodes, K)`` seconds from the node to the station (``inf``: no label).
    station
        ``(nodes, K)`` station row, ``-1`` for none.
    hop
        ``(nodes, K)`` next node on the way, ``-1`` where the station is reached directly.
    """

    times: np.ndarray
    station: np.ndarray
    hop: np.ndarray

    @classmethod
    def search(
        cls, pg: ProfileGraph, exit_node: np.ndarray, exit_cost: np.ndarray, k: int = K_LABELS
    ) -> StationLabels:
        """Labels of every node for the stations reached from ``exit_node`` at ``exit_cost``.

        Both are ``(stations, ways in)`` arrays (``-1`` where a station has fewer ways in).
        """
        rows, cols = np.nonzero(exit_node >= 0)
        back = pg.reversed_matrix
        times, station, hop = _k_best(
            back.indptr.astype(np.int64),
            back.indices.astype(np.int64),
            back.data.astype(np.float64),
            exit_node[rows, cols].astype(np.int64),
            exit_cost[rows, cols].astype(np.float64),
            rows.astype(np.int64),
            pg.n_search,
            k,
        )
        return cls(times, station, hop)

    @property
    def nbytes(self) -> int:
        """Memory held by the labels."""
        return int(self.times.nbytes + self.station.nbytes + self.hop.nbytes)

    def candidates(
        self, entries: list[tuple[int, float]]
    ) -> tuple[dict[int, tuple[float, int]], float]:
        """Stations labelled at the entry nodes, ``row -> (time, entry node)``, and the bound.

        Every station not among them is at least ``bound`` seconds away; those within the
        bound have their exact time.
        """
        found: dict[int, tuple[float, int]] = {}
        bound = np.inf
        for node, cost in entries:
            rows, times = self.station[node], self.times[node]
            for row, t in zip(rows.tolist(), times.tolist(), strict=True):
                if row < 0:
                    break
                total = cost + t
                if total < found.get(row, (np.inf, -1))[0]:
                    found[row] = (total, node)
            if rows[-1] >= 0:
                bound = min(bound, cost + float(times[-1]))
        return found, bound

    def path(self, row: int, entry: int) -> list[int]:
        """Nodes from ``entry`` to where station ``row`` is reached, following its labels."""
        nodes, node = [entry], entry
        for _ in range(len(self.times)):
            slots = np.flatnonzero(self.station[node] == row)
            nxt = int(self.hop[node, slots[0]]) if len(slots) else -1
            if nxt < 0:
                break
            nodes.append(nxt)
            node = nxt
        return nodes


def forward_search(
    pg: ProfileGraph,
    entries: list[tuple[int, float]],
    exits: np.ndarray,
    exit_cost: np.ndarray,
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact times to every station from a point's entries, within ``limit`` seconds.

    ``exits``/``exit_cost`` are ``(stations, ways in)`` nodes from which each station is
    reached and the time from each (``-1``/``inf`` where fewer). Returns the station times,
    the exit used and the predecessors (for the routes).
    """
    node_time, node_pred = search(pg.matrix, entries, limit=limit)
    at_exit = np.where(exits >= 0, node_time[np.maximum(exits, 0)] + exit_cost, np.inf)
    which = np.argmin(at_exit, axis=1)
    return at_exit[np.arange(len(exits)), which], exits[np.arange(len(exits)), which], node_pred


def nearest_station_field(
    pg: ProfileGraph, snaps: Sequence[Snap], rows: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Time from every node to the nearest of the stations ``rows``, and which one.

    One multi-source Dijkstra on the reversed graph (the stations as virtual nodes): for
    coverage over many points, whatever the filters, in one search.
    """
    n = pg.n_search
    if not rows:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist, _pred, source = dijkstra(
        pg.reversed_with_targets(snaps),
        indices=[n + row for row in rows],
        min_only=True,
        return_predecessors=True,
    )
    which = np.where(source[:n] >= n, source[:n] - n, -1)
    return dist[:n], which


#: a nearest answer by row: (time, station row, nodes from the entry, or None: along the edge)
Found = tuple[float, int, Sequence[int] | np.ndarray | None]


@dataclass(frozen=True)
class LabelledStations:
    """Stations served from labels: the labels, each station's ways in, who shares an edge."""

    labels: StationLabels
    exit_node: np.ndarray
    exit_cost: np.ndarray
    on_edge: dict[int, list[int]]

    @classmethod
    def build(cls, pg: ProfileGraph, snaps: Sequence[Snap]) -> LabelledStations:
        """Labels and indexes for the stations snapped at ``snaps``."""
        ways = [pg.exits(snap) for snap in snaps]
        width = max((len(w) for w in ways), default=1)
        exit_node = np.full((len(snaps), width), -1, dtype=np.int64)
        exit_cost = np.full((len(snaps), width), np.inf)
        on_edge: dict[int, list[int]] = {}
        for row, snap in enumerate(snaps):
            for j, (node, cost) in enumerate(ways[row]):
                exit_node[row, j], exit_cost[row, j] = node, cost
            for edge in (snap.edge, int(pg.twin[snap.edge])):
                if edge >= 0:
                    on_edge.setdefault(edge, []).append(row)
        return cls(StationLabels.search(pg, exit_node, exit_cost), exit_node, exit_cost, on_edge)

    def nearest(
        self,
        pg: ProfileGraph,
        snaps: Sequence[Snap],
        snap: Snap,
        k: int,
        allowed: Callable[[list[int]], np.ndarray],
        order_key: Sequence[int],
    ) -> list[Found]:
        """The ``k`` nearest allowed stations from ``snap``, with the nodes of each route.

        ``allowed(rows)`` is the filters' mask over station rows; ``order_key`` breaks ties
        (the station ids). Exact: labels within their bound, else a bounded forward search.
        """
        entries = pg.entries(snap)
        found, bound = self.labels.candidates(entries)
        direct = {
            row: pg.same_edge_time(snap, snaps[row]) for row in self.on_edge.get(snap.edge, [])
        }
        for row, t in direct.items():
            if t <= found.get(row, (np.inf, -1))[0]:
                found[row] = (t, -1)
        rows = list(found)
        ok = allowed(rows) if rows else np.zeros(0, dtype=bool)
        picked = sorted(
            (found[r][0], order_key[r], r) for r, good in zip(rows, ok, strict=True) if good
        )
        if bound == np.inf or sum(t <= bound for t, _, _ in picked) >= k:
            return [
                (t, r, None if found[r][1] == -1 else self.labels.path(r, found[r][1]))
                for t, _, r in picked[:k]
                if np.isfinite(t)
            ]
        return self._searched(pg, entries, direct, k, allowed, order_key, max(2 * bound, 600.0))

    def _searched(
        self,
        pg: ProfileGraph,
        entries: list[tuple[int, float]],
        direct: dict[int, float],
        k: int,
        allowed: Callable[[list[int]], np.ndarray],
        order_key: Sequence[int],
        limit: float,
    ) -> list[Found]:
        """Exact answers from forward searches, the limit growing until ``k`` are found."""
        ok = allowed(list(range(len(self.exit_node))))
        by_edge = np.full(len(self.exit_node), np.inf)
        for row, t in direct.items():
            by_edge[row] = t
        while True:
            times, exit_used, pred = forward_search(
                pg, entries, self.exit_node, self.exit_cost, limit
            )
            times = np.where(ok, np.minimum(times, by_edge), np.inf)
            order = np.lexsort((np.asarray(order_key), times))[:k]
            hits = [int(r) for r in order if times[r] <= limit]
            if len(hits) >= k or not np.isfinite(limit):
                break
            limit = limit * 4 if limit < 4 * 3600 else np.inf
        out: list[Found] = []
        for r in hits:
            if by_edge[r] <= times[r]:
                out.append((float(times[r]), r, None))
                continue
            out.append((float(times[r]), r, unwind(pred, int(exit_used[r]))[::-1].tolist()))
        return out
