"""Travel times to every station, computed ahead, per profile — and kept in step with changes.

A rider's question is asked millions of times against a few dozen to a few thousand stations
that change rarely, so the work is done per station, ahead of time:

- **Dense fields** (the usual case). Each station is snapped to its nearest usable edge and
  becomes a virtual node joined to that edge's end nodes by the partial travel times. One
  Dijkstra per station on the *reversed* graph (``scipy.sparse.csgraph.dijkstra``) gives
  ``dist[n, s]``, the time from any node ``n`` to station ``s``, and ``next_hop[s, n]``, the
  next node on the fastest way there (the reversed search's predecessor tree is the forward
  route tree). Each is laid out as it is read: a rider's lookup reads one node's contiguous
  row of times (a few hundred bytes), a route drawn follows one station's row of hops. Read
  the other way, a lookup took one number from each station's row, which on a kernel whose
  page cache holds large folios mapped a whole field file at the first answer. Memory
  is ``2 x stations x nodes`` numbers per profile; profiles that pay for turns
  (:mod:`geo.routing.turns`) search edge states instead of nodes, 3.6 times more on the sample.
- **Labels** (:mod:`geo.routing.labels`): beyond :data:`DENSE_FIELD_BYTES` a profile keeps
  the k nearest stations per node instead — memory linear in nodes.
- **Changes** (add, move, close, reopen) recompute only that station's column, under a lock, and
  swap arrays in one assignment: readers never see a half-updated field, and the change counts
  in the next answer without a restart.

Which stations a rider may be sent to (status, kinds, amenities, opening hours at a minute)
is a boolean mask over the same rows (:meth:`StationFields.eligible`).
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
from scipy.sparse.csgraph import dijkstra

from geo.errors import ValidationError
from geo.hours import local_minute, minute_stamp, open_mask
from geo.profiles import TravelProfile, everyday
from geo.routing.answers import StationRecord
from geo.routing.compiled import CompiledGraph, Snap, SnapArrays
from geo.routing.drawing import points_on
from geo.routing.field_store import FieldStore
from geo.routing.labels import LabelledStations, nearest_station_field
from geo.routing.lookup import nearest_rows
from geo.routing.lookup_arrays import LookupArrays, lookup_arrays
from geo.routing.profile_graph import ProfileGraph, RouteBatch, RoutePieces
from geo.routing.search import unwind
from geo.routing.views import profile_view

#: per-station fields up to this size (bytes, one profile); beyond, station labels per node
DENSE_FIELD_BYTES = 512 * 2**20
_NO_FIELD = np.empty((0, 0))
#: eligibility masks kept at most (filters x minutes; a busy minute asks few)
ELIGIBLE_MEMO_SIZE = 1024


@dataclass
class Field:
    """One profile's precomputed travel times to the stations (in ``station_ids`` order).

    Either dense fields (``dist`` nodes x stations, ``next_hop`` stations x nodes) or
    ``labelled``.
    """

    station_ids: list[int]
    snaps: list[Snap]
    dist: np.ndarray
    next_hop: np.ndarray
    labelled: LabelledStations | None = None
    _lonlat: list[tuple[float, float]] | None = field(default=None, repr=False, compare=False)
    _lonlat_array: np.ndarray | None = field(default=None, repr=False, compare=False)
    _lookup: tuple[ProfileGraph, LookupArrays] | None = field(
        default=None, repr=False, compare=False
    )

    @functools.cached_property
    def on_edge(self) -> dict[int, list[int]]:
        """Rows of the stations snapped to each edge."""
        rows: dict[int, list[int]] = {}
        for row, snap in enumerate(self.snaps):
            rows.setdefault(snap.edge, []).append(row)
        return rows

    @functools.cached_property
    def ids_key(self) -> tuple[int, ...]:
        """The station ids as a tuple (a key of :meth:`StationFields.eligible`'s memo)."""
        return tuple(self.station_ids)

    @functools.cached_property
    def station_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stations' ids, and the edge and fraction where each met the road, as arrays."""
        return (
            np.asarray(self.station_ids, dtype=np.int64),
            np.asarray([s.edge for s in self.snaps], dtype=np.int64),
            np.asarray([s.fraction for s in self.snaps], dtype=np.float64),
        )

    def snap_lonlat(self, pg: ProfileGraph) -> list[tuple[float, float]]:
        """Where each station met the road, WGS-84 lon/lat by row (computed once).

        Read off the drawn roads as :meth:`ProfileGraph.snap_lonlat` reads a rider's.
        """
        if self._lonlat is None:
            array = self.snap_lonlat_array(pg)
            self._lonlat = list(zip(array[:, 0].tolist(), array[:, 1].tolist(), strict=True))
        return self._lonlat

    def snap_lonlat_array(self, pg: ProfileGraph) -> np.ndarray:
        """:meth:`snap_lonlat` as one ``(stations, 2)`` array (computed once)."""
        if self._lonlat_array is None:
            edges = np.asarray([s.edge for s in self.snaps], dtype=np.int64)
            fractions = np.asarray([s.fraction for s in self.snaps], dtype=np.float64)
            self._lonlat_array = points_on(pg.draw_coords, edges, fractions)
        return self._lonlat_array

    def lookup_arrays(self, pg: ProfileGraph) -> LookupArrays:
        """The one-call lookup's arrays for this dense field on ``pg`` (gathered once)."""
        if self._lookup is None or self._lookup[0] is not pg:
            ids, edges, fractions = self.station_arrays
            arrays = lookup_arrays(
                pg,
                dist=self.dist,
                next_hop=self.next_hop,
                station_edge=edges,
                station_fraction=fractions,
                station_lonlat=self.snap_lonlat_array(pg),
                ids=ids,
            )
            self._lookup = (pg, arrays)
        return self._lookup[1]

    def without(self, rows: Sequence[int]) -> Field:
        """The dense field with only ``rows`` kept."""
        keep = list(rows)
        return Field(
            [self.station_ids[i] for i in keep],
            [self.snaps[i] for i in keep],
            self.dist[:, keep],
            self.next_hop[keep],
        )

    def path(self, row: int, entry: int) -> np.ndarray | None:
        """Nodes from ``entry`` towards station ``row`` (None: along the shared edge)."""
        if entry == -1:
            return None
        # a hop past the last node is the station's virtual node (rows may renumber)
        return unwind(self.next_hop[row], entry)


@dataclass(slots=True)
class Nearby:
    """Where a point met the road, the stations reached first, their times and routes.

    ``start`` is where the point met the road, in WGS-84 (each route's first point);
    ``routes`` what each route is made of (its length too), in ``stations`` order; ``lines``
    the routes' WGS-84 coordinates (None: not asked for). Lists and one batch rather than an
    object per station, and slots (see :mod:`geo.routing.answers`): a rider's answer is made
    of this.
    """

    snap: Snap
    start: tuple[float, float]
    stations: list[StationRecord]
    times: list[float]
    routes: RouteBatch
    lines: list[np.ndarray] | None

    def reached(self) -> list[Reached]:
        """The same stations, each with its time and route, as :meth:`StationFields.nearest`."""
        return [
            Reached(station, t, self.routes.route(i), self.routes.end(i))
            for i, (station, t) in enumerate(zip(self.stations, self.times, strict=True))
        ]


class Reached(NamedTuple):
    """A station reached from a snapped point: the time and what the route there is made of.

    ``lonlat`` is where the station met the road, in WGS-84 (the route's last point). A named
    tuple: several are made for every rider's answer.
    """

    station: StationRecord
    time_s: float
    pieces: RoutePieces
    lonlat: tuple[float, float]


class StationFields:
    """The stations of one engine and, per profile, the travel times to them."""

    def __init__(
        self,
        graph: CompiledGraph,
        profiles: Mapping[str, TravelProfile],
        *,
        max_snap_m: float,
        dense_field_bytes: int = DENSE_FIELD_BYTES,
        store: FieldStore | None = None,
        lazy: bool = False,
    ) -> None:
        self.graph, self.profiles = graph, dict(profiles)
        self.max_snap_m, self.dense_field_bytes = max_snap_m, dense_field_bytes
        #: where dense fields are kept on disk and mapped from (None: in memory only)
        self.store = store
        #: only the first profile's field is built with the stations; the others at first use
        #: (a server is ready sooner and asks for the rest behind its first answers)
        self.lazy = lazy
        self._lock = threading.Lock()
        self._stations: dict[int, StationRecord] = {}
        self._fields: dict[str, Field] = {}
        #: eligibility masks by (stations, filters, minute); emptied when a station changes
        self._eligible_memo: dict[tuple[Any, ...], np.ndarray] = {}
        self.unroutable: dict[str, list[int]] = {}

    @property
    def stations(self) -> dict[int, StationRecord]:
        """The stations known, by id."""
        return dict(self._stations)

    def __getitem__(self, profile: str) -> Field:
        """The profile's field as it stands now."""
        return self._field(profile)

    def _field(self, profile: str) -> Field:
        """The profile's field, built now if it still waits (see :attr:`lazy`)."""
        fld = self._fields.get(profile)
        if fld is None:
            if profile not in self.profiles:
                raise KeyError(profile)
            with self._lock:  # built once, against the stations as they are now
                fld = self._fields.get(profile)
                if fld is None:
                    fld = self._build(profile, list(self._stations.values()))
                    self._fields[profile] = fld
        return fld

    def pending(self) -> list[str]:
        """Profiles whose fields are not built yet."""
        return [name for name in self.profiles if name not in self._fields]

    def replace(self, stations: Iterable[StationRecord]) -> None:
        """Replace every station and recompute the travel-time fields.

        Only the first profile's if lazy; never a profile built on demand (it waits for its
        first question).
        """
        records = {s.id: s for s in stations}
        built = everyday(self.profiles)
        names = built[:1] if self.lazy else built
        fields = {name: self._build(name, list(records.values())) for name in names}
        with self._lock:
            self._stations, self._fields = records, fields
            self._eligible_memo = {}

    def upsert(self, *stations: StationRecord) -> None:
        """Add or change stations; only their own rows are recomputed (new ones in one go)."""
        if not stations:
            return
        with self._lock:
            for station in stations:
                self._stations[station.id] = station
            self._eligible_memo = {}
            for name, fld in list(self._fields.items()):  # fields still waiting read it later
                self._fields[name] = self._update(name, fld, stations)

    def remove(self, station_id: int) -> None:
        """Forget a station (deleted); a closed station should be upserted with its status."""
        with self._lock:
            if self._stations.pop(station_id, None) is None:
                return
            self._eligible_memo = {}
            for name, fld in list(self._fields.items()):
                if station_id in fld.station_ids and fld.labelled is not None:
                    self._fields[name] = self._build(name, list(self._stations.values()))
                elif station_id in fld.station_ids:
                    ids = fld.station_ids
                    self._fields[name] = fld.without(
                        [i for i, s in enumerate(ids) if s != station_id]
                    )

    def copy(self) -> StationFields:
        """A copy to change apart (a scenario): the arrays are shared until a row changes."""
        other = copy.copy(self)
        other._lock = threading.Lock()
        other._stations = dict(self._stations)
        other._fields = dict(self._fields)
        other._eligible_memo = {}
        other.unroutable = {k: list(v) for k, v in self.unroutable.items()}
        return other

    def _snap(self, pg: ProfileGraph, s: StationRecord) -> Snap | None:
        x, y = self.graph.to_metric(s.lon, s.lat)
        try:
            return pg.snap(x, y, max_distance_m=self.max_snap_m)
        except ValidationError:
            return None

    def _build(self, profile: str, stations: Sequence[StationRecord]) -> Field:
        pg = profile_view(self.graph, self.profiles[profile])
        ids, snaps = [], []
        self.unroutable[profile] = []
        for s in stations:
            snap = self._snap(pg, s)
            if snap is None:
                self.unroutable.setdefault(profile, []).append(s.id)
                continue
            ids.append(s.id)
            snaps.append(snap)
        if 12 * len(snaps) * pg.n_search > self.dense_field_bytes:
            return Field(ids, snaps, _NO_FIELD, _NO_FIELD, LabelledStations.build(pg, snaps))
        kept = self.store.load(pg.profile, snaps) if self.store is not None else None
        if kept is not None:
            return Field(ids, snaps, *kept)
        dist, hop = travel_time_fields(pg, snaps, range(len(snaps)))
        if self.store is not None:
            dist, hop = self.store.save(pg.profile, snaps, dist, hop)
        return Field(ids, snaps, dist, hop)

    def _update(self, profile: str, fld: Field, stations: Sequence[StationRecord]) -> Field:
        pg = profile_view(self.graph, self.profiles[profile])
        ids, snaps = list(fld.station_ids), list(fld.snaps)
        new = {s.id: self._snap(pg, s) for s in stations}
        if fld.labelled is not None:  # labels: unchanged unless a station moved on the road
            if all(sid in ids and snap == snaps[ids.index(sid)] for sid, snap in new.items()):
                return fld
            return self._build(profile, list(self._stations.values()))
        gone = {sid for sid, snap in new.items() if snap is None and sid in ids}
        if gone:
            fld = fld.without([i for i, sid in enumerate(ids) if sid not in gone])
            ids, snaps = list(fld.station_ids), list(fld.snaps)
        rows: list[int] = []
        for sid, snap in new.items():
            if snap is None:
                if sid not in gone:
                    self.unroutable.setdefault(profile, []).append(sid)
            elif sid in ids:
                if snap != snaps[ids.index(sid)]:
                    rows.append(ids.index(sid))
                    snaps[rows[-1]] = snap
            else:
                ids.append(sid)
                snaps.append(snap)
                rows.append(len(ids) - 1)
        if not rows:
            return fld
        added = len(ids) - len(fld.station_ids)
        n = pg.n_search
        # a kept field is read-only: stations change in a copy, appended ones in one stack
        dist = np.hstack([fld.dist, np.full((n, added), np.inf)])
        hop = np.vstack([fld.next_hop, np.full((added, n), -9999, dtype=fld.next_hop.dtype)])
        dist[:, rows], hop[rows] = travel_time_fields(pg, snaps, rows)
        return Field(ids, snaps, dist, hop)

    # -- reading ----------------------------------------------------------------------------

    def station_ids(self, profile: str) -> list[int]:
        """Ids of the stations routable for ``profile``, in field row order."""
        return list(self._field(profile).station_ids)

    def memory(self, profile: str) -> int:
        """Bytes the profile's precomputed station times hold (fields or labels)."""
        fld = self._field(profile)
        if fld.labelled is not None:
            return fld.labelled.labels.nbytes
        return int(fld.dist.nbytes + fld.next_hop.nbytes)

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
        stamp = None if include_closed else minute_stamp(at)
        key = (ids if isinstance(ids, tuple) else tuple(ids), tuple(kinds), tuple(amenities), stamp)
        memo = self._eligible_memo
        mask = memo.get(key)
        if mask is None:
            minute = None if stamp is None else local_minute(stamp)
            mask = _eligible([self._stations[i] for i in ids], kinds, amenities, minute)
            mask.flags.writeable = False
            if len(memo) >= ELIGIBLE_MEMO_SIZE:
                memo.clear()
            memo[key] = mask
        return mask

    def nearest_to_point(
        self,
        profile: str,
        xy: tuple[float, float],
        k: int,
        allowed: dict[str, Any],
        *,
        draw: bool = True,
    ) -> Nearby:
        """Snap a metric point and find the ``k`` fastest-reached stations among those ``allowed``.

        Dense fields answer in one compiled call (:mod:`geo.routing.lookup`), routes drawn in
        it when ``draw``; labels snap, ask :meth:`nearest`, then draw the routes in one more.

        Raises
        ------
        ValidationError
            When no road usable by the profile lies within reach of the point.
        """
        fld = self._field(profile)
        pg = profile_view(self.graph, self.profiles[profile])
        if fld.labelled is not None:
            snap = pg.snap(*xy, max_distance_m=self.max_snap_m)
            start = pg.snap_lonlat(snap)
            reached = self.nearest(profile, snap, k, allowed)
            routes = RouteBatch.of([(r.pieces, r.lonlat) for r in reached])
            return Nearby(
                snap,
                start,
                [r.station for r in reached],
                [r.time_s for r in reached],
                routes,
                pg.draw_batch(start, routes) if draw else None,
            )
        found = nearest_rows(
            fld.lookup_arrays(pg),
            *xy,
            eligible=self.eligible(fld.ids_key, **allowed),
            max_distance_m=self.max_snap_m,
            k=k,
            draw=draw,
        )
        if found.snap is None:  # no road near: the snap says so, in the words it always has
            pg.snap(*xy, max_distance_m=self.max_snap_m)
        assert found.snap is not None
        stations, station_ids = self._stations, fld.station_ids
        records = [stations[station_ids[r]] for r in found.rows]
        return Nearby(found.snap, found.start, records, found.times, found.routes, found.lines)

    def nearest(self, profile: str, snap: Snap, k: int, allowed: dict[str, Any]) -> list[Reached]:
        """The ``k`` fastest-reached stations from ``snap`` among those ``allowed``.

        ``allowed`` holds the keywords of :meth:`eligible` (kinds, amenities, at,
        include_closed).
        """
        fld = self._field(profile)
        pg = profile_view(self.graph, self.profiles[profile])
        ids = fld.station_ids
        if fld.labelled is not None:

            def rows_allowed(rows: list[int]) -> np.ndarray:
                return self.eligible([ids[r] for r in rows], **allowed)

            found = fld.labelled.nearest(pg, fld.snaps, snap, k, rows_allowed, ids)
        else:
            times, entry = self._times_from(pg, fld, snap)
            times = np.where(self.eligible(ids, **allowed), times, np.inf)
            order = np.lexsort((np.asarray(ids), times))[:k]
            found = [
                (float(times[r]), int(r), fld.path(int(r), int(entry[r])))
                for r in order
                if np.isfinite(times[r])
            ]
        lonlat = fld.snap_lonlat(pg)
        return [
            Reached(
                self._stations[ids[r]],
                t,
                pg.direct_pieces(snap, fld.snaps[r])
                if nodes is None
                else pg.path_pieces(snap, nodes, fld.snaps[r]),
                lonlat[r],
            )
            for t, r, nodes in found
        ]

    @staticmethod
    def _times_from(pg: ProfileGraph, fld: Field, snap: Snap) -> tuple[np.ndarray, np.ndarray]:
        """Time from a snapped point to every station row, and the entry node used.

        The entry is ``-1`` for the direct way along a shared edge.
        """
        times = np.full(len(fld.station_ids), np.inf)
        entry = np.full(len(fld.station_ids), -2, dtype=np.int64)
        for node, cost in pg.entries(snap):
            t = cost + fld.dist[node]
            better = t < times
            times[better], entry[better] = t[better], node
        twin = int(pg.twin[snap.edge])
        for i in fld.on_edge.get(snap.edge, []) + fld.on_edge.get(twin, []) * (twin >= 0):
            direct = pg.same_edge_time(snap, fld.snaps[i])
            if direct <= times[i]:
                times[i], entry[i] = direct, -1
        return times, entry

    def times_from_points(
        self, snaps: SnapArrays, profile: str, *, mask: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Travel time from many snapped points to their nearest station among ``mask``.

        Returns the times (``inf`` where no station is reachable or the point met no road)
        and the id of that station (-1 for none). ``mask`` selects stations by row of
        :meth:`station_ids` (default: all).
        """
        pg = profile_view(self.graph, self.profiles[profile])
        fld = self._field(profile)
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
            dist = fld.dist if mask is None else fld.dist[:, rows]
            t, station_row = np.full(n_pts, np.inf), np.full(n_pts, -1, dtype=np.int64)
            for j in range(nodes.shape[1]):  # each way in: the best station through it
                times = costs[None, :, j] + dist[nodes[:, j]].T
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


def travel_time_fields(
    pg: ProfileGraph, snaps: Sequence[Snap], rows: Iterable[int], *, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Time from every node to each target in ``rows``, and the next hop on the way.

    Each target (a snapped station or candidate site) becomes a virtual node joined to its
    edge's end nodes; one Dijkstra per target on the reversed graph (searches stop at
    ``limit`` seconds) gives ``dist[node, i]`` and ``next_hop[i, node]`` for the ``i``-th of
    ``rows`` (each laid out as it is read, see the module).
    """
    n = pg.n_search
    rows = list(rows)
    if not rows:
        return np.empty((n, 0)), np.empty((0, n), dtype=np.int32)
    dist, pred = dijkstra(
        pg.reversed_with_targets(snaps),
        indices=[n + r for r in rows],
        return_predecessors=True,
        limit=limit,
    )
    return np.ascontiguousarray(dist[:, :n].T), pred[:, :n]
