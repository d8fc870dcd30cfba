"""Nearest open station by travel time, routes and isochrones — the routing engine.

A nearest query is a snap, a lookup and a path unwind, done in one compiled call
(:mod:`geo.routing.lookup`). The rider's point is snapped to the nearest usable edge (the
graph's segment grid), which gives at most two ways into the search graph with partial
times; the time to every station is then ``min(entry_time + dist[entry, station])`` over
the travel times kept per station (:mod:`geo.routing.station_fields`: how they are computed
ahead and kept in step with station changes), plus the direct way along a shared edge.
Filters (status, kind, amenities, opening hours at the requested time) are a mask over
stations. The route of each of the ``k`` answers is unwound from the field's next hops into
its pieces (:mod:`geo.routing.pieces`), and drawn from edge geometries when asked.

Routes between two points and isochrones search from the point itself. Tables of travel
times for coverage and case assignment are in :mod:`geo.routing.table`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import NotFoundError, OutsideRegionError, ValidationError, YizhanError
from geo.profiles import TravelProfile, everyday
from geo.region import Region
from geo.routing.answers import NearestHit, NearestResult, Origin, Route, StationRecord
from geo.routing.compiled import CompiledGraph, Snap, SnapArrays
from geo.routing.field_store import FieldStore
from geo.routing.profile_graph import ProfileGraph
from geo.routing.reach import ISOCHRONE_BUFFER_M, RoadPoints, contour_areas, in_wgs84
from geo.routing.search import search, unwind
from geo.routing.station_fields import DENSE_FIELD_BYTES, StationFields
from geo.routing.views import profile_view
from geo.validation import validate_lon_lat

__all__ = ["NearestHit", "NearestResult", "Origin", "Route", "RoutingEngine", "StationRecord"]


class RoutingEngine:
    """Nearest stations, routes and isochrones on one road graph.

    Parameters
    ----------
    graph
        The compiled road graph.
    profiles
        Travel profiles by name.
    stations
        The stations to serve (any status; closed ones are never returned as open).
    max_snap_m
        A point farther than this from every usable road is refused.
    region
        Optional service region; points it does not cover are refused.
    dense_field_bytes
        Per-station fields up to this size per profile; beyond, station labels per node.
    field_dir
        Keep dense fields in this folder and map them from there (:mod:`geo.routing.field_store`);
        only for a graph read from the compiled cache (one with a ``fingerprint``).
    lazy_profiles
        Build only the first profile's fields now, the others at first use or :meth:`warm`
        (a server is ready sooner).
    """

    def __init__(
        self,
        graph: CompiledGraph,
        profiles: Mapping[str, TravelProfile],
        stations: Iterable[StationRecord] = (),
        *,
        max_snap_m: float = 1000.0,
        region: Region | None = None,
        dense_field_bytes: int = DENSE_FIELD_BYTES,
        field_dir: Path | None = None,
        lazy_profiles: bool = False,
    ) -> None:
        self.graph = graph
        self.profiles = dict(profiles)
        self.max_snap_m = max_snap_m
        self.region = region
        #: the stations and the travel times to them, per profile
        store = None
        if field_dir is not None and graph.fingerprint is not None:
            store = FieldStore(field_dir, graph.fingerprint)
        self.fields = StationFields(
            graph,
            profiles,
            max_snap_m=max_snap_m,
            dense_field_bytes=dense_field_bytes,
            store=store,
            lazy=lazy_profiles,
        )
        #: the road as points by spacing, for every profile's isochrones (made at the first)
        self._road_points: dict[float, RoadPoints] = {}
        self.fields.replace(stations)

    @property
    def stations(self) -> dict[int, StationRecord]:
        """The stations the engine knows, by id."""
        return self.fields.stations

    def scenario(
        self,
        *,
        add: Iterable[StationRecord] = (),
        close: Iterable[int] = (),
        move: Mapping[int, tuple[float, float]] | None = None,
    ) -> RoutingEngine:
        """A copy of this engine with stations added, closed or moved; this one is untouched.

        Only the changed stations' fields are computed; the rest are shared (read-only).
        """
        other = copy.copy(self)
        other.fields = fields = self.fields.copy()
        known = fields.stations
        for sid in [*close, *(move or {})]:
            if sid not in known:
                msg = f"station {sid} not found"
                raise NotFoundError(msg)
        fields.upsert(
            *(dataclasses.replace(known[sid], status="closed") for sid in close),
            *(
                dataclasses.replace(known[sid], lon=lon, lat=lat)
                for sid, (lon, lat) in (move or {}).items()
            ),
            *add,
        )
        return other

    @property
    def everyday_profiles(self) -> list[str]:
        """The profiles built at start and warmed (not those built when first asked for)."""
        return everyday(self.profiles)

    def warm(self, profiles: Sequence[str] | None = None, *, isochrones: bool = True) -> None:
        """Ask one question per profile so that the first real answers find everything ready.

        Builds the profile's fields if they wait (lazy profiles), loads the compiled search and
        drawing functions from numba's cache, and (with ``isochrones``) densifies the profile's
        roads for isochrones. Asked at a station's own place; a profile with no routable
        station is skipped. By default the everyday profiles (not those built on demand).
        """
        for name in profiles if profiles is not None else self.everyday_profiles:
            place = self.station_place(name)
            if place is None:
                continue
            lon, lat = place
            try:
                self.nearest(lon, lat, profile=name, k=1, include_closed=True)
                if isochrones:
                    self.isochrones(lon, lat, [5.0], profile=name)
            except YizhanError:  # e.g. a station outside the service region: nothing to warm
                continue

    def station_place(self, profile: str) -> tuple[float, float] | None:
        """Where a station routable for ``profile`` meets the road (WGS-84), None if none is."""
        fld = self.fields[profile]
        if not fld.snaps:
            return None
        return profile_view(self.graph, self.profiles[profile]).snap_lonlat(fld.snaps[0])

    def profile_graph(self, profile: str) -> ProfileGraph:
        """The profile's graph, refusing unknown profile names."""
        if profile not in self.profiles:
            known = ", ".join(self.profiles)
            if profile == "truck":  # a profile only where the extract says something of trucks
                msg = f"this region's roads say nothing of trucks: choose one of {known}"
                raise ValidationError(msg, zh=f"本区域道路没有货车通行信息，请选择：{known}")
            msg = f"unknown profile {profile!r}; choose one of {known}"
            raise ValidationError(msg, zh=f"未知的出行方式 {profile!r}，请选择：{known}")
        return profile_view(self.graph, self.profiles[profile])

    def in_region(self, lon: float, lat: float, xy: tuple[float, float] | None = None) -> bool:
        """Whether a WGS-84 point lies in the service region (always, when none is set).

        ``xy`` is the same point in the graph's CRS when it is projected already.
        """
        projected = None if xy is None else (self.graph.crs, *xy)
        return self.region is None or self.region.covers(lon, lat, projected=projected)

    def closest_in_region(self, lon: float, lat: float) -> tuple[float, float]:
        """The point of the service region nearest to a WGS-84 point (itself when inside).

        The point is pulled a few metres inside, so that it counts as in the region.
        """
        return (lon, lat) if self.region is None else self.region.closest_inside(lon, lat)

    def locate(self, lon: float, lat: float, profile: str) -> tuple[Snap, Origin]:
        """Validate a WGS-84 point, check the region, snap it for ``profile``."""
        wlon, wlat = self._checked(lon, lat)
        pg = self.profile_graph(profile)
        x, y = self.graph.to_metric(wlon, wlat)
        snap = pg.snap(x, y, max_distance_m=self.max_snap_m)
        return snap, _origin(pg, wlon, wlat, snap)

    def _checked(self, lon: float, lat: float) -> tuple[float, float]:
        """A valid WGS-84 point inside the service region, or the error that says why not."""
        wlon, wlat = validate_lon_lat(lon, lat)
        self._refuse_outside(wlon, wlat)
        return wlon, wlat

    def _refuse_outside(
        self, lon: float, lat: float, xy: tuple[float, float] | None = None
    ) -> None:
        """Refuse a valid WGS-84 point outside the region (``xy``: it in the graph's CRS)."""
        if not self.in_region(lon, lat, xy):
            msg = f"point ({lon}, {lat}) is outside the service region"
            raise OutsideRegionError(msg)

    def snap_points(self, points: np.ndarray, profile: str) -> SnapArrays:
        """WGS-84 ``(n, 2)`` lon/lat points snapped for ``profile`` (edge -1: no road near)."""
        x, y = self.graph.from_wgs84.transform(points[:, 0], points[:, 1])
        pg = self.profile_graph(profile)
        return pg.snap_many(np.column_stack([x, y]), max_distance_m=self.max_snap_m)

    def nearest(
        self,
        lon: float,
        lat: float,
        *,
        profile: str = "e_bike",
        k: int = 3,
        kinds: Sequence[str] = (),
        amenities: Sequence[str] = (),
        at: datetime | None = None,
        include_closed: bool = False,
        geometry: bool = True,
    ) -> NearestResult:
        """The ``k`` fastest-reached eligible stations from a point, each with its route.

        Stations outside their opening hours at ``at`` are left out unless ``include_closed``.
        Without ``geometry`` the routes keep their times and lengths but are not drawn
        (``coords`` None): the answer is then one compiled call and a little Python.
        """
        if k < 1:
            msg = "k must be at least 1"
            raise ValidationError(msg)
        wlon, wlat = validate_lon_lat(lon, lat)
        xy = self.graph.to_metric(wlon, wlat)
        self._refuse_outside(wlon, wlat, xy)
        self.profile_graph(profile)  # an unknown profile is refused in the riders' words
        allowed: dict[str, Any] = {
            "kinds": kinds,
            "amenities": amenities,
            "at": at,
            "include_closed": include_closed,
        }
        near = self.fields.nearest_to_point(profile, xy, k, allowed, draw=geometry)
        origin = Origin(wlon, wlat, *near.start, near.snap.distance_m)
        lengths = near.routes.pieces[:, 6].tolist()
        lines = near.lines if near.lines is not None else [None] * len(lengths)
        each = zip(near.stations, near.times, lengths, lines, strict=True)
        hits = [NearestHit(station, Route(t, length, line)) for station, t, length, line in each]
        return NearestResult(origin, profile, hits)

    def route(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        *,
        profile: str = "e_bike",
    ) -> tuple[Origin, Origin, Route]:
        """The fastest route between two WGS-84 points (lon, lat)."""
        a, o_a = self.locate(*origin, profile)
        b, o_b = self.locate(*destination, profile)
        pg = profile_view(self.graph, self.profiles[profile])
        exits = pg.exits(b)
        dist, pred = search(pg.matrix, pg.entries(a), targets=[node for node, _ in exits])
        through = [float(dist[node]) + cost for node, cost in exits]
        way = int(np.argmin(through)) if exits else -1
        direct = pg.same_edge_time(a, b)
        total = min(through[way] if exits else np.inf, direct)
        if not np.isfinite(total):
            msg = f"no {profile} route between these points"
            raise NotFoundError(msg)
        if total < direct:
            pieces = pg.path_pieces(a, unwind(pred, exits[way][0])[::-1], b)
        else:
            pieces = pg.direct_pieces(a, b)
        coords = pg.draw(pieces, ((o_a.snap_lon, o_a.snap_lat), (o_b.snap_lon, o_b.snap_lat)))
        return o_a, o_b, Route(total, pieces.length, coords)

    def isochrones(
        self,
        lon: float,
        lat: float,
        minutes: Sequence[float],
        *,
        profile: str = "e_bike",
        buffer_m: float = ISOCHRONE_BUFFER_M,
    ) -> tuple[Origin, list[tuple[float, Any]]]:
        """Areas reachable within each of ``minutes`` (WGS-84 polygons, smallest first).

        The area is the reachable road network — whole edges within the time, and the
        reachable part of edges at the rim — buffered by ``buffer_m``.
        """
        if not minutes or min(minutes) <= 0:
            msg = "minutes must be positive numbers"
            raise ValidationError(msg)
        snap, origin = self.locate(lon, lat, profile)
        pg = profile_view(self.graph, self.profiles[profile])
        limit = max(minutes) * 60.0
        times, _ = search(pg.matrix, pg.entries(snap), limit=limit)
        here = np.asarray(snap.xy, dtype=float)[None, :]
        ordered = sorted(minutes)
        areas = contour_areas(
            pg, times, here, [m * 60.0 for m in ordered], buffer_m=buffer_m, kept=self._road_points
        )
        return origin, list(zip(ordered, in_wgs84(self.graph, areas), strict=True))


def _origin(pg: ProfileGraph, lon: float, lat: float, snap: Snap) -> Origin:
    """Where a query starts (WGS-84) and where it met the road."""
    return Origin(lon, lat, *pg.snap_lonlat(snap), snap.distance_m)
