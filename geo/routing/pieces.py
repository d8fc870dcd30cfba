"""What a route is made of — part of the start's edge, whole edges, part of the end's edge.

Compiled, so that the rider's one-call lookup (:mod:`geo.routing.lookup`) and the engine's
other routes (:meth:`geo.routing.compiled.ProfileGraph.path_pieces`) share one account of
a route: which edges, which parts of the first and last, and how long it is. A piece is
``(edge, from, to)``, fractions of the edge's length (reversed when ``from > to``); edge
``-1`` is no piece. Routes over nodes find their edges between consecutive nodes in the
profile's sorted pair keys (:class:`~geo.routing.compiled.PairEdges`); routes over edge
states (turn costs, :mod:`geo.routing.turns`) are their edges already.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: a piece's edge and its two fractions
Piece = tuple[int, float, float]


@njit(cache=True)
def node_path_pieces(
    nodes: np.ndarray,
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
    """Pieces and length (m) of a route from ``(se, sf)`` through ``nodes`` to ``(ee, ef)``.

    Raises KeyError when two consecutive nodes have no usable edge between them.
    """
    if v[se] == nodes[0] and usable[se]:
        head = (se, sf, 1.0)
        total = (1 - sf) * length[se]
    else:
        head = (se, sf, 0.0)
        total = sf * length[se]
    edges = np.empty(len(nodes) - 1, dtype=np.int64)
    for i in range(len(edges)):
        want = nodes[i] * n + nodes[i + 1]
        at = np.searchsorted(keys, want)
        if at >= len(keys) or keys[at] != want:
            raise KeyError("no usable edge between consecutive nodes of the path")
        edges[i] = pair_edges[at]
    total += length[edges].sum()
    if u[ee] == nodes[-1] and usable[ee]:
        tail = (ee, 0.0, ef)
        total += ef * length[ee]
    else:
        tail = (ee, 1.0, ef)
        total += (1 - ef) * length[ee]
    return head, edges, tail, total


@njit(cache=True)
def state_path_pieces(
    states: np.ndarray,
    se: int,
    sf: float,
    start_node: int,
    ee: int,
    ef: float,
    u: np.ndarray,
    v: np.ndarray,
    usable: np.ndarray,
    length: np.ndarray,
) -> tuple[Piece, np.ndarray, Piece, float]:  # pragma: no cover - compiled
    """Pieces and length (m) of a route from ``(se, sf)`` through edge ``states`` to ``(ee, ef)``.

    ``start_node`` is the node a start on a node stands on (-1 part-way along an edge).
    """
    head = (-1, 0.0, 0.0)
    total = 0.0
    first = 0
    if 0.0 < sf < 1.0:  # the first state is the rest of the start's edge, or its twin
        ahead = states[0] == se and usable[se]
        head = (se, sf, 1.0 if ahead else 0.0)
        total = ((1 - sf) if ahead else sf) * length[se]
        first = 1
    elif v[states[0]] == start_node:
        first = 1  # standing on the node it arrives at: nothing travelled yet
    edges = states[first:].copy()
    total += length[edges].sum()
    tail = (-1, 0.0, 0.0)
    if 0.0 < ef < 1.0:
        along = v[states[-1]] == u[ee] and usable[ee]  # where the last state arrived
        tail = (ee, 0.0 if along else 1.0, ef)
        total += (ef if along else 1 - ef) * length[ee]
    return head, edges, tail, total


@njit(cache=True)
def direct_pieces(
    se: int, sf: float, ee: int, ef: float, length: np.ndarray
) -> tuple[Piece, np.ndarray, Piece, float]:  # pragma: no cover - compiled
    """Pieces and length (m) of a route that stays on the edge (or its twin) both ends share."""
    fb = ef if ee == se else 1.0 - ef
    return (se, sf, fb), np.empty(0, dtype=np.int64), (-1, 0.0, 0.0), abs(fb - sf) * length[se]
