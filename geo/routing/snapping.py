"""Placing points on the nearest road: a grid of the roads' segments, searched compiled.

Snapping was a third of a rider's answer (shapely's STRtree, ~28 µs) and each profile kept an
R-tree of its own (~38 MB on the sample). :class:`SegmentGrid` holds every edge's straight
segments once per graph (metric coordinates, ~25 MB on the sample), bucketed in square cells;
a query (numba) looks at the cells in rings around the point until no nearer segment can lie
further out, keeping to the edges a profile may use (its ``usable`` mask). It answers as the
R-tree did: the nearest usable edge, ties to the lowest edge number, the distance along the
edge to the nearest point, and nothing beyond the distance asked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit

#: distances within this (m) are ties, settled by the lower edge number (as the R-tree did)
TIE_M = 1e-9
#: the grid as the compiled search takes it: segments (x0, y0, x1, y1), each one's edge and
#: metres along it where it starts, cell starts and cells' segments, the origin, the cells'
#: side and how many cells across and up
GridArrays = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float, float, int, int
]


@njit(cache=True)
def _segment_distance(
    px: float, py: float, x0: float, y0: float, x1: float, y1: float
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Distance from a point to a segment, and where along it (0..1) the nearest point is."""
    dx, dy = x1 - x0, y1 - y0
    span = dx * dx + dy * dy
    t = ((px - x0) * dx + (py - y0) * dy) / span if span > 0 else 0.0
    t = min(max(t, 0.0), 1.0)
    return math.hypot(px - (x0 + t * dx), py - (y0 + t * dy)), t


@njit(cache=True)
def _nearest(
    px: float, py: float, max_d: float, grid: GridArrays, usable: np.ndarray
) -> tuple[int, float, float, float, float]:  # pragma: no cover - compiled
    """(edge, distance, metres along it, nearest x, y) of the nearest usable segment.

    Edge -1 when none lies within ``max_d``. Cells are visited in square rings around the
    point's cell; a cell ``r`` rings out is at least ``(r - 1) * size`` away, so the search
    ends once that passes the best distance found (or ``max_d``).
    """
    seg, seg_edge, seg_along, cell_start, cell_seg, x0, y0, size, nx, ny = grid
    cx = math.floor((px - x0) / size)
    cy = math.floor((py - y0) / size)
    best_e, best_d, best_a, best_x, best_y = -1, np.inf, 0.0, 0.0, 0.0
    gap = max(-cx, cx - (nx - 1), -cy, cy - (ny - 1), 0)  # rings before the grid begins
    last = max(cx, nx - 1 - cx, cy, ny - 1 - cy)  # the ring that reaches the grid's far side
    ring = gap
    while ring <= last:
        if ring > 0 and (ring - 1) * size > min(best_d, max_d):
            break
        for gx in range(max(cx - ring, 0), min(cx + ring, nx - 1) + 1):
            for gy in range(max(cy - ring, 0), min(cy + ring, ny - 1) + 1):
                if max(abs(gx - cx), abs(gy - cy)) != ring:
                    continue
                # no segment of a cell lies nearer than the cell itself: skip one beyond the
                # best so far (a segment is in every cell its box touches, so the cell
                # holding its nearest point is looked at whenever that point could win)
                ox = max(x0 + gx * size - px, px - (x0 + (gx + 1) * size), 0.0)
                oy = max(y0 + gy * size - py, py - (y0 + (gy + 1) * size), 0.0)
                reach = min(best_d, max_d) + TIE_M
                if ox * ox + oy * oy > reach * reach:
                    continue
                cell = gx * ny + gy
                for j in range(cell_start[cell], cell_start[cell + 1]):
                    s = cell_seg[j]
                    e = seg_edge[s]
                    if not usable[e]:
                        continue
                    ax, ay, bx, by = seg[s, 0], seg[s, 1], seg[s, 2], seg[s, 3]
                    d, t = _segment_distance(px, py, ax, ay, bx, by)
                    if d > max_d:
                        continue
                    if d < best_d - TIE_M or (abs(d - best_d) <= TIE_M and e < best_e):
                        length = math.hypot(bx - ax, by - ay)
                        best_e, best_d, best_a = e, d, seg_along[s] + t * length
                        best_x, best_y = ax + t * (bx - ax), ay + t * (by - ay)
        ring += 1
    return best_e, best_d, best_a, best_x, best_y


@njit(cache=True)
def _nearest_many(
    xy: np.ndarray, max_d: float, grid: GridArrays, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    n = xy.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.inf)
    along = np.zeros(n)
    near = np.zeros((n, 2))
    for i in range(n):
        e, d, a, qx, qy = _nearest(xy[i, 0], xy[i, 1], max_d, grid, usable)
        edge[i], dist[i], along[i], near[i, 0], near[i, 1] = e, d, a, qx, qy
    return edge, dist, along, near


@dataclass(frozen=True)
class Nearest:
    """Where points met the road.

    Per point: the edge (-1: none within reach), the distance, the metres along the edge and
    the nearest point itself (metric).
    """

    edge: np.ndarray
    distance_m: np.ndarray
    along_m: np.ndarray
    xy: np.ndarray


class SegmentGrid:
    """Every edge's straight segments in square cells, for the nearest-road question.

    Parameters
    ----------
    xy, index
        Every edge's coordinates (metric CRS) in edge order, and the edge each belongs to.
    n_edges
        How many edges there are.
    cell_m
        The cells' side (m): default twice the median segment, 20 to 150 m.
    """

    def __init__(
        self, xy: np.ndarray, index: np.ndarray, n_edges: int, *, cell_m: float | None = None
    ) -> None:
        same = index[1:] == index[:-1]  # consecutive points of one edge make a segment
        start = np.flatnonzero(same)
        seg = np.column_stack([xy[start], xy[start + 1]])
        step = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
        edge = index[start].astype(np.int64)
        along = np.zeros(len(seg))
        if len(seg):  # metres from the edge's start to each segment's start
            run = np.cumsum(step) - step
            first = np.r_[True, edge[1:] != edge[:-1]]
            along = run - np.maximum.accumulate(np.where(first, run, 0.0))
        lo = xy.min(axis=0) if len(xy) else np.zeros(2)
        hi = xy.max(axis=0) if len(xy) else np.ones(2)
        # cells about two segments long: a few segments each where roads are dense (a city
        # centre), whatever the empty land around it (an average over the area would give
        # cells of 400 m and hundreds of segments each in Jiangmen's centre)
        typical = float(np.median(step)) if len(step) else 50.0
        size = cell_m or min(max(2.0 * typical, 20.0), 150.0)
        nx = int((hi[0] - lo[0]) // size) + 1
        ny = int((hi[1] - lo[1]) // size) + 1
        # each segment in every cell its bounding box touches
        gx0 = ((np.minimum(seg[:, 0], seg[:, 2]) - lo[0]) // size).astype(np.int64)
        gx1 = ((np.maximum(seg[:, 0], seg[:, 2]) - lo[0]) // size).astype(np.int64)
        gy0 = ((np.minimum(seg[:, 1], seg[:, 3]) - lo[1]) // size).astype(np.int64)
        gy1 = ((np.maximum(seg[:, 1], seg[:, 3]) - lo[1]) // size).astype(np.int64)
        wide, tall = gx1 - gx0 + 1, gy1 - gy0 + 1
        count = wide * tall
        owner = np.repeat(np.arange(len(seg)), count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        cx = np.repeat(gx0, count) + k // np.repeat(tall, count)
        cy = np.repeat(gy0, count) + k % np.repeat(tall, count)
        cell = cx * ny + cy
        order = np.argsort(cell, kind="stable")
        self.cell_seg = owner[order].astype(np.int64)
        self.cell_start = np.searchsorted(cell[order], np.arange(nx * ny + 1)).astype(np.int32)
        self.seg, self.seg_edge, self.seg_along = seg, edge, along
        self.x0, self.y0, self.size, self.nx, self.ny = float(lo[0]), float(lo[1]), size, nx, ny
        #: each edge's length as its segments add up (what ``along`` is a share of)
        self.edge_length = np.bincount(edge, weights=step, minlength=n_edges)

    def kept_arrays(self) -> dict[str, np.ndarray]:
        """The grid's arrays by name (:meth:`from_kept` makes it again)."""
        frame = np.array([self.x0, self.y0, self.size, self.nx, self.ny], dtype=np.float64)
        return {
            "seg": self.seg, "seg_edge": self.seg_edge, "seg_along": self.seg_along,
            "cell_start": self.cell_start, "cell_seg": self.cell_seg,
            "edge_length": self.edge_length, "frame": frame,
        }  # fmt: skip

    @classmethod
    def from_kept(cls, arrays: Mapping[str, np.ndarray]) -> SegmentGrid:
        """The grid :meth:`kept_arrays` described (the arrays are used as they are)."""
        grid = cls.__new__(cls)
        grid.seg, grid.seg_edge = arrays["seg"], arrays["seg_edge"]
        grid.seg_along = arrays["seg_along"]
        grid.cell_start, grid.cell_seg = arrays["cell_start"], arrays["cell_seg"]
        grid.edge_length = arrays["edge_length"]
        x0, y0, size, nx, ny = (float(x) for x in arrays["frame"])
        grid.x0, grid.y0, grid.size, grid.nx, grid.ny = x0, y0, size, int(nx), int(ny)
        return grid

    @classmethod
    def of_lines(cls, geoms: np.ndarray, *, cell_m: float | None = None) -> SegmentGrid:
        """The grid of shapely lines (metric CRS), indexed by edge number."""
        xy, index = shapely.get_coordinates(geoms, return_index=True)
        return cls(xy, index, len(geoms), cell_m=cell_m)

    @property
    def arrays(self) -> GridArrays:
        """The grid as the compiled search takes it."""
        return (
            self.seg, self.seg_edge, self.seg_along, self.cell_start, self.cell_seg, self.x0,
            self.y0, self.size, self.nx, self.ny,
        )  # fmt: skip

    @property
    def nbytes(self) -> int:
        """Memory the grid holds."""
        parts = (self.seg, self.seg_edge, self.seg_along, self.cell_seg, self.cell_start)
        return int(sum(a.nbytes for a in parts) + self.edge_length.nbytes)

    def nearest_one(
        self, x: float, y: float, usable: np.ndarray, *, max_distance_m: float
    ) -> tuple[int, float, float, tuple[float, float]]:
        """One point's ``(edge, distance, metres along, nearest point)``; ``usable`` contiguous."""
        e, d, a, qx, qy = _nearest(x, y, max_distance_m, self.arrays, usable)
        return e, d, a, (qx, qy)

    def nearest(self, xy: np.ndarray, usable: np.ndarray, *, max_distance_m: float) -> Nearest:
        """The nearest usable edge of each metric point (``(n, 2)``) within the distance."""
        points = np.ascontiguousarray(np.asarray(xy, dtype=np.float64).reshape(-1, 2))
        edge, dist, along, near = _nearest_many(
            points,
            float(max_distance_m),
            self.arrays,
            np.ascontiguousarray(usable, dtype=np.bool_),
        )
        return Nearest(edge, dist, along, near)
