"""Nearest-station travel times equal an independent networkx Dijkstra on the osmnx graph.

With free turns (a node-based reference); turn costs are checked in ``test_turns.py``.
"""

from __future__ import annotations

from datetime import datetime

import networkx as nx
import numpy as np
import pytest

from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.views import profile_view
from tests.routing.conftest import FREE_TURNS as PROFILES
from tests.routing.conftest import node_lonlat, reference_digraph, sample_nodes

NOON = datetime(2026, 11, 25, 12)


def _stations_at(G: nx.MultiDiGraph, nodes: list[int]) -> list[StationRecord]:
    return [
        StationRecord(i + 1, f"s{i + 1}", "outdoor_worker_station", *node_lonlat(G, n))
        for i, n in enumerate(nodes)
    ]


@pytest.mark.parametrize("profile", ["e_bike", "walk", "drive"])
def test_node_to_node_times_equal_networkx(small_graph, small_compiled, profile) -> None:
    station_nodes = sample_nodes(small_graph, 12, seed=1)
    engine = RoutingEngine(small_compiled, PROFILES, _stations_at(small_graph, station_nodes))
    H = reference_digraph(small_graph, PROFILES[profile])
    for origin in sample_nodes(small_graph, 25, seed=2):
        ref = nx.single_source_dijkstra_path_length(H, origin, weight="tt")
        expected = sorted((ref[n], i + 1) for i, n in enumerate(station_nodes) if n in ref)[:3]
        got = engine.nearest(*node_lonlat(small_graph, origin), profile=profile, k=3, at=NOON)
        assert [h.station.id for h in got.hits] == [sid for _, sid in expected]
        assert [h.route.travel_time_s for h in got.hits] == pytest.approx(
            [t for t, _ in expected], abs=1e-6
        )


def test_off_node_points_match_networkx_with_virtual_nodes(small_graph, small_compiled) -> None:
    """Points between nodes: the reference adds the snapped point as a virtual node."""
    profile = "e_bike"
    station_nodes = sample_nodes(small_graph, 8, seed=5)
    stations = _stations_at(small_graph, station_nodes)
    engine = RoutingEngine(small_compiled, PROFILES, stations)
    pg = profile_view(small_compiled, PROFILES[profile])
    station_snaps = [
        pg.snap(*small_compiled.to_metric(s.lon, s.lat), max_distance_m=engine.max_snap_m)
        for s in stations
    ]
    H = reference_digraph(small_graph, PROFILES[profile])
    ids = small_compiled.node_ids
    rng = np.random.default_rng(9)
    checked = 0
    for _ in range(25):
        x, y = rng.uniform(300_500, 311_500), rng.uniform(2_500_500, 2_509_500)
        lon, lat = small_compiled.to_wgs84.transform(x, y)
        snap, _ = engine.locate(lon, lat, profile)
        R = H.copy()
        e, f = snap.edge, snap.fraction
        if pg.usable[e]:
            R.add_edge("O", int(ids[pg.v[e]]), tt=(1 - f) * pg.tt[e])
        if pg.twin[e] >= 0:
            R.add_edge("O", int(ids[pg.u[e]]), tt=f * pg.tt[pg.twin[e]])
        if f in (0.0, 1.0):
            R.add_edge("O", int(ids[pg.u[e] if f == 0.0 else pg.v[e]]), tt=0.0)
        ref = nx.single_source_dijkstra_path_length(R, "O", weight="tt")
        expected = min((ref.get(n, np.inf), i + 1) for i, n in enumerate(station_nodes))
        got = engine.nearest(lon, lat, profile=profile, k=1, at=NOON)
        direct = min(pg.same_edge_time(snap, s) for s in station_snaps)
        if direct < expected[0]:
            continue  # a station on the same edge: checked in test_same_edge_station
        assert got.hits[0].route.travel_time_s == pytest.approx(expected[0], abs=1e-6)
        checked += 0.0 < snap.fraction < 1.0
    assert checked >= 15  # most random points fall between nodes


def test_route_length_and_time_are_consistent(small_graph, small_compiled) -> None:
    station_nodes = sample_nodes(small_graph, 5, seed=11)
    engine = RoutingEngine(small_compiled, PROFILES, _stations_at(small_graph, station_nodes))
    for origin in sample_nodes(small_graph, 10, seed=12):
        res = engine.nearest(*node_lonlat(small_graph, origin), profile="walk", k=1, at=NOON)
        hit = res.hits[0]
        # walking at 5 km/h everywhere: time and length agree
        assert hit.route.travel_time_s == pytest.approx(hit.route.distance_m / (5 / 3.6), rel=1e-6)
        start, end = hit.route.coords[0], hit.route.coords[-1]
        assert tuple(start) == pytest.approx(node_lonlat(small_graph, origin), abs=1e-6)
        assert tuple(end) == pytest.approx((hit.station.lon, hit.station.lat), abs=1e-6)


def test_route_between_two_points_equals_networkx(small_graph, small_compiled) -> None:
    engine = RoutingEngine(small_compiled, PROFILES, [])
    H = reference_digraph(small_graph, PROFILES["drive"])
    a, b = sample_nodes(small_graph, 2, seed=21)
    _, _, route = engine.route(
        node_lonlat(small_graph, a), node_lonlat(small_graph, b), profile="drive"
    )
    assert route.travel_time_s == pytest.approx(
        nx.dijkstra_path_length(H, a, b, weight="tt"), abs=1e-6
    )


def test_compiled_graph_keeps_the_fastest_parallel_edge(small_graph) -> None:
    compiled = CompiledGraph.from_graph(small_graph)
    pg = profile_view(compiled, PROFILES["drive"])
    pairs = pg.best_edge
    assert len(pairs) == pg.matrix.nnz
    for key, e in list(zip(pairs.keys, pairs.edges, strict=True))[:500]:
        a, b = divmod(int(key), pairs.n)
        assert pg.matrix[a, b] == pytest.approx(max(pg.tt[e], 1e-9))
        assert pairs.along([a, b])[0] == e
