"""The one-call lookup answers exactly as the stage-by-stage path: rider by rider, bit by bit.

:func:`geo.routing.lookup.nearest_rows` snaps, finds the ways in, reads the field, applies the
filters and unwinds the routes in one compiled call. The reference is the engine's own
stage-by-stage path (``ProfileGraph.snap`` then ``StationFields.nearest``: numpy over the
field, ``lexsort`` for ties, ``unwind`` and ``path_pieces`` per route), which the
networkx tests check in turn. Riders stand part-way along edges, on nodes, on the stations'
own edges, and beyond every road; every everyday profile (with and without turn costs) and
the filters are asked.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import networkx as nx
import numpy as np
import pytest

from geo.errors import ValidationError
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.station_fields import Reached
from geo.routing.views import profile_view
from tests.routing.conftest import PROFILES

NOON = datetime(2026, 11, 25, 12)
NIGHT = datetime(2026, 11, 25, 3)
RIDERS = 400


def _engine(compiled: CompiledGraph, seed: int) -> RoutingEngine:
    """Thirty stations at random road points; some closed, some with amenities, some night-shut."""
    rng = np.random.default_rng(seed)
    pg = profile_view(compiled, PROFILES["walk"])
    edges = rng.choice(np.flatnonzero(pg.usable[: len(compiled.u)]), 30, replace=False)
    records = []
    for i, e in enumerate(edges):
        x, y = compiled.geoms[e].interpolate(float(rng.uniform(0, 1)), normalized=True).coords[0]
        lon, lat = compiled.to_wgs84.transform(x, y)
        records.append(
            StationRecord(
                100 - i,  # ids against the row order: ties must go by id, not row
                f"s{i}",
                "service_centre" if i % 3 == 0 else "outdoor_worker_station",
                float(lon),
                float(lat),
                amenities=frozenset({"toilet"} if i % 2 else {"toilet", "charging"}),
                opening_hours="Mo-Su 08:00-20:00" if i % 4 == 0 else "24/7",
                status="closed" if i % 7 == 3 else "active",
            )
        )
    twin = records[5]  # two stations at one place: an exact tie
    records.append(dataclasses.replace(twin, id=7, name="twin"))
    return RoutingEngine(compiled, PROFILES, records)


def _riders(compiled: CompiledGraph, engine: RoutingEngine, seed: int) -> np.ndarray:
    """Metric points: near roads, exactly on nodes, on the stations' own edges, far away."""
    rng = np.random.default_rng(seed)
    xy = compiled.node_xy[rng.integers(0, compiled.n_nodes, RIDERS)].astype(float)
    xy[: RIDERS // 2] += rng.normal(0, 30, (RIDERS // 2, 2))
    on_station_edges = [
        compiled.geoms[snap.edge].interpolate(float(f), normalized=True).coords[0]
        for snap in engine.fields["walk"].snaps
        for f in (0.1, 0.5, 0.9)
    ]
    far = xy.max(axis=0) + 5_000
    return np.vstack([xy, on_station_edges, [far]])


def _same(slow: list[Reached], fast: list[Reached]) -> None:
    assert [r.station.id for r in fast] == [r.station.id for r in slow]
    for a, b in zip(slow, fast, strict=True):
        assert b.time_s == a.time_s  # to the last bit
        assert (b.pieces.head, b.pieces.tail, b.lonlat) == (a.pieces.head, a.pieces.tail, a.lonlat)
        np.testing.assert_array_equal(b.pieces.edges, a.pieces.edges)
        assert b.pieces.length == a.pieces.length


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize(
    "allowed",
    [
        {"kinds": (), "amenities": (), "at": NOON, "include_closed": False},
        {"kinds": ("service_centre",), "amenities": ("charging",), "at": NIGHT},
        {"kinds": (), "amenities": (), "at": NIGHT, "include_closed": True},
    ],
    ids=["open-at-noon", "filtered-at-night", "including-closed"],
)
def test_one_call_answers_as_the_stages_do(
    small_compiled: CompiledGraph, profile: str, allowed: dict
) -> None:
    engine = _engine(small_compiled, 5)
    pg = profile_view(small_compiled, PROFILES[profile])
    asked = answered = 0
    for x, y in _riders(small_compiled, engine, 6):
        for k in (1, 3, 40):
            try:
                snap = pg.snap(x, y, max_distance_m=engine.max_snap_m)
            except ValidationError as no_road:
                said = str(no_road)
                snap = None
            if snap is None:  # no road in reach: refused in the same words
                with pytest.raises(ValidationError) as refused:
                    engine.fields.nearest_to_point(profile, (x, y), k, allowed)
                assert str(refused.value) == said
                continue
            near = engine.fields.nearest_to_point(profile, (x, y), k, allowed)
            assert near.snap == snap
            slow = engine.fields.nearest(profile, snap, k, allowed)
            _same(slow, near.reached())
            asked += 1
            answered += bool(near.stations)
    assert answered > asked // 2  # most riders reach a station: the test compares answers


def test_one_call_on_real_roads_with_turns(oakland_graph: nx.MultiDiGraph) -> None:
    compiled = CompiledGraph.from_graph(oakland_graph)
    engine = _engine(compiled, 8)
    allowed = {"kinds": (), "amenities": (), "at": NOON, "include_closed": False}
    for profile in PROFILES:
        pg = profile_view(compiled, PROFILES[profile])
        for x, y in _riders(compiled, engine, 9)[:-1]:
            snap = pg.snap(x, y, max_distance_m=engine.max_snap_m)
            near = engine.fields.nearest_to_point(profile, (x, y), 3, allowed)
            assert near.snap == snap
            _same(engine.fields.nearest(profile, snap, 3, allowed), near.reached())


def test_routes_are_drawn_only_when_asked(small_compiled: CompiledGraph) -> None:
    engine = _engine(small_compiled, 5)
    lon, lat = small_compiled.to_wgs84.transform(*small_compiled.node_xy[10])
    drawn = engine.nearest(lon, lat, k=3, at=NOON)
    bare = engine.nearest(lon, lat, k=3, at=NOON, geometry=False)
    assert drawn.hits
    assert all(h.route.coords is not None for h in drawn.hits)
    assert all(h.route.coords is None for h in bare.hits)
    assert [(h.station.id, h.route.travel_time_s, h.route.distance_m) for h in bare.hits] == [
        (h.station.id, h.route.travel_time_s, h.route.distance_m) for h in drawn.hits
    ]
    with pytest.raises(ValueError, match="without its geometry"):
        _ = bare.hits[0].route.drawn


def test_a_riders_routes_drawn_in_the_lookup_are_those_drawn_one_by_one(
    oakland_graph: nx.MultiDiGraph,
) -> None:
    """The answer draws its routes in the lookup's own call: the same points as each drawn apart.

    Each starts where the rider met the road, read off the drawn edge as the route's first
    piece starts (one point, not two a few nanometres apart), and ends at its station.
    """
    compiled = CompiledGraph.from_graph(oakland_graph)
    engine = _engine(compiled, 8)
    allowed = {"kinds": (), "amenities": (), "at": NOON, "include_closed": True}
    drawn = 0
    for profile in PROFILES:
        pg = profile_view(compiled, PROFILES[profile])
        for x, y in _riders(compiled, engine, 9)[:-1]:
            near = engine.fields.nearest_to_point(profile, (x, y), 5, allowed)
            assert near.lines is not None
            here = pg.snap_lonlat(near.snap)
            assert near.start == here
            assert np.allclose(here, compiled.to_wgs84.transform(*near.snap.xy), atol=1e-7)
            together = pg.draw_batch(here, near.routes)
            apart = [pg.draw(r.pieces, (here, r.lonlat)) for r in near.reached()]
            assert len(near.lines) == len(together) == len(apart) == len(near.stations)
            for line, batched, alone, reached in zip(
                near.lines, together, apart, near.reached(), strict=True
            ):
                np.testing.assert_array_equal(line, alone)
                np.testing.assert_array_equal(batched, alone)
                assert len(line) >= 2
                assert tuple(line[0]) == here
                steps = np.abs(np.diff(line, axis=0)).max(axis=1, initial=1.0)
                assert (steps > 1e-11).all() or len(line) == 2  # no point twice in a row
                assert tuple(line[-1]) == reached.lonlat
                drawn += 1
            bare = engine.fields.nearest_to_point(profile, (x, y), 5, allowed, draw=False)
            assert bare.lines is None
            assert bare.stations == near.stations
            assert bare.times == near.times
    assert drawn > 100
