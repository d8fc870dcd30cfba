"""Route lines: the start, a part of its edge, whole edges, a part of the last edge, the end.

Drawing a route was most of a rider's answer once the lookup took microseconds: a few small
numpy operations per piece, three routes per answer. :func:`stitch` does it in one compiled
pass over the edges' coordinates (kept once per profile as one array, where each edge's run
starts, and each point's distance from its edge's start).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: no piece of an edge at this end of the route
NO_PIECE = (-1, 0.0, 0.0)


@njit(cache=True)
def _at(
    xy: np.ndarray, along: np.ndarray, lo: int, hi: int, d: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    i = lo  # the point d metres from the start of the run lo:hi
    while i < hi - 2 and along[i + 1] <= d:
        i += 1
    span = along[i + 1] - along[i]
    t = (d - along[i]) / span if span > 0 else 0.0
    t = min(max(t, 0.0), 1.0)
    return xy[i, 0] + t * (xy[i + 1, 0] - xy[i, 0]), xy[i, 1] + t * (xy[i + 1, 1] - xy[i, 1])


@njit(cache=True)
def _piece(
    xy: np.ndarray,
    off: np.ndarray,
    along: np.ndarray,
    edge: int,
    frm: float,
    to: float,
    out: np.ndarray,
    k: int,
) -> int:  # pragma: no cover - compiled
    lo, hi = off[edge], off[edge + 1]
    total = along[hi - 1]
    d1, d2 = frm * total, to * total
    out[k, 0], out[k, 1] = _at(xy, along, lo, hi, d1)
    k += 1
    if d1 <= d2:
        for i in range(lo, hi):
            if d1 < along[i] < d2:
                out[k] = xy[i]
                k += 1
    else:
        for i in range(hi - 1, lo - 1, -1):
            if d2 < along[i] < d1:
                out[k] = xy[i]
                k += 1
    out[k, 0], out[k, 1] = _at(xy, along, lo, hi, d2)
    return k + 1


@njit(cache=True)
def _stitch(
    xy: np.ndarray,
    off: np.ndarray,
    along: np.ndarray,
    start: np.ndarray,
    head: tuple[int, float, float],
    edges: np.ndarray,
    tail: tuple[int, float, float],
    end: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    size = 2
    for e in (head[0], tail[0]):
        if e >= 0:
            size += off[e + 1] - off[e] + 2
    for e in edges:
        size += off[e + 1] - off[e]
    out = np.empty((size, 2))
    out[0] = start
    k = 1
    if head[0] >= 0:
        k = _piece(xy, off, along, head[0], head[1], head[2], out, k)
    for e in edges:
        for i in range(off[e], off[e + 1]):
            out[k] = xy[i]
            k += 1
    if tail[0] >= 0:
        k = _piece(xy, off, along, tail[0], tail[1], tail[2], out, k)
    out[k] = end
    k += 1
    keep = np.ones(k, dtype=np.bool_)  # no point twice in a row (1e-11 degrees: a micrometre)
    for i in range(1, k):
        same_x = abs(out[i, 0] - out[i - 1, 0]) <= 1e-11
        keep[i] = not (same_x and abs(out[i, 1] - out[i - 1, 1]) <= 1e-11)
    if keep.sum() < 2:
        keep[k - 1] = True  # a line has two points, even one that goes nowhere
    return out[:k][keep]


def stitch(
    coords: tuple[np.ndarray, np.ndarray, np.ndarray],
    start: tuple[float, float],
    head: tuple[int, float, float],
    edges: np.ndarray,
    tail: tuple[int, float, float],
    end: tuple[float, float],
) -> np.ndarray:
    """A route's coordinates (WGS-84), interpolated along edges by metres.

    Parameters
    ----------
    coords
        Every edge's coordinates in one array, where each edge's run starts (one more than
        edges) and each point's distance (m) from its edge's start.
    start, end
        The route's first and last points.
    head, tail
        ``(edge, from, to)``: the part of an edge between two fractions of its length
        (reversed when ``from > to``) after the start and before the end; :data:`NO_PIECE`
        for none.
    edges
        Whole edges in between, in order.
    """
    xy, off, along = coords
    return _stitch(
        xy,
        off,
        along,
        np.asarray(start, dtype=np.float64),
        (int(head[0]), float(head[1]), float(head[2])),
        np.asarray(edges, dtype=np.int64),
        (int(tail[0]), float(tail[1]), float(tail[2])),
        np.asarray(end, dtype=np.float64),
    )
