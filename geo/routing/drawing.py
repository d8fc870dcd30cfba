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
def _point_on(
    xy: np.ndarray, off: np.ndarray, along: np.ndarray, edge: int, fraction: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """The point a fraction of an edge's length along it, as a route's piece starts there."""
    lo, hi = off[edge], off[edge + 1]
    return _at(xy, along, lo, hi, fraction * along[hi - 1])


@njit(cache=True)
def _points_on(
    xy: np.ndarray, off: np.ndarray, along: np.ndarray, edges: np.ndarray, fractions: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled
    out = np.empty((len(edges), 2))
    for i in range(len(edges)):
        out[i, 0], out[i, 1] = _point_on(xy, off, along, edges[i], fractions[i])
    return out


def points_on(
    coords: tuple[np.ndarray, np.ndarray, np.ndarray], edges: np.ndarray, fractions: np.ndarray
) -> np.ndarray:
    """Where points snapped to ``edges`` at ``fractions`` lie on the drawn roads (WGS-84).

    ``(n, 2)`` lon/lat, read off the edges' own coordinates as a route drawn from such a point
    begins its first piece (see :func:`stitch`): where a rider met the road and the first
    point of each route drawn from there are one point, not two a few nanometres apart.
    """
    xy, off, along = coords
    run = np.asarray(edges, dtype=np.int64).reshape(-1)
    return _points_on(xy, off, along, run, np.asarray(fractions, dtype=np.float64).reshape(-1))


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
def _size(off: np.ndarray, head: int, edges: np.ndarray, tail: int) -> int:  # pragma: no cover
    """At most how many points a route of these pieces has."""
    size = 2
    for e in (head, tail):
        if e >= 0:
            size += off[e + 1] - off[e] + 2
    for e in edges:
        size += off[e + 1] - off[e]
    return size


@njit(cache=True)
def _stitch_into(
    out: np.ndarray,
    k0: int,
    xy: np.ndarray,
    off: np.ndarray,
    along: np.ndarray,
    start: np.ndarray,
    head: tuple[int, float, float],
    edges: np.ndarray,
    tail: tuple[int, float, float],
    end: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Write a route into ``out`` from row ``k0`` on; returns the row after its last point."""
    out[k0] = start
    k = k0 + 1
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
    # no point twice in a row (1e-11 degrees: a micrometre from the point before it)
    w, px, py = k0 + 1, out[k0, 0], out[k0, 1]
    for i in range(k0 + 1, k):
        x, y = out[i, 0], out[i, 1]
        if not (abs(x - px) <= 1e-11 and abs(y - py) <= 1e-11):
            out[w, 0], out[w, 1] = x, y
            w += 1
        px, py = x, y
    if w - k0 < 2:  # a line has two points, even one that goes nowhere
        out[w, 0], out[w, 1] = px, py
        w += 1
    return w


@njit(cache=True)
def _stitch_many(
    xy: np.ndarray,
    off: np.ndarray,
    along: np.ndarray,
    start: np.ndarray,
    pieces: np.ndarray,
    edges: np.ndarray,
    cut: np.ndarray,
    ends: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n = pieces.shape[0]
    size = 0
    for i in range(n):
        size += _size(off, int(pieces[i, 0]), edges[cut[i] : cut[i + 1]], int(pieces[i, 3]))
    out = np.empty((size, 2))
    bounds = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        head = (int(pieces[i, 0]), pieces[i, 1], pieces[i, 2])
        tail = (int(pieces[i, 3]), pieces[i, 4], pieces[i, 5])
        part = edges[cut[i] : cut[i + 1]]
        bounds[i + 1] = _stitch_into(
            out, bounds[i], xy, off, along, start, head, part, tail, ends[i]
        )
    return out, bounds


def stitch_many(
    coords: tuple[np.ndarray, np.ndarray, np.ndarray],
    start: tuple[float, float],
    pieces: np.ndarray,
    edges: np.ndarray,
    cut: np.ndarray,
    ends: np.ndarray,
) -> list[np.ndarray]:
    """Several routes from one start, drawn in one compiled call (each as :func:`stitch`).

    Parameters
    ----------
    coords, start
        As for :func:`stitch`.
    pieces
        ``(routes, 7)``: each route's head ``(edge, from, to)``, tail ``(edge, from, to)`` and
        length (:func:`geo.routing.lookup.nearest_rows`' rows).
    edges, cut
        Every route's whole edges laid end to end; route ``i``'s are ``cut[i]:cut[i + 1]``.
    ends
        ``(routes, 2)``: each route's last point.
    """
    xy, off, along = coords
    start_xy = np.asarray(start, dtype=np.float64)
    out, bounds = _stitch_many(xy, off, along, start_xy, pieces, edges, cut, ends)
    cuts = bounds.tolist()
    return [out[cuts[i] : cuts[i + 1]] for i in range(len(cuts) - 1)]


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
    pieces = np.array([[*head, *tail, 0.0]], dtype=np.float64)
    run = np.asarray(edges, dtype=np.int64)
    cut = np.array([0, len(run)], dtype=np.int64)
    ends = np.asarray(end, dtype=np.float64).reshape(1, 2)
    return stitch_many(coords, start, pieces, run, cut, ends)[0]
