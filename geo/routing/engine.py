"""Nearest open station by travel time, routes and isochrones — the routing engine.

Design
------
A rider's question — *which stations can I reach fastest from here?* — is asked millions of
times against a few dozen (a city) to a few thousand stations, which change rarely. So the
work is done per station, ahead of time, and a query only combines precomputed numbers:

1. **Precompute, per profile, a travel-time field to every station.** Each station is snapped
   to its nearest usable edge and becomes a virtual node joined to that edge's end nodes by
   the partial travel times. One Dijkstra per station on the *reversed* graph
   (``scipy.sparse.csgraph.dijkstra``, C speed) gives ``dist[s, n]``, the time from any node
   ``n`` to station ``s``, and ``next_hop[s, n]``, the next node on the fastest way from ``n``
   to ``s`` (the predecessor tree of the reversed search is the forward route tree).
   Memory is ``2 x stations x nodes`` numbers per profile (63 x 65,000: 49 MB). Profiles
   that pay for turns (:mod:`geo.routing.turns`) search over edge states instead of nodes
   — "node" below means a node of the profile's search graph — which holds 3.6 times more
   on the sample (176 MB each for e-bike and drive).
2. **A query is a snap, a lookup and a path unwind.** The rider's point is snapped to the
   nearest usable edge (an STR-tree), which gives at most two entry nodes with partial times;
   the time to every station is ``min(entry_time + dist[:, entry])`` — one vector operation
   — plus the direct way along a shared edge. Filters (status, kind, amenities, opening hours
   at the requested time) are a boolean mask over stations. The route of each of the ``k``
   answers is unwound from ``next_hop`` and its geometry stitched from edge geometries.
3. **Station changes** (add, move, close, reopen) recompute only that station's row, under a
   lock, and swap arrays in one assignment, so readers never see a half-updated field and the
   change counts in the next answer without a restart.

For many thousands of stations per city the per-station field would grow too large; the
same query can then be served from k-nearest station labels per node (a multi-source
Dijkstra keeping the k best), which this design leaves room for.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from geo.errors import NotFoundError, OutsideRegionError, ValidationError
from geo.hours import local_time, open_mask
from geo.profiles import TravelProfile
from geo.region import Region
from geo.routing.compiled import CompiledGraph, ProfileGraph, Snap, SnapArrays
from geo.routing.labels import LabelledStations, nearest_station_field
from geo.routing.reach import RoadPoints, contour_areas
from geo.routing.search import search, unwind
from geo.routing.table import TimeField, travel_time_table
from geo.routing.views import profile_view
from geo.validation import validate_lon_lat


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


@dataclass(frozen=True)
class Route:
    """A route: travel time, length and WGS-84 coordinates (lon, lat)."""

    travel_time_s: float
    distance_m: float
    coords: np.ndarray


@dataclass(frozen=True)
class NearestHit:
    """One answer of a nearest-station query."""

    station: StationRecord
    route: Route


@dataclass(frozen=True)
class Origin:
    """Where a query starts: the given point and where it met the road."""

    lon: float
    lat: float
    snap_lon: float
    snap_lat: float
    snap_distance_m: float


@dataclass(frozen=True)
class NearestResult:
    """The answer of :meth:`RoutingEngine.nearest`."""

    origin: Origin
    profile: str
    hits: list[NearestHit]


#: per-station fields up to this size (bytes, one profile); beyond, station labels per node
DENSE_FIELD_BYTES = 512 * 2**20
_NO_FIELD = np.empty((0, 0))
#: eligibility masks kept at most (filters x minutes; a busy minute asks few)
ELIGIBLE_MEMO_SIZE = 1024


@dataclass
class _Field:
    """Per-profile precomputed travel times to the stations (rows follow ``station_ids``).

    Either dense fields (``dist`` and ``next_hop``, stations x nodes) or, for many stations
    on a large graph, ``labelled`` (:mod:`geo.routing.labels`, memory linear in nodes).
    """

    station_ids: list[int]
    snaps: list[Snap]
    dist: np.ndarray
    next_hop: np.ndarray
    labelled: LabelledStations | None = None

    @functools.cached_property
    def on_edge(self) -> dict[int, list[int]]:
        """Rows of the stations snapped to each edge."""
        rows: dict[int, list[int]] = {}
        for row, snap in enumerate(self.snaps):
            rows.setdefault(snap.edge, []).append(row)
        return rows


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
    ) -> None:
        self.graph = graph
        self.dense_field_bytes = dense_field_bytes
        self.profiles = dict(profiles)
        self.max_snap_m = max_snap_m
        self.region = region
        self._lock = threading.Lock()
        self._stations: dict[int, StationRecord] = {}
        self._fields: dict[str, _Field] = {}
        #: eligibility masks by (stations, filters, minute); emptied when a station changes
        self._eligible_memo: dict[tuple[Any, ...], np.ndarray] = {}
        #: each profile's road as points by spacing, for isochrones (made at the first one)
        self._road_points: dict[str, dict[float, RoadPoints]] = {}
        self.unroutable: dict[str, list[int]] = {}
        self.set_stations(stations)

    # -- stations ---------------------------------------------------------------------------

    @property
    def stations(self) -> dict[int, StationRecord]:
        """The stations the engine knows, by id."""
        return dict(self._stations)

    def set_stations(self, stations: Iterable[StationRecord]) -> None:
        """Replace every station and recompute all travel-time fields."""
        records = {s.id: s for s in stations}
        fields = {name: self._build_field(name, list(records.values())) for name in self.profiles}
        with self._lock:
            self._stations, self._fields = records, fields
            self._eligible_memo = {}

    def upsert_station(self, station: StationRecord) -> None:
        """Add or change one station; only its own rows are recomputed."""
        with self._lock:
            self._stations[station.id] = station
            self._eligible_memo = {}
            for name in self.profiles:
                self._fields[name] = self._update_field(name, self._fields[name], station)

    def remove_station(self, station_id: int) -> None:
        """Forget a station (deleted); a closed station should be upserted with its status."""
        with self._lock:
            if self._stations.pop(station_id, None) is None:
                return
            self._eligible_memo = {}
            for name, fld in list(self._fields.items()):
                if station_id in fld.station_ids and fld.labelled is not None:
                    self._fields[name] = self._build_field(name, list(self._stations.values()))
                elif station_id in fld.station_ids:
                    keep = [i for i, s in enumerate(fld.station_ids) if s != station_id]
                    self._fields[name] = _Field(
                        [fld.station_ids[i] for i in keep],
                        [fld.snaps[i] for i in keep],
                        fld.dist[keep],
                        fld.next_hop[keep],
                    )

    def _snap_station(self, pg: ProfileGraph, s: StationRecord) -> Snap | None:
        x, y = self.graph.to_metric(s.lon, s.lat)
        try:
            return pg.snap(x, y, max_distance_m=self.max_snap_m)
        except ValidationError:
            return None

    def _build_field(self, profile: str, stations: Sequence[StationRecord]) -> _Field:
        pg = profile_view(self.graph, self.profiles[profile])
        ids, snaps = [], []
        self.unroutable[profile] = []
        for s in stations:
            snap = self._snap_station(pg, s)
            if snap is None:
                self.unroutable.setdefault(profile, []).append(s.id)
                continue
            ids.append(s.id)
            snaps.append(snap)
        if 12 * len(snaps) * pg.n_search > self.dense_field_bytes:
            return _Field(ids, snaps, _NO_FIELD, _NO_FIELD, LabelledStations.build(pg, snaps))
        dist, hop = travel_time_fields(pg, snaps, range(len(snaps)))
        return _Field(ids, snaps, dist, hop)

    def _update_field(self, profile: str, fld: _Field, station: StationRecord) -> _Field:
        pg = profile_view(self.graph, self.profiles[profile])
        ids, snaps = list(fld.station_ids), list(fld.snaps)
        snap = self._snap_station(pg, station)
        if fld.labelled is not None:  # labels: unchanged unless the station moved on the road
            if station.id in ids and snap == snaps[ids.index(station.id)]:
                return fld
            return self._build_field(profile, list(self._stations.values()))
        if station.id in ids:
            row = ids.index(station.id)
            if snap is None:
                keep = [i for i in range(len(ids)) if i != row]
                return _Field(
                    [ids[i] for i in keep],
                    [snaps[i] for i in keep],
                    fld.dist[keep],
                    fld.next_hop[keep],
                )
            if snap == snaps[row]:
                return fld
            snaps[row] = snap
            dist, hop = fld.dist.copy(), fld.next_hop.copy()
        else:
            if snap is None:
                self.unroutable.setdefault(profile, []).append(station.id)
                return fld
            ids.append(station.id)
            snaps.append(snap)
            row = len(ids) - 1
            n = pg.n_search
            dist = np.vstack([fld.dist, np.full((1, n), np.inf)])
            hop = np.vstack([fld.next_hop, np.full((1, n), -9999, dtype=fld.next_hop.dtype)])
        new_dist, new_hop = travel_time_fields(pg, snaps, [row])
        dist[row], hop[row] = new_dist[0], new_hop[0]
        return _Field(ids, snaps, dist, hop)

    # -- queries ----------------------------------------------------------------------------

    def profile_graph(self, profile: str) -> ProfileGraph:
        """The profile's graph, refusing unknown profile names."""
        if profile not in self.profiles:
            msg = f"unknown profile {profile!r}; choose one of {', '.join(self.profiles)}"
            raise ValidationError(msg)
        return profile_view(self.graph, self.profiles[profile])

    def in_region(self, lon: float, lat: float) -> bool:
        """Whether a WGS-84 point lies in the service region (always, when none is set)."""
        return self.region is None or self.region.covers(lon, lat)

    def closest_in_region(self, lon: float, lat: float) -> tuple[float, float]:
        """The point of the service region nearest to a WGS-84 point (itself when inside).

        The point is pulled a few metres inside, so that it counts as in the region.
        """
        return (lon, lat) if self.region is None else self.region.closest_inside(lon, lat)

    def locate(self, lon: float, lat: float, profile: str) -> tuple[Snap, Origin]:
        """Validate a WGS-84 point, check the region, snap it for ``profile``."""
        wlon, wlat = validate_lon_lat(lon, lat)
        if not self.in_region(wlon, wlat):
            msg = f"point ({lon}, {lat}) is outside the service region"
            raise OutsideRegionError(msg)
        pg = self.profile_graph(profile)
        x, y = self.graph.to_metric(wlon, wlat)
        snap = pg.snap(x, y, max_distance_m=self.max_snap_m)
        return snap, Origin(wlon, wlat, *pg.lonlat(snap.xy), snap.distance_m)

    def travel_times(self, snap: Snap, profile: str) -> tuple[list[int], np.ndarray, np.ndarray]:
        """Time from a snapped point to every routable station, and the entry node used.

        Returns station ids, times (s, ``inf`` when unreachable) and the entry node per
        station (``-1`` for the direct way along a shared edge).
        """
        pg = profile_view(self.graph, self.profiles[profile])
        fld = self._fields[profile]
        times = np.full(len(fld.station_ids), np.inf)
        entry = np.full(len(fld.station_ids), -2, dtype=np.int64)
        for node, cost in pg.entries(snap):
            t = cost + fld.dist[:, node]
            better = t < times
            times[better], entry[better] = t[better], node
        twin = int(pg.twin[snap.edge])
        for i in fld.on_edge.get(snap.edge, []) + fld.on_edge.get(twin, []) * (twin >= 0):
            direct = pg.same_edge_time(snap, fld.snaps[i])
            if direct <= times[i]:
                times[i], entry[i] = direct, -1
        return fld.station_ids, times, entry

    def times_from_points(
        self,
        snaps: SnapArrays,
        profile: str,
        *,
        mask: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Travel time from many snapped points to their nearest station among ``mask``.

        Returns the times (``inf`` where no station is reachable or the point met no road)
        and the id of that station (-1 for none). ``mask`` selects stations by row of
        :meth:`station_ids` (default: all).
        """
        pg = profile_view(self.graph, self.profiles[profile])
        fld = self._fields[profile]
        ids = np.asarray(fld.station_ids, dtype=np.int64)
        rows = np.flatnonzero(mask) if mask is not None else np.arange(len(ids))
        n_pts = len(snaps.edge)
        if len(rows) == 0:
            return np.full(n_pts, np.inf), np.full(n_pts, -1, dtype=np.int64)
        nodes, costs = pg.entry_arrays(snaps)
        every = np.arange(n_pts)
        if fld.labelled is not None:  # one search from every allowed station at once
            near, which = nearest_station_field(pg, fld.snaps, rows.tolist())
            way = np.argmin(costs + near[nodes], axis=1)
            t = costs[every, way] + near[nodes[every, way]]
            station_row = which[nodes[every, way]]
        else:
            dist = fld.dist[rows]
            t, station_row = np.full(n_pts, np.inf), np.full(n_pts, -1, dtype=np.int64)
            for j in range(nodes.shape[1]):  # each way in: the best station through it
                times = costs[None, :, j] + dist[:, nodes[:, j]]
                best = np.argmin(times, axis=0)
                better = times[best, every] < t
                t[better], station_row[better] = times[best, every][better], rows[best][better]
        for row in rows:  # the direct way along an edge shared with a station
            s_snap = fld.snaps[row]
            near_pts = np.flatnonzero(
                (snaps.edge == s_snap.edge) | (snaps.edge == pg.twin[s_snap.edge])
            )
            for i in near_pts:
                pt = Snap(int(snaps.edge[i]), float(snaps.fraction[i]), 0.0, (0.0, 0.0))
                direct = pg.same_edge_time(pt, s_snap)
                if direct < t[i]:
                    t[i], station_row[i] = direct, row
        reached = np.isfinite(t) & (station_row >= 0)
        return t, np.where(reached, ids[np.maximum(station_row, 0)], -1)

    def snap_points(self, points: np.ndarray, profile: str) -> SnapArrays:
        """WGS-84 ``(n, 2)`` lon/lat points snapped for ``profile`` (edge -1: no road near)."""
        x, y = self.graph.from_wgs84.transform(points[:, 0], points[:, 1])
        pg = self.profile_graph(profile)
        return pg.snap_many(np.column_stack([x, y]), max_distance_m=self.max_snap_m)

    def table(
        self,
        origins: np.ndarray | SnapArrays,
        targets: np.ndarray | SnapArrays,
        *,
        profile: str,
        limit_s: float = np.inf,
    ) -> np.ndarray:
        """Travel time (s) from each origin to each target (WGS-84 ``(n, 2)`` or snapped).

        An ``(origins, targets)`` array, ``inf`` beyond ``limit_s`` or off the road; see
        :mod:`geo.routing.table`.
        """
        o = origins if isinstance(origins, SnapArrays) else self.snap_points(origins, profile)
        t = targets if isinstance(targets, SnapArrays) else self.snap_points(targets, profile)
        return travel_time_table(self.profile_graph(profile), o, t, limit_s=limit_s)

    def time_field(self, origins: np.ndarray, *, profile: str, limit_s: float) -> TimeField:
        """Bounded times from WGS-84 origins to everywhere, kept for repeated lookups.

        ``field.to(engine.snap_points(targets, profile))`` is then the ``(origins, targets)``
        table without searching again.
        """
        snaps = self.snap_points(origins, profile)
        return TimeField.search(self.profile_graph(profile), snaps, reverse=False, limit_s=limit_s)

    def field_memory(self, profile: str) -> int:
        """Bytes the profile's precomputed station times hold (fields or labels)."""
        fld = self._fields[profile]
        if fld.labelled is not None:
            return fld.labelled.labels.nbytes
        return int(fld.dist.nbytes + fld.next_hop.nbytes)

    def station_ids(self, profile: str) -> list[int]:
        """Ids of the stations routable for ``profile``, in field row order."""
        return list(self._fields[profile].station_ids)

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
        other._lock = threading.Lock()
        other._stations = dict(self._stations)
        other._fields = dict(self._fields)
        other._eligible_memo = {}
        other.unroutable = {k: list(v) for k, v in self.unroutable.items()}
        for sid in close:
            if sid not in other._stations:
                msg = f"station {sid} not found"
                raise NotFoundError(msg)
            other.upsert_station(dataclasses.replace(other._stations[sid], status="closed"))
        for sid, (lon, lat) in (move or {}).items():
            if sid not in other._stations:
                msg = f"station {sid} not found"
                raise NotFoundError(msg)
            other.upsert_station(dataclasses.replace(other._stations[sid], lon=lon, lat=lat))
        for rec in add:
            other.upsert_station(rec)
        return other

    def eligible(
        self,
        ids: Sequence[int],
        *,
        kinds: Sequence[str] = (),
        amenities: Sequence[str] = (),
        at: datetime | None = None,
        include_closed: bool = False,
    ) -> np.ndarray:
        """Mask of stations that are active, of the kinds, with the amenities, open at ``at``.

        With ``include_closed``, stations outside their opening hours count too (a rider
        may want to see the nearest ones and when they open). Masks are kept for the minute
        (opening hours are to the minute) until a station changes; the one returned is
        read-only.
        """
        minute = None if include_closed else local_time(at).replace(second=0, microsecond=0)
        key = (tuple(ids), tuple(kinds), tuple(amenities), minute)
        memo = self._eligible_memo
        mask = memo.get(key)
        if mask is None:
            mask = self._eligible([self._stations[i] for i in ids], kinds, amenities, minute)
            mask.flags.writeable = False
            if len(memo) >= ELIGIBLE_MEMO_SIZE:
                memo.clear()
            memo[key] = mask
        return mask

    @staticmethod
    def _eligible(
        recs: Sequence[StationRecord],
        kinds: Sequence[str],
        amenities: Sequence[str],
        minute: datetime | None,
    ) -> np.ndarray:
        mask = np.array([r.status == "active" for r in recs], dtype=bool)
        if kinds:
            mask &= np.array([r.kind in kinds for r in recs], dtype=bool)
        if amenities:
            need = set(amenities)
            mask &= np.array([need <= r.amenities for r in recs], dtype=bool)
        if len(recs) and minute is not None:
            mask &= open_mask([r.opening_hours for r in recs], minute)
        return mask

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
    ) -> NearestResult:
        """The ``k`` fastest-reached eligible stations from a point, each with its route.

        Stations outside their opening hours at ``at`` are left out unless ``include_closed``.
        """
        if k < 1:
            msg = "k must be at least 1"
            raise ValidationError(msg)
        snap, origin = self.locate(lon, lat, profile)
        fld = self._fields[profile]
        if fld.labelled is not None:
            return NearestResult(
                origin,
                profile,
                self._nearest_labelled(fld, snap, profile, k, kinds, amenities, at, include_closed),
            )
        ids, times, entry = self.travel_times(snap, profile)
        ok = self.eligible(
            ids, kinds=kinds, amenities=amenities, at=at, include_closed=include_closed
        )
        times = np.where(ok, times, np.inf)
        order = np.lexsort((np.asarray(ids), times))[:k]
        pg = profile_view(self.graph, self.profiles[profile])
        hits = [
            NearestHit(
                self._stations[ids[row]],
                self._route(
                    pg,
                    snap,
                    self._field_path(fld, row, int(entry[row])),
                    fld.snaps[row],
                    float(times[row]),
                ),
            )
            for row in order
            if np.isfinite(times[row])
        ]
        return NearestResult(origin, profile, hits)

    def _nearest_labelled(
        self,
        fld: _Field,
        snap: Snap,
        profile: str,
        k: int,
        kinds: Sequence[str],
        amenities: Sequence[str],
        at: datetime | None,
        include_closed: bool,
    ) -> list[NearestHit]:
        """:meth:`nearest` from station labels (many stations on a large graph)."""
        assert fld.labelled is not None
        pg = profile_view(self.graph, self.profiles[profile])
        ids = fld.station_ids

        def allowed(rows: list[int]) -> np.ndarray:
            return self.eligible(
                [ids[r] for r in rows],
                kinds=kinds,
                amenities=amenities,
                at=at,
                include_closed=include_closed,
            )

        found = fld.labelled.nearest(pg, fld.snaps, snap, k, allowed, ids)
        return [
            NearestHit(self._stations[ids[row]], self._route(pg, snap, nodes, fld.snaps[row], t))
            for t, row, nodes in found
        ]

    def _field_path(self, fld: _Field, row: int, entry: int) -> np.ndarray | None:
        """Nodes from ``entry`` towards station ``row`` (None: along the shared edge)."""
        if entry == -1:
            return None
        # a hop past the last node is the station's virtual node (rows may renumber)
        return unwind(fld.next_hop[row], entry)

    def _route(
        self,
        pg: ProfileGraph,
        start: Snap,
        nodes: Sequence[int] | np.ndarray | None,
        end: Snap,
        time_s: float,
    ) -> Route:
        """A route from ``start`` through ``nodes`` (None: along their shared edge) to ``end``."""
        if nodes is None:
            coords, length = pg.direct_geometry(start, end)
        else:
            coords, length = pg.path_geometry(start, nodes, end)
        return Route(time_s, length, coords)

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
        path = unwind(pred, exits[way][0])[::-1] if total < direct else None
        return o_a, o_b, self._route(pg, a, path, b, total)

    def isochrones(
        self,
        lon: float,
        lat: float,
        minutes: Sequence[float],
        *,
        profile: str = "e_bike",
        buffer_m: float = 80.0,
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
        kept = self._road_points.setdefault(profile, {})
        areas = contour_areas(
            pg, times, here, [m * 60.0 for m in ordered], buffer_m=buffer_m, kept=kept
        )
        return origin, [
            (m, _to_wgs84_geom(self.graph, a)) for m, a in zip(ordered, areas, strict=True)
        ]


def travel_time_fields(
    pg: ProfileGraph, snaps: Sequence[Snap], rows: Iterable[int], *, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Time from every node to each target in ``rows``, and the next hop on the way.

    Each target (a snapped station or candidate site) becomes a virtual node joined to its
    edge's end nodes; one Dijkstra per target on the reversed graph (searches stop at
    ``limit`` seconds) gives ``dist[row, node]`` and ``next_hop[row, node]``.
    """
    n = pg.n_search
    rows = list(rows)
    if not rows:
        return np.empty((0, n)), np.empty((0, n), dtype=np.int32)
    dist, pred = dijkstra(
        pg.reversed_with_targets(snaps),
        indices=[n + r for r in rows],
        return_predecessors=True,
        limit=limit,
    )
    return dist[:, :n], pred[:, :n]


def _to_wgs84_geom(graph: CompiledGraph, geom: Any) -> Any:
    return shapely.transform(
        geom, lambda xy: np.column_stack(graph.to_wgs84.transform(xy[:, 0], xy[:, 1]))
    )
