"""A rider's nearest stations in one compiled call: snap, ways in, times, filters, the best k.

The engine once answered in Python stage by stage — snap (compiled), the ways into the road
graph, one numpy row per way, the stations on the rider's own edge, the filter mask, a sort —
and the stages' glue cost more than their work (some 60 µs of a 180 µs answer on the sample).
:func:`nearest_rows` does all of it in one numba call over the arrays the engine already
holds: the segment grid (:mod:`geo.routing.snapping`), the profile's edges and, for a profile
that pays for turns, its edge states (:mod:`geo.routing.turns`), and a dense station field
(``dist[node, station]``, :mod:`geo.routing.station_fields`). It answers exactly as the
stage-by-stage path does — the same snap, the same times to the last bit, ties to the lower
station id — which ``tests/routing/test_lookup.py`` checks rider by rider. When asked, the
same call draws the routes (:mod:`geo.routing.drawing`) from where the rider met the road.

What a call costs beyond its work is mostly its arguments and results: numba unboxes each
array passed (~90 ns) and boxes each array returned (~450 ns). The 33 arrays the kernel reads
travel as one struct (:class:`LookupArrays`, gathered once per field), and its results come
back in two arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from geo.routing.compiled import NODE_TOLERANCE_M, Snap
from geo.routing.drawing import _point_on, _stitch_many
from geo.routing.lookup_arrays import LookupArrays
from geo.routing.pieces import direct_pieces, path_pieces
from geo.routing.profile_graph import RouteBatch
from geo.routing.search import _unwind
from geo.routing.snapping import _nearest


@njit(cache=True)
def _ways_in(
    e: int,
    f: float,
    u: np.ndarray,
    v: np.ndarray,
    tt: np.ndarray,
    twin: np.ndarray,
    usable: np.ndarray,
    turns: bool,
    in_ptr: np.ndarray,
    in_edges: np.ndarray,
    out_ptr: np.ndarray,
    out_edges: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The search nodes a snapped point enters first and the time to each (``entries``)."""
    at_node = f <= 0.0 or f >= 1.0
    node = u[e] if f <= 0.0 else v[e]
    t = twin[e]
    if turns and at_node:  # arrived by any edge (0 s) or leaving by any (its time)
        a, b = in_ptr[node], in_ptr[node + 1]
        c, d = out_ptr[node], out_ptr[node + 1]
        nodes = np.empty(b - a + d - c, dtype=np.int64)
        costs = np.empty(b - a + d - c)
        for i in range(b - a):
            nodes[i], costs[i] = in_edges[a + i], 0.0
        for i in range(d - c):
            x = out_edges[c + i]
            nodes[b - a + i], costs[b - a + i] = x, tt[x]
        return nodes, costs
    nodes = np.empty(3, dtype=np.int64)
    costs = np.empty(3)
    n = 0
    if not turns and at_node:
        nodes[0], costs[0] = node, 0.0
        n = 1
    if usable[e]:
        nodes[n], costs[n] = (e if turns else v[e]), (1.0 - f) * tt[e]
        n += 1
    if t >= 0:
        nodes[n], costs[n] = (t if turns else u[e]), f * tt[t]
        n += 1
    return nodes[:n], costs[:n]


@njit(cache=True)
def _same_edge_time(
    ea: int, fa: float, eb: int, fb: float, tt: np.ndarray, twin: np.ndarray, usable: np.ndarray
) -> float:  # pragma: no cover - compiled
    """Time from ``a`` to ``b`` along their shared edge without leaving it (``same_edge_time``)."""
    if ea != eb:
        if twin[ea] != eb:
            return np.inf
        fb = 1.0 - fb
    if fb >= fa:
        return (fb - fa) * tt[ea] if usable[ea] else np.inf
    t = twin[ea]
    return (fa - fb) * tt[t] if t >= 0 else np.inf


@njit(cache=True)
def _nearest_rows(
    p: Any, eligible: np.ndarray, px: float, py: float, max_d: float, k: int, draw: bool
) -> tuple[
    int,
    float,
    float,
    float,
    float,
    float,
    float,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]:  # pragma: no cover - compiled
    """The snap (edge, fraction, distance, x, y, lon, lat), the best rows, their times and routes.

    Each route is a row of ``pieces`` (head edge, from, to; tail edge, from, to; length), the
    edges ``edges[cut[i]:cut[i + 1]]`` and its last point (the station's, ``st_lonlat``); with
    ``draw``, route ``i`` is drawn as ``lines[bounds[i]:bounds[i + 1]]`` (WGS-84).
    """
    grid, snap_usable, edge_length, node_xy = p.grid, p.snap_usable, p.edge_length, p.node_xy
    u, v, tt, twin, usable, length = p.u, p.v, p.tt, p.twin, p.usable, p.length
    keys, pair_edges, turns = p.keys, p.pair_edges, p.turns
    in_ptr, in_edges, out_ptr, out_edges = p.in_ptr, p.in_edges, p.out_ptr, p.out_edges
    draw_xy, draw_off, draw_along = p.draw_xy, p.draw_off, p.draw_along
    dist, next_hop, st_edge, st_frac, st_lonlat, ids = (
        p.dist, p.next_hop, p.st_edge, p.st_frac, p.st_lonlat, p.ids
    )  # fmt: skip
    empty_i = np.empty(0, dtype=np.int64)
    empty_2 = np.empty((0, 2))
    edge, d, along, qx, qy = _nearest(px, py, max_d, grid, snap_usable)
    if edge < 0:
        return (
            edge, 0.0, d, 0.0, 0.0, 0.0, 0.0, empty_i, np.empty(0), np.empty((0, 7)), empty_i,
            empty_i, empty_2, empty_2, empty_i,
        )  # fmt: skip
    total = edge_length[edge]
    if total == 0.0:
        total = 1.0
    if along < NODE_TOLERANCE_M or total - along < NODE_TOLERANCE_M:  # at the node
        along = 0.0 if along < NODE_TOLERANCE_M else total
        node = u[edge] if along == 0.0 else v[edge]
        qx, qy = node_xy[node, 0], node_xy[node, 1]
    f = min(max(along / total, 0.0), 1.0)
    nodes, costs = _ways_in(
        edge, f, u, v, tt, twin, usable, turns, in_ptr, in_edges, out_ptr, out_edges
    )
    n_st = dist.shape[1]
    times = np.full(n_st, np.inf)
    entry = np.full(n_st, -2, dtype=np.int64)
    for w in range(len(nodes)):
        row, cost = nodes[w], costs[w]
        for s in range(n_st):
            t = cost + dist[row, s]
            if t < times[s]:
                times[s], entry[s] = t, row
    tw = twin[edge]
    for s in range(n_st):  # stations on the rider's own edge: maybe straight along it
        if st_edge[s] == edge or (tw >= 0 and st_edge[s] == tw):
            direct = _same_edge_time(edge, f, st_edge[s], st_frac[s], tt, twin, usable)
            if direct <= times[s]:
                times[s], entry[s] = direct, -1
    best = np.empty(k, dtype=np.int64)  # the k best rows, by time then station id
    count = 0
    for s in range(n_st):
        t = times[s]
        if not eligible[s] or not math.isfinite(t):
            continue
        i = count
        while i > 0 and (
            t < times[best[i - 1]] or (t == times[best[i - 1]] and ids[s] < ids[best[i - 1]])
        ):
            if i < k:
                best[i] = best[i - 1]
            i -= 1
        if i < k:
            best[i] = s
            count = min(count + 1, k)
    rows = best[:count].copy()
    # each route's pieces: edge, from, to of the head and the tail, and the length
    pieces = np.empty((count, 7))
    paths = [empty_i] * count
    n_search = next_hop.shape[1]
    for i in range(count):
        r = rows[i]
        if entry[r] == -1:
            head, way, tail, total = direct_pieces(edge, f, st_edge[r], st_frac[r], length)
        else:
            head, way, tail, total = path_pieces(
                _unwind(next_hop[r], entry[r], n_search), turns, keys, pair_edges, n_search,
                edge, f, st_edge[r], st_frac[r], u, v, usable, length,
            )  # fmt: skip
        pieces[i, 0], pieces[i, 1], pieces[i, 2] = head[0], head[1], head[2]
        pieces[i, 3], pieces[i, 4], pieces[i, 5], pieces[i, 6] = tail[0], tail[1], tail[2], total
        paths[i] = way
    cut = np.zeros(count + 1, dtype=np.int64)
    for i in range(count):
        cut[i + 1] = cut[i] + len(paths[i])
    edges = np.empty(cut[count], dtype=np.int64)
    for i in range(count):
        edges[cut[i] : cut[i + 1]] = paths[i]
    ends = np.empty((count, 2))
    for i in range(count):
        ends[i, 0], ends[i, 1] = st_lonlat[rows[i], 0], st_lonlat[rows[i], 1]
    start = np.empty(2)
    start[0], start[1] = _point_on(draw_xy, draw_off, draw_along, edge, f)
    lines, bounds = empty_2, empty_i
    if draw:
        lines, bounds = _stitch_many(draw_xy, draw_off, draw_along, start, pieces, edges, cut, ends)
    return (
        edge, f, d, qx, qy, start[0], start[1], rows, times[rows], pieces, edges, cut, ends,
        lines, bounds,
    )  # fmt: skip


@njit(cache=True)
def _nearest_rows_packed(
    p: Any, eligible: np.ndarray, px: float, py: float, max_d: float, k: int, draw: bool
) -> tuple[int, float, float, float, float, float, float, int, np.ndarray, np.ndarray]:
    """:func:`_nearest_rows`, its arrays handed back in two (boxing each costs ~0.45 µs).

    ``ints`` holds the ``c`` rows, the cuts (``c + 1``), the lines' bounds (``c + 1``) and the
    edges; ``floats`` the times (``c``), the pieces (``7c``), the ends (``2c``) and the lines'
    points (two values each).
    """
    edge, f, d, qx, qy, lon, lat, rows, times, pieces, edges, cut, ends, lines, bounds = (
        _nearest_rows(p, eligible, px, py, max_d, k, draw)
    )
    c = len(rows)
    ints = np.zeros(3 * c + 2 + len(edges), dtype=np.int64)
    ints[:c] = rows
    if len(cut):
        ints[c : 2 * c + 1] = cut
    if len(bounds):
        ints[2 * c + 1 : 3 * c + 2] = bounds
    ints[3 * c + 2 :] = edges
    floats = np.empty(10 * c + 2 * len(lines))
    floats[:c] = times
    floats[c : 8 * c] = pieces.ravel()
    floats[8 * c : 10 * c] = ends.ravel()
    floats[10 * c :] = lines.ravel()
    return edge, f, d, qx, qy, lon, lat, c, ints, floats


@dataclass(slots=True)
class Rows:
    """Where a rider met the road and the best stations: field rows, times, routes.

    ``snap`` is None when no usable road lies within reach; ``start`` is where it met the road
    in WGS-84 and ``lines`` the routes drawn from there, when asked. (Made for every rider's
    answer: slots, see :mod:`geo.routing.answers`.)
    """

    snap: Snap | None
    start: tuple[float, float]
    rows: list[int]
    times: list[float]
    routes: RouteBatch
    lines: list[np.ndarray] | None


def nearest_rows(
    arrays: LookupArrays,
    x: float,
    y: float,
    *,
    eligible: np.ndarray,
    max_distance_m: float,
    k: int,
    draw: bool,
) -> Rows:
    """Snap a metric point and find the ``k`` eligible stations reached first.

    Parameters
    ----------
    arrays
        The graph's and the field's arrays (:func:`lookup_arrays`).
    x, y
        The rider's point (the graph's metric CRS).
    eligible
        Which stations (field rows) the rider may be sent to.
    max_distance_m
        No road farther than this counts.
    k
        How many stations at most.
    draw
        Whether to draw the routes too (in the same call).
    """
    kernel: Callable[..., tuple[Any, ...]] = _nearest_rows_packed
    edge, f, d, qx, qy, lon, lat, c, ints, floats = kernel(
        arrays, eligible, x, y, max_distance_m, k, draw
    )
    snap = Snap(edge, f, d, (qx, qy)) if edge >= 0 else None
    head = ints[: 3 * c + 2].tolist()
    rows, bounds = head[:c], head[2 * c + 1 :]
    parts, ends = floats[c : 8 * c].reshape(c, 7), floats[8 * c : 10 * c].reshape(c, 2)
    routes = RouteBatch(parts, ints[3 * c + 2 :], ints[c : 2 * c + 1], ends)
    lines = None
    if draw:
        out = floats[10 * c :].reshape(-1, 2)
        lines = [out[bounds[i] : bounds[i + 1]] for i in range(c)]
    return Rows(snap, (lon, lat), rows, floats[:c].tolist(), routes, lines)
