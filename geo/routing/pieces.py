"""What a route is made of — part of the start's edge, whole edges, part of the end's edge.

Compiled, so that the rider's one-call lookup (:mod:`geo.routing.lookup`) and the engine's
other routes (:meth:`geo.routing.profile_graph.ProfileGraph.path_pieces`) share one account of
a route: which edges, which parts of the first and last, and how long it is. A piece is
``(edge, from, to)``, fractions of the edge's length (reversed when ``from > to``); edge
``-1`` is no piece. A route over nodes finds its edges between consecutive nodes in the
profile's sorted pair keys (:class:`~geo.routing.compiled.PairEdges`); a route over edge
states (turn costs, :mod:`geo.routing.turns`) is its edges already.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: a piece's edge and its two fractions
Piece = tuple[int, float, float]


@njit(cache=True)
def path_pieces(
    path: np.ndarray,
    states: bool,
    keys: np.ndarray,
    pair_edges: np.ndarray,
    n: int,
    se: int,
    sf: float,
    ee: int,
    ef: float,
    u: np.ndarray,
    v: np.ndarray,
    usable: np.ndarray,
    length: np.ndarray,
) -> tuple[Piece, np.ndarray, Piece, float]:  # pragma: no cover - compiled
    """Pieces and length (m) of a route from ``(se, sf)`` along ``path`` to ``(ee, ef)``.

    ``path`` holds edge ``states`` (a search with turn costs), or nodes whose edges are found
    by their pair's key ``u * n + v`` in ``keys`` and ``pair_edges`` (KeyError when two
    consecutive nodes have no usable edge between them).
    """
    head = (se, sf, 0.0)
    total = 0.0
    if states:
        first = 0
        if 0.0 < sf < 1.0:  # the first state is the rest of the start's edge, or its twin
            ahead = path[0] == se and usable[se]
            head = (se, sf, 1.0 if ahead else 0.0)
            total = ((1 - sf) if ahead else sf) * length[se]
            first = 1
        else:
            head = (-1, 0.0, 0.0)
            if v[path[0]] == (u[se] if sf <= 0.0 else v[se]):
                first = 1  # standing on the node it arrives at: nothing travelled yet
        edges = path[first:].copy()
        last = v[path[-1]]  # where the last state arrived, before the turn in
    else:
        if v[se] == path[0] and usable[se]:
            head = (se, sf, 1.0)
            total = (1 - sf) * length[se]
        else:
            total = sf * length[se]
        edges = np.empty(len(path) - 1, dtype=np.int64)
        for i in range(len(edges)):
            want = path[i] * n + path[i + 1]
            at = np.searchsorted(keys, want)
            if at >= len(keys) or keys[at] != want:
                raise KeyError("no usable edge between consecutive nodes of the path")
            edges[i] = pair_edges[at]
        last = path[-1]
    total += length[edges].sum()
    tail = (-1, 0.0, 0.0)
    if states and not 0.0 < ef < 1.0:
        pass  # ends on a node: the last state arrived there
    elif last == u[ee] and usable[ee]:
        tail = (ee, 0.0, ef)
        total += ef * length[ee]
    else:
        tail = (ee, 1.0, ef)
        total += (1 - ef) * length[ee]
    return head, edges, tail, total


@njit(cache=True)
def direct_pieces(
    se: int, sf: float, ee: int, ef: float, length: np.ndarray
) -> tuple[Piece, np.ndarray, Piece, float]:  # pragma: no cover - compiled
    """Pieces and length (m) of a route that stays on the edge (or its twin) both ends share."""
    fb = ef if ee == se else 1.0 - ef
    return (se, sf, fb), np.empty(0, dtype=np.int64), (-1, 0.0, 0.0), abs(fb - sf) * length[se]
