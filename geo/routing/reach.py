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

from geo.routing.compiled import CompiledGraph, ProfileGraph

#: at most about this many grid cells in one reachable area (60-minute drives over a city)
MAX_ISOCHRONE_CELLS = 60_000


@dataclass(frozen=True)
class RoadPoints:
    """Points every ``step`` metres along the graph's edges, grouped by edge.

    Made once per graph and step and shared by every profile: a profile's edges are the
    graph's (``pg.base``), some of them also walked backwards (virtual reverse copies), and
    its seconds per point are its own pace times the metres along.

    Attributes
    ----------
    step
        Spacing of the points (m).
    xy
        ``(P, 2)`` metric coordinates.
    offset
        ``offset[e]:offset[e + 1]`` are graph edge ``e``'s points, from its start.
    along
        Metres from the edge's start (along its geometry) to each point.
    total
        Each edge's geometric length (the ``along`` of its last point).
    """

    step: float
    xy: np.ndarray
    offset: np.ndarray
    along: np.ndarray
    total: np.ndarray

    @classmethod
    def of_graph(
        cls, graph: CompiledGraph, step: float, edges: np.ndarray | None = None
    ) -> RoadPoints:
        """Densify ``edges`` of the graph (default: all) every ``step`` metres."""
        m = len(graph.u)
        edges = np.arange(m) if edges is None else edges
        xy, line = shapely.get_coordinates(
            shapely.segmentize(graph.geoms[edges], step), return_index=True
        )
        seg = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)] if len(xy) else np.empty(0)
        first = np.r_[True, line[1:] != line[:-1]] if len(xy) else np.empty(0, dtype=bool)
        seg[first] = 0.0
        along = np.cumsum(seg)
        along -= np.repeat(along[first], np.diff(np.r_[np.flatnonzero(first), len(along)]))
        counts = np.zeros(m, dtype=np.int64)
        np.add.at(counts, edges[line], 1)
        total = np.zeros(m)
        np.maximum.at(total, edges[line], along)
        order = np.argsort(edges[line], kind="stable")  # by edge index, points in order
        return cls(step, xy[order], np.r_[0, np.cumsum(counts)], along[order], total)

    def reached(
        self, pg: ProfileGraph, times: np.ndarray, budget: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points reached within ``budget`` seconds for profile ``pg``, and when each is."""
        at_start = pg.start_times(times)
        start = np.flatnonzero(pg.usable & (at_start < budget))
        base = pg.base[start]
        counts = self.offset[base + 1] - self.offset[base]
        total = int(counts.sum())
        if total == 0:
            return np.empty((0, 2)), np.empty(0)
        first = np.repeat(self.offset[base] - np.r_[0, np.cumsum(counts)[:-1]], counts)
        idx = first + np.arange(total)
        metres = self.along[idx]
        backwards = np.repeat(start >= len(self.total), counts)  # a one-way's reverse copy
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
        road = kept.get(cell / 2) or kept.setdefault(
            cell / 2, RoadPoints.of_graph(pg.graph, cell / 2)
        )
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
