"""One Dijkstra from several ways in, each with its own head start, stopping when it may.

``scipy.sparse.csgraph.dijkstra`` runs one search per start node and knows no head starts, so a
point on a road — which enters the graph at two or more nodes (states, with turn costs), each
some seconds away — cost one search per way in, or a copy of the whole graph with a virtual
node added. This search (compiled with numba) takes every way in at once, stops at a time
limit, or as soon as every node in ``targets`` is settled, and keeps the predecessors.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix


@njit(cache=True)
def _search(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    seed_node: np.ndarray,
    seed_cost: np.ndarray,
    limit: float,
    targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = len(indptr) - 1
    dist = np.full(n, np.inf)
    pred = np.full(n, -9999, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    wanted = np.zeros(n, dtype=np.bool_)
    left = 0
    for t in targets:
        if not wanted[t]:
            wanted[t] = True
            left += 1
    heap = [(0.0, np.int64(0))]
    heap.pop()
    for i in range(len(seed_node)):
        node = seed_node[i]
        if seed_cost[i] < dist[node] and seed_cost[i] <= limit:
            dist[node] = seed_cost[i]
            heapq.heappush(heap, (seed_cost[i], np.int64(node)))
    while heap:
        d, node = heapq.heappop(heap)
        if done[node] or d > dist[node]:
            continue
        done[node] = True
        if wanted[node]:
            left -= 1
            if left == 0:
                break
        for j in range(indptr[node], indptr[node + 1]):
            nxt = indices[j]
            nd = d + weights[j]
            if nd < dist[nxt] and nd <= limit:
                dist[nxt] = nd
                pred[nxt] = node
                heapq.heappush(heap, (nd, np.int64(nxt)))
    return dist, pred


def search(
    graph: csr_matrix,
    ways_in: Sequence[tuple[int, float]],
    *,
    limit: float = np.inf,
    targets: Sequence[int] | np.ndarray = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds to every node from the best of ``ways_in`` (node, head start), and predecessors.

    Nodes beyond ``limit`` stay ``inf``; with ``targets`` the search may stop once all of them
    are settled (other nodes' times are then upper bounds). A predecessor of ``-9999`` marks a
    way in or a node not reached (scipy's convention).
    """
    nodes = np.array([node for node, _ in ways_in], dtype=np.int64)
    costs = np.array([cost for _, cost in ways_in], dtype=np.float64)
    return _search(
        graph.indptr,
        graph.indices,
        graph.data,
        nodes,
        costs,
        float(limit),
        np.asarray(targets, dtype=np.int64),
    )


@njit(cache=True)
def _unwind(hops: np.ndarray, entry: int, n: int) -> np.ndarray:  # pragma: no cover - compiled
    count, hop = 1, hops[entry]
    while 0 <= hop < n and count <= n:
        count += 1
        hop = hops[hop]
    out = np.empty(count, dtype=np.int64)
    out[0], hop = entry, hops[entry]
    for i in range(1, count):
        out[i] = hop
        hop = hops[hop]
    return out


def unwind(hops: np.ndarray, entry: int) -> np.ndarray:
    """Nodes from ``entry`` following ``hops`` (next node of each) until a hop leaves the graph.

    A hop outside ``0..len(hops)-1`` — a target's virtual node, or scipy's ``-9999`` — ends
    the path.
    """
    return _unwind(hops, entry, len(hops))
