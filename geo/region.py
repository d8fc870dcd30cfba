"""The service region: whether a point or a shape lies in it, within a tolerance in metres.

One rule for the whole platform, the rule the database's ``yizhan_point_in_region`` trigger
applies: inside the outline, or within ``tolerance_m`` metres of it (measured in the region's
metric CRS). The routing engine, imports and the riders' page all ask :class:`Region`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.ops import nearest_points

#: how far outside its outline a region still accepts points unless told otherwise (m)
DEFAULT_TOLERANCE_M = 500.0
#: cells along the longer side of the grid that answers most points without GEOS
GRID_CELLS = 256
_OUTSIDE, _INSIDE, _EDGE = 0, 1, 2


@dataclass(eq=False)
class Region:
    """A service region outline (WGS-84) with its tolerance and metric CRS."""

    outline: Any
    tolerance_m: float
    metric_crs: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._to_metric = Transformer.from_crs("EPSG:4326", self.metric_crs, always_xy=True)
        metric = shapely.transform(self.outline, self._project)
        self._area = metric.buffer(self.tolerance_m) if self.tolerance_m > 0 else metric
        shapely.prepare(self._area)
        self._grid = CellGrid.of(self._area, GRID_CELLS)

    def _project(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._to_metric.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def covers(
        self, lon: float, lat: float, *, projected: tuple[str, float, float] | None = None
    ) -> bool:
        """Whether a WGS-84 point lies inside, or within the tolerance of, the outline.

        ``projected`` is the same point already projected, ``(crs, x, y)``: when ``crs`` is the
        region's own metric CRS it is used as it is (a rider's answer projects its point once).
        """
        if projected is not None and projected[0] == self.metric_crs:
            x, y = projected[1], projected[2]
        else:
            x, y = self._to_metric.transform(lon, lat)
        state = self._grid.state(x, y)
        if state != _EDGE:
            return state == _INSIDE
        with self._lock:  # GEOS prepared geometries are not thread-safe
            return bool(shapely.contains_xy(self._area, x, y))

    def covers_geometry(self, geom: Any) -> bool:
        """Whether a WGS-84 shape lies wholly inside the outline plus tolerance."""
        metric = shapely.transform(geom, self._project)
        with self._lock:
            return bool(self._area.covers(metric))

    def closest_inside(self, lon: float, lat: float) -> tuple[float, float]:
        """The point of the outline nearest to a WGS-84 point (itself when covered).

        The point is pulled about 20 m inside the outline, so that it is covered.
        """
        if self.covers(lon, lat):
            return lon, lat
        near = nearest_points(self.outline, shapely.Point(lon, lat))[0]
        inner = nearest_points(self.outline.buffer(-0.0002), near)[0]
        return float(inner.x), float(inner.y)


@dataclass(frozen=True)
class CellGrid:
    """Square cells over an area's bounds, each wholly inside it, wholly outside, or on its edge.

    A point in an inside or outside cell is answered by arithmetic and one byte; only points
    in edge cells (a few per cent) need the geometry itself. GEOS takes microseconds a point
    even on a prepared outline, and every rider's answer asks.
    """

    x0: float
    y0: float
    size: float
    nx: int
    ny: int
    #: each cell's state (outside 0, inside 1, edge 2), row by row from ``(x0, y0)``
    states: bytes

    @classmethod
    def of(cls, area: Any, cells: int) -> CellGrid:
        """The grid of ``area`` (metric) with ``cells`` along its longer side.

        The outline is sampled every half cell, and each sample marks its cell and the eight
        around it as edge: any cell the outline passes through is then marked, so a cell left
        unmarked lies wholly on one side, the side its centre is on.
        """
        x0, y0, x1, y1 = area.bounds
        size = max(x1 - x0, y1 - y0, 1e-6) / cells
        nx, ny = int(np.ceil((x1 - x0) / size)) or 1, int(np.ceil((y1 - y0) / size)) or 1
        line = shapely.get_coordinates(shapely.segmentize(area.boundary, size / 2))
        col = np.clip(((line[:, 0] - x0) // size).astype(np.int64), 0, nx - 1)
        row = np.clip(((line[:, 1] - y0) // size).astype(np.int64), 0, ny - 1)
        edge = np.zeros((ny + 2, nx + 2), dtype=bool)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                edge[row + dr, col + dc] = True
        cx, cy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * size, y0 + (np.arange(ny) + 0.5) * size)
        states = np.where(shapely.contains_xy(area, cx, cy), _INSIDE, _OUTSIDE).astype(np.uint8)
        states[edge[1:-1, 1:-1]] = _EDGE
        return cls(x0, y0, size, nx, ny, states.tobytes())

    def state(self, x: float, y: float) -> int:
        """The state of the cell holding ``(x, y)``; outside the bounds, outside."""
        fx, fy = (x - self.x0) / self.size, (y - self.y0) / self.size
        if not (0.0 <= fx < self.nx and 0.0 <= fy < self.ny):  # NaN too
            return _OUTSIDE
        return self.states[int(fy) * self.nx + int(fx)]
