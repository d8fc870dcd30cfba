"""Isochrone shapes: the reachable road, as points along it, drawn as merged grid squares.

A search gives the time to every node; the area reached within ``T`` is the road reached —
whole edges whose far end is in time, and the reached share of the edges at the rim. The road
is kept as points every ``step`` metres (:class:`RoadPoints`, made once per graph and step
and reused by every profile and query), each with the metres from its edge's start; a contour
is then one gather and one comparison: ``time[start node] + metres x pace <= T``. The cells holding
those points (and their neighbours) are outlined by marching squares, so the polygon follows
the roads — no spikes across rivers — at a fraction of the cost of buffering lines.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, cast

import contourpy
import numpy as np
import shapely
from contourpy import FillType

from geo.routing.compiled import CompiledGraph, line_runs, places_in_runs
from geo.routing.kept import set_name
from geo.routing.profile_graph import ProfileGraph

#: at most about this many grid cells in one reachable area (60-minute drives over a city)
MAX_ISOCHRONE_CELLS = 60_000
#: how far around the reached road an isochrone's area reaches, as usual (m)
ISOCHRONE_BUFFER_M = 80.0


def twin_edges(graph: CompiledGraph) -> np.ndarray:
    """For each edge the same road drawn the other way (``v -> u``, its line reversed), or -1.

    A two-way street is two edges of one line; their points are the same, so they are made
    once (:class:`RoadPoints`).
    """
    m = len(graph.u)
    twin = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return twin
    n = np.int64(graph.n_nodes)
    # the node pair and the length in millimetres (a parallel road is told apart by its line)
    length = np.round(graph.length * 1000).astype(np.int64) % (1 << 12)
    key = (graph.u.astype(np.int64) * n + graph.v) * (1 << 12) + length
    back = (graph.v.astype(np.int64) * n + graph.u) * (1 << 12) + length
    order = np.argsort(key, kind="stable")
    at = np.searchsorted(key[order], back)
    found = at < m
    cand = np.where(found, order[np.minimum(at, m - 1)], -1)
    found &= key[np.maximum(cand, 0)] == back
    idx = np.flatnonzero(found)
    same = _reversed_lines(graph.line_xy, graph.line_index, idx, cand[idx])
    twin[idx[same]] = cand[idx[same]]
    twin[twin == np.arange(m)] = -1  # a loop is not its own twin
    return twin


def _reversed_lines(xy: np.ndarray, index: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each line ``a`` is line ``b`` backwards, point by point within a micrometre."""
    start_a, count = line_runs(index, a)
    start_b, count_b = line_runs(index, b)
    k = places_in_runs(count)
    pair = np.repeat(np.arange(len(a)), count)
    near = np.zeros(len(k), dtype=bool)
    fits = (count == count_b)[pair]
    pa = (start_a[pair] + k)[fits]
    pb = (start_b[pair] + count_b[pair] - 1 - k)[fits]
    d = xy[pa] - xy[pb]
    near[fits] = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) <= 1e-6
    far = np.bincount(pair[~near], minlength=len(a))
    return (count == count_b) & (far == 0)


def densified(
    xy: np.ndarray, index: np.ndarray, edges: np.ndarray, step: float
) -> tuple[np.ndarray, np.ndarray]:
    """The lines of ``edges`` with points added so that none is more than ``step`` m apart.

    From every edge's coordinates (``xy``; ``index``: each one's edge, in edge order). Each
    segment longer than ``step`` is cut into ``ceil(length / step)`` equal pieces and a
    point repeated in a row is kept once — GEOS's densifier (``shapely.segmentize``) to the
    last bit, without making the lines. Returns the points and the position in ``edges`` of
    the line each belongs to.
    """
    starts, runs = line_runs(index, edges)
    line = np.repeat(np.arange(len(edges)), runs)
    pts = xy[np.repeat(starts, runs) + places_in_runs(runs)]
    last = np.r_[line[1:] != line[:-1], True]  # a line's last point begins no segment
    p0, p1, seg_line = pts[:-1][~last[:-1]], pts[1:][~last[:-1]], line[~last]
    d = p1 - p0
    length = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
    pieces = np.where(length > step, np.ceil(length / step), 1.0).astype(np.int64)
    seg_of = np.repeat(np.arange(len(p0)), pieces)
    j = places_in_runs(pieces)
    frac = (j * (length / pieces)[seg_of]) / np.where(length > 0, length, 1.0)[seg_of]
    made = p0[seg_of] + frac[:, None] * d[seg_of]  # as GEOS: p0 + fraction x (p1 - p0)
    made[j == 0] = p0[seg_of[j == 0]]
    out = np.empty((len(seg_of) + len(edges), 2))
    out_line = np.empty(len(out), dtype=np.int64)
    piece_line = seg_line[seg_of]
    at = np.arange(len(seg_of)) + piece_line  # each line's pieces, then its last point
    out[at], out_line[at] = made, piece_line
    ends = np.cumsum(np.bincount(piece_line, minlength=len(edges))) + np.arange(len(edges))
    out[ends], out_line[ends] = pts[last], np.arange(len(edges))
    keep = np.r_[True, (out_line[1:] != out_line[:-1]) | (out[1:] != out[:-1]).any(axis=1)]
    return out[keep], out_line[keep]


@dataclass(frozen=True)
class RoadPoints:
    """Points every ``step`` metres along the graph's edges, grouped by edge.

    Made once per graph and step and shared by every profile: a profile's edges are the
    graph's (``pg.base``), some of them also walked backwards (virtual reverse copies), and
    its seconds per point are its own pace times the metres along. The two edges of a two-way
    street share one set of points (the later one reads the earlier one's backwards): half
    the memory on a city's roads.

    Attributes
    ----------
    step
        Spacing of the points (m).
    xy
        ``(P, 2)`` metric coordinates.
    along
        Metres from the start of the edge the points were made for to each point.
    first, count
        Edge ``e``'s points are ``first[e]:first[e] + count[e]``.
    flipped
        Whether edge ``e`` reads its points from the other end (they were made for its twin).
    total
        Each edge's geometric length (the ``along`` of its last point).
    """

    step: float
    xy: np.ndarray
    along: np.ndarray
    first: np.ndarray
    count: np.ndarray
    flipped: np.ndarray
    total: np.ndarray

    @classmethod
    def of_graph(
        cls, graph: CompiledGraph, step: float, edges: np.ndarray | None = None
    ) -> RoadPoints:
        """Densify ``edges`` of the graph (default: all) every ``step`` metres."""
        m = len(graph.u)
        edges = np.arange(m) if edges is None else np.asarray(edges, dtype=np.int64)
        twin = twin_edges(graph)
        wanted = np.zeros(m, dtype=bool)
        wanted[edges] = True
        # an edge whose twin (a lower number) is made too reads the twin's points
        shares = wanted & (twin >= 0) & (twin < np.arange(m)) & wanted[np.maximum(twin, 0)]
        shares &= ~shares[np.maximum(twin, 0)]  # only from a twin that makes its own
        made = np.flatnonzero(wanted & ~shares)
        xy, line = densified(graph.line_xy, graph.line_index, made, step)
        seg = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)] if len(xy) else np.empty(0)
        start = np.r_[True, line[1:] != line[:-1]] if len(xy) else np.empty(0, dtype=bool)
        seg[start] = 0.0
        along = np.cumsum(seg)
        along -= np.repeat(along[start], np.diff(np.r_[np.flatnonzero(start), len(along)]))
        count = np.zeros(m, dtype=np.int64)
        np.add.at(count, made[line], 1)
        total = np.zeros(m)
        np.maximum.at(total, made[line], along)
        first = np.zeros(m, dtype=np.int64)  # points come out edge by edge, in ``made`` order
        first[made] = np.r_[0, np.cumsum(count[made])[:-1]] if len(made) else 0
        sharing = np.flatnonzero(shares)
        source = twin[sharing]
        first[sharing], count[sharing], total[sharing] = first[source], count[source], total[source]
        return cls(step, xy, along, first, count, shares, total)

    @classmethod
    def whole(cls, graph: CompiledGraph, step: float) -> RoadPoints:
        """All the graph's road every ``step`` metres: kept beside a cached graph, else made."""
        names = ("xy", "along", "first", "count", "flipped", "total")

        def make() -> dict[str, np.ndarray]:
            made = cls.of_graph(graph, step)
            return {name: getattr(made, name) for name in names}

        arrays = graph.kept(set_name("road-points", step), make)
        return cls(step, *(arrays[name] for name in names))

    def points_of(self, edge: int) -> np.ndarray:
        """Graph edge ``edge``'s points (metric), from its start to its end."""
        pts = self.xy[self.first[edge] : self.first[edge] + self.count[edge]]
        return pts[::-1] if self.flipped[edge] else pts

    def reached(
        self, pg: ProfileGraph, times: np.ndarray, budget: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points reached within ``budget`` seconds for profile ``pg``, and when each is."""
        at_start = pg.start_times(times)
        start = np.flatnonzero(pg.usable & (at_start < budget))
        base = pg.base[start]
        counts = self.count[base]
        total = int(counts.sum())
        if total == 0:
            return np.empty((0, 2)), np.empty(0)
        skip = np.repeat(self.first[base] - np.r_[0, np.cumsum(counts)[:-1]], counts)
        idx = skip + np.arange(total)
        metres = self.along[idx]
        # a one-way's reverse copy, or an edge reading its twin's points: from the other end
        backwards = np.repeat((start >= len(self.total)) ^ self.flipped[base], counts)
        metres = np.where(backwards, np.repeat(self.total[base], counts) - metres, metres)
        length = pg.length[start]
        pace = np.divide(pg.tt[start], length, out=np.zeros(len(start)), where=length > 0)
        when = np.repeat(at_start[start], counts) + metres * np.repeat(pace, counts)
        keep = when <= budget + 1e-9
        return self.xy[idx[keep]], when[keep]


def contour_areas(
    pg: ProfileGraph,
    times: np.ndarray,
    here: np.ndarray,
    seconds: list[float],
    *,
    buffer_m: float,
    kept: dict[float, RoadPoints],
) -> list[Any]:
    """Metric polygons reached within each of ``seconds`` (ascending) from ``here``.

    ``kept`` holds the graph's whole road densified at ``buffer_m / 2`` once made (it is
    made here at the first isochrone of the usual size, then reused by every profile); for a
    reach so large that the grid must be coarser, only the reached edges are densified, for
    this query.
    The earliest arrival in each grid cell, spread to its neighbours, is one raster for every
    contour; each contour is the raster's cells in time, outlined by marching squares
    (contourpy, matplotlib's contouring engine).
    """
    limit = max(seconds)
    span = np.ptp(np.vstack([pg.search_xy[times < limit], here]), axis=0)
    cell = max(buffer_m, float(np.sqrt(span[0] * span[1] / MAX_ISOCHRONE_CELLS)))
    if cell == buffer_m:
        road = kept.get(cell / 2) or kept.setdefault(cell / 2, RoadPoints.whole(pg.graph, cell / 2))
    else:
        reached_edges = np.flatnonzero(pg.usable & (pg.start_times(times) < limit))
        road = RoadPoints.of_graph(pg.graph, cell / 2, np.unique(pg.base[reached_edges]))
    points, when = road.reached(pg, times, limit)
    points, when = np.vstack([points, here]), np.r_[when, 0.0]
    corner = points.min(axis=0) - 2 * cell  # two empty cells around: every outline closes
    ij = np.floor((points - corner) / cell).astype(np.int64)
    shape = (int(ij[:, 0].max()) + 3, int(ij[:, 1].max()) + 3)
    first = np.full(shape, np.inf)
    np.minimum.at(first, (ij[:, 0], ij[:, 1]), when)
    near = first.copy()  # each cell's neighbours count as reached too (the road's buffer)
    for di, dj in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
        src = first[max(di, 0) : shape[0] + min(di, 0), max(dj, 0) : shape[1] + min(dj, 0)]
        dst = near[max(-di, 0) : shape[0] + min(-di, 0), max(-dj, 0) : shape[1] + min(-dj, 0)]
        np.minimum(dst, src, out=dst)
    xs = corner[0] + (np.arange(shape[0]) + 0.5) * cell
    ys = corner[1] + (np.arange(shape[1]) + 0.5) * cell
    out = []
    for s in seconds:
        inside = (near <= s + 1e-9).astype(np.float64).T
        gen = contourpy.contour_generator(xs, ys, inside, fill_type=FillType.OuterOffset)
        polygons, offsets = cast(tuple[list[np.ndarray], list[np.ndarray]], gen.filled(0.5, 1.5))
        shapes = [
            shapely.Polygon(pts[o[0] : o[1]], [pts[a:b] for a, b in itertools.pairwise(o[1:])])
            for pts, o in zip(polygons, offsets, strict=True)
        ]
        out.append(shapely.union_all(shapes).simplify(cell / 4) if shapes else shapely.Polygon())
    return out


def in_wgs84(graph: CompiledGraph, areas: list[Any]) -> list[Any]:
    """Areas in the graph's metric system as WGS-84 geometries."""
    return [
        shapely.transform(
            geom, lambda xy: np.column_stack(graph.to_wgs84.transform(xy[:, 0], xy[:, 1]))
        )
        for geom in areas
    ]
