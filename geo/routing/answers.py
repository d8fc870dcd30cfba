"""What the routing engine answers with: stations as it knows them, origins, routes, hits.

The answer's parts are named tuples: a rider's answer makes a dozen of them, and a frozen
dataclass takes several times as long to make.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np


@dataclass(frozen=True)
class StationRecord:
    """What the engine needs to know of a station."""

    id: int
    name: str
    kind: str
    lon: float
    lat: float
    amenities: frozenset[str] = frozenset()
    opening_hours: str = "24/7"
    status: str = "active"
    extra: Mapping[str, Any] = field(default_factory=dict)


class Route(NamedTuple):
    """A route: travel time, length and WGS-84 coordinates (lon, lat; None: not drawn)."""

    travel_time_s: float
    distance_m: float
    coords: np.ndarray | None

    @property
    def drawn(self) -> np.ndarray:
        """The coordinates of a route that was drawn (asked with ``geometry``)."""
        if self.coords is None:
            msg = "this route was asked for without its geometry"
            raise ValueError(msg)
        return self.coords


class NearestHit(NamedTuple):
    """One answer of a nearest-station query."""

    station: StationRecord
    route: Route


class Origin(NamedTuple):
    """Where a query starts: the given point and where it met the road."""

    lon: float
    lat: float
    snap_lon: float
    snap_lat: float
    snap_distance_m: float


class NearestResult(NamedTuple):
    """The answer of :meth:`geo.routing.engine.RoutingEngine.nearest`."""

    origin: Origin
    profile: str
    hits: list[NearestHit]
