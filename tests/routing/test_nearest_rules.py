"""Rules of the nearest-station search: one-ways, islands, ties, status, hours, filters, CRS."""

from __future__ import annotations

from datetime import datetime

import networkx as nx
import numpy as np
import pytest
import shapely

from api.geojson import Location
from geo.coords import from_wgs84, utm_crs
from geo.errors import OutsideRegionError, ValidationError
from geo.network import graph_from_osm_file
from geo.region import Region
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.views import profile_view
from geo.vocabulary import CoordSystem
from tests.routing.conftest import PROFILES, node_lonlat, reference_digraph

NOON = datetime(2026, 11, 25, 12)  # a Wednesday
NIGHT = datetime(2026, 11, 25, 3)

# Two separate road pieces: A-B-C (two-way) and D-E far away; B is midway between A and C.
TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="22.5000" lon="113.0000"/><node id="2" lat="22.5000" lon="113.0020"/>
  <node id="3" lat="22.5000" lon="113.0040"/><node id="4" lat="22.5200" lon="113.0500"/>
  <node id="5" lat="22.5200" lon="113.0520"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="12"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/></way>
</osm>
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> CompiledGraph:
    path = tmp_path_factory.mktemp("tiny") / "tiny.osm"
    path.write_text(TINY_OSM)
    return CompiledGraph.from_graph(graph_from_osm_file(path))


def _st(i: int, lon: float, lat: float, **kw) -> StationRecord:
    return StationRecord(i, f"s{i}", kw.pop("kind", "outdoor_worker_station"), lon, lat, **kw)


def test_unreachable_station_is_not_returned(tiny: CompiledGraph) -> None:
    engine = RoutingEngine(tiny, PROFILES, [_st(1, 113.0000, 22.5), _st(2, 113.0510, 22.52)])
    res = engine.nearest(113.0020, 22.5, profile="walk", k=5, at=NOON)
    assert [h.station.id for h in res.hits] == [1]


def test_ties_are_broken_by_station_id(tiny: CompiledGraph) -> None:
    # two stations in one building: exactly the same travel time
    engine = RoutingEngine(tiny, PROFILES, [_st(7, 113.0040, 22.5), _st(3, 113.0040, 22.5)])
    res = engine.nearest(113.0020, 22.5, profile="walk", k=2, at=NOON)
    t = [h.route.travel_time_s for h in res.hits]
    assert t[0] == t[1]
    assert [h.station.id for h in res.hits] == [3, 7]


def test_station_on_the_same_edge_is_reached_directly(tiny: CompiledGraph) -> None:
    engine = RoutingEngine(tiny, PROFILES, [_st(1, 113.0015, 22.5)])
    res = engine.nearest(113.0005, 22.5, profile="walk", k=1, at=NOON)
    hit = res.hits[0]
    assert hit.route.distance_m == pytest.approx(103, abs=3)  # 0.001° of longitude at 22.5°N
    assert hit.route.travel_time_s == pytest.approx(hit.route.distance_m / (5 / 3.6), rel=1e-6)


def test_closed_and_planned_stations_are_never_returned(tiny: CompiledGraph) -> None:
    engine = RoutingEngine(
        tiny,
        PROFILES,
        [
            _st(1, 113.0000, 22.5, status="closed"),
            _st(2, 113.0040, 22.5, status="planned"),
        ],
    )
    assert engine.nearest(113.0020, 22.5, profile="walk", k=3, at=NOON).hits == []


@pytest.mark.parametrize(
    ("hours", "at", "is_open"),
    [
        ("Mo-Su 18:00-02:00", datetime(2026, 11, 25, 1, 30), True),  # crosses midnight
        ("Mo-Su 18:00-02:00", datetime(2026, 11, 25, 12), False),
        ("24/7", NIGHT, True),
        ("Mo-Fr 08:30-12:00,14:30-17:30", datetime(2026, 11, 28, 10), False),  # Saturday
        ("Mo-Fr 08:30-12:00,14:30-17:30", datetime(2026, 11, 27, 10), True),
    ],
)
def test_opening_hours_decide(tiny: CompiledGraph, hours: str, at: datetime, is_open: bool) -> None:
    engine = RoutingEngine(tiny, PROFILES, [_st(1, 113.0000, 22.5, opening_hours=hours)])
    hits = engine.nearest(113.0020, 22.5, profile="walk", k=1, at=at).hits
    assert bool(hits) is is_open


def test_one_engine_follows_the_clock_minute_by_minute(tiny: CompiledGraph) -> None:
    """Eligibility is kept per minute: the same engine closes a station at its closing time."""
    engine = RoutingEngine(
        tiny, PROFILES, [_st(1, 113.0000, 22.5, opening_hours="Mo-Su 08:00-12:00")]
    )
    for at, is_open in [
        (datetime(2026, 11, 25, 11, 59), True),
        (datetime(2026, 11, 25, 12, 0), False),
        (datetime(2026, 11, 25, 11, 59, 30), True),
        (datetime(2026, 11, 25, 12, 0, 30), False),
    ]:
        assert bool(engine.nearest(113.0020, 22.5, profile="walk", k=1, at=at).hits) is is_open
    assert engine.nearest(113.0020, 22.5, profile="walk", k=1, at=NOON, include_closed=True).hits


def test_amenity_and_kind_filters(tiny: CompiledGraph) -> None:
    engine = RoutingEngine(
        tiny,
        PROFILES,
        [
            _st(1, 113.0000, 22.5, amenities=frozenset({"water"})),
            _st(2, 113.0040, 22.5, amenities=frozenset({"water", "charging"}), kind="rider_home"),
        ],
    )
    near = engine.nearest(113.0010, 22.5, profile="walk", k=2, at=NOON)
    assert [h.station.id for h in near.hits] == [1, 2]
    charging = engine.nearest(113.0010, 22.5, profile="walk", k=2, amenities=["charging"], at=NOON)
    assert [h.station.id for h in charging.hits] == [2]
    both = engine.nearest(
        113.0010, 22.5, profile="walk", k=2, amenities=["charging", "toilet"], at=NOON
    )
    assert both.hits == []
    kind = engine.nearest(
        113.0010, 22.5, profile="walk", k=2, kinds=["outdoor_worker_station"], at=NOON
    )
    assert [h.station.id for h in kind.hits] == [1]


def test_one_way_streets_respected_by_bike_and_car_not_by_walkers(oakland_graph) -> None:
    compiled = CompiledGraph.from_graph(oakland_graph)
    u, v = next(
        (u, v)
        for u, v, d in oakland_graph.edges(data=True)
        if d.get("oneway") is True and not oakland_graph.has_edge(v, u)
    )
    engine = RoutingEngine(compiled, PROFILES, [_st(1, *node_lonlat(oakland_graph, u))])
    for profile in ("drive", "walk"):
        H = reference_digraph(oakland_graph, PROFILES[profile])
        expected = nx.dijkstra_path_length(H, v, u, weight="tt") if nx.has_path(H, v, u) else None
        hits = engine.nearest(*node_lonlat(oakland_graph, v), profile=profile, k=1, at=NOON).hits
        if expected is None:
            assert hits == []
        else:
            assert hits[0].route.travel_time_s == pytest.approx(expected, abs=1e-6)
    walk = engine.nearest(*node_lonlat(oakland_graph, v), profile="walk", k=1, at=NOON).hits[0]
    drive_graph = reference_digraph(oakland_graph, PROFILES["drive"])
    length_uv = min(d["length"] for d in oakland_graph[u][v].values())
    assert walk.route.distance_m == pytest.approx(
        length_uv, rel=1e-6
    )  # straight back against the one-way
    assert not drive_graph.has_edge(v, u)


def test_e_bikes_never_use_motorways(small_graph, small_compiled) -> None:
    pg = profile_view(small_compiled, PROFILES["e_bike"])
    classes = [small_compiled.highway[int(b)] for b in pg.base[pg.usable]]
    flat = {c for h in classes for c in (h if isinstance(h, list) else [h])}
    assert "motorway" not in flat
    assert "motorway_link" not in flat
    assert max(pg.length[pg.usable] / pg.tt[pg.usable]) * 3.6 <= 25.0 + 1e-9


def test_gcj02_input_gives_the_same_answer_as_wgs84(small_graph, small_compiled) -> None:
    stations = [
        _st(i + 1, *node_lonlat(small_graph, n))
        for i, n in enumerate(list(small_graph.nodes)[:20:4])
    ]
    engine = RoutingEngine(small_compiled, PROFILES, stations)
    lon, lat = node_lonlat(small_graph, list(small_graph.nodes)[77])
    glon, glat = (float(a) for a in from_wgs84(lon, lat, "gcj02"))
    assert abs(glon - lon) > 0.004  # GCJ-02 is ~600 m off: a real difference
    wgs = engine.nearest(lon, lat, profile="e_bike", k=3, at=NOON)
    back = Location(glon, glat, CoordSystem.GCJ02).wgs84()  # the API's edge
    gcj = engine.nearest(*back, profile="e_bike", k=3, at=NOON)
    assert [h.station.id for h in gcj.hits] == [h.station.id for h in wgs.hits]
    assert [h.route.travel_time_s for h in gcj.hits] == pytest.approx(
        [h.route.travel_time_s for h in wgs.hits], abs=1e-3
    )


def test_station_changes_take_effect_at_once(tiny: CompiledGraph) -> None:
    engine = RoutingEngine(tiny, PROFILES, [_st(1, 113.0000, 22.5), _st(2, 113.0040, 22.5)])
    assert engine.nearest(113.0005, 22.5, profile="walk", k=1, at=NOON).hits[0].station.id == 1
    engine.fields.upsert(_st(1, 113.0000, 22.5, status="closed"))
    assert engine.nearest(113.0005, 22.5, profile="walk", k=1, at=NOON).hits[0].station.id == 2
    engine.fields.upsert(_st(3, 113.0006, 22.5))  # a new station right next to the rider
    assert engine.nearest(113.0005, 22.5, profile="walk", k=1, at=NOON).hits[0].station.id == 3
    engine.fields.upsert(_st(3, 113.0035, 22.5))  # moved away
    hit = engine.nearest(113.0040, 22.5, profile="walk", k=1, at=NOON).hits[0]
    assert hit.station.id == 2
    engine.fields.remove(2)
    assert engine.nearest(113.0040, 22.5, profile="walk", k=1, at=NOON).hits[0].station.id == 3


def test_points_far_from_roads_or_outside_the_region_are_refused(tiny: CompiledGraph) -> None:
    region = Region(shapely.box(112.9, 22.4, 113.2, 22.6), 0.0, utm_crs(113.0, 22.5))
    engine = RoutingEngine(tiny, PROFILES, [], max_snap_m=300, region=region)
    with pytest.raises(ValidationError, match="within 300 m"):
        engine.nearest(113.0020, 22.55, profile="walk", at=NOON)
    with pytest.raises(OutsideRegionError, match="outside the service region"):
        engine.nearest(114.5, 22.5, profile="walk", at=NOON)
    with pytest.raises(ValidationError, match="unknown profile"):
        engine.nearest(113.0020, 22.5, profile="rocket", at=NOON)
    with pytest.raises(ValidationError, match="finite"):
        engine.nearest(float("nan"), 22.5, profile="walk", at=NOON)


def test_snap_is_the_nearest_usable_edge(small_compiled) -> None:
    pg = profile_view(small_compiled, PROFILES["drive"])
    rng = np.random.default_rng(4)
    usable = np.flatnonzero(pg.usable)
    for _ in range(30):
        x, y = rng.uniform(300_500, 311_500), rng.uniform(2_500_500, 2_509_500)
        snap = pg.snap(x, y, max_distance_m=5_000)
        brute = shapely.distance(pg.geoms[usable], shapely.Point(x, y)).min()
        assert snap.distance_m == pytest.approx(brute, abs=1e-6)


@pytest.mark.slow
def test_isochrones_are_nested_and_hold_the_stations_reached_in_time(
    small_graph, small_compiled
) -> None:
    nodes = list(small_graph.nodes)
    stations = [_st(i + 1, *node_lonlat(small_graph, n)) for i, n in enumerate(nodes[::15])]
    engine = RoutingEngine(small_compiled, PROFILES, stations)
    lon, lat = node_lonlat(small_graph, nodes[40])
    _, areas = engine.isochrones(lon, lat, [5, 10], profile="e_bike")
    (m5, a5), (m10, a10) = areas
    assert (m5, m10) == (5, 10)
    assert a10.buffer(0.0003).covers(a5)  # nested, up to the 20 m simplification
    assert a5.covers(shapely.Point(lon, lat))
    far = engine.nearest(lon, lat, profile="e_bike", k=len(stations), at=NOON).hits
    for hit in far:
        p = shapely.Point(hit.station.lon, hit.station.lat)
        if hit.route.travel_time_s < 5 * 60 - 30:
            assert a5.buffer(0.0005).covers(p)
        if hit.route.travel_time_s > 10 * 60 + 60:
            assert not a10.covers(p)
    roads = shapely.union_all(
        [
            shapely.LineString([node_lonlat(small_graph, u), node_lonlat(small_graph, v)])
            for u, v in small_graph.edges()
        ]
    )
    assert a10.difference(roads.buffer(0.0025)).area < 1e-9  # it follows the roads: no spikes
