"""What the routing engine answers with: stations as it knows them, origins, routes, hits.

The answer's parts are slotted dataclasses, made as they are and never changed after: a
rider's answer makes eight of them, and one takes 150 ns to make where a named tuple takes
320 and a frozen dataclass several times as long (the answer's whole Python share is a few
microseconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(slots=True)
class Route:
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


@dataclass(slots=True)
class NearestHit:
    """One answer of a nearest-station query."""

    station: StationRecord
    route: Route


@dataclass(slots=True)
class Origin:
    """Where a query starts: the given point and where it met the road."""

    lon: float
    lat: float
    snap_lon: float
    snap_lat: float
    snap_distance_m: float


@dataclass(slots=True)
class NearestResult:
    """The answer of :meth:`geo.routing.engine.RoutingEngine.nearest`."""

    origin: Origin
    profile: str
    hits: list[NearestHit]
