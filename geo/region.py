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

    def _project(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._to_metric.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def covers(self, lon: float, lat: float) -> bool:
        """Whether a WGS-84 point lies inside, or within the tolerance of, the outline."""
        x, y = self._to_metric.transform(lon, lat)
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
