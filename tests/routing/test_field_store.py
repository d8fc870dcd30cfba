"""Station fields kept on disk and mapped, profiles built when first asked, one road for isochrones.

Every engine here is compared with one that computes everything itself in memory: a kept
field must answer exactly as a computed one, a change must never touch the kept file, and a
damaged file must be computed anew rather than trusted.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import shapely

from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.field_store import KEEP_SETS
from geo.routing.profile_graph import ProfileGraph
from geo.routing.reach import RoadPoints
from geo.routing.turns import TurnProfileGraph
from tests.routing.conftest import PROFILES


def _stations(graph: CompiledGraph, count: int, seed: int) -> list[StationRecord]:
    rng = np.random.default_rng(seed)
    nodes = rng.choice(graph.n_nodes, size=count, replace=False)
    out = []
    for i, n in enumerate(nodes):
        lon, lat = graph.to_wgs84.transform(*graph.node_xy[n])
        out.append(
            StationRecord(i + 1, f"s{i}", "rest_station", lon, lat, frozenset(), "24/7", "active")
        )
    return out


def _kept(graph: CompiledGraph) -> CompiledGraph:
    """The graph as read from the compiled cache: it has a fingerprint (its file's name)."""
    kept = copy.copy(graph)
    kept.fingerprint = "graph-test-small"
    return kept


def _probe_points(graph: CompiledGraph, count: int = 12) -> list[tuple[float, float]]:
    rng = np.random.default_rng(7)
    lo, hi = graph.node_xy.min(axis=0), graph.node_xy.max(axis=0)
    xy = lo + rng.random((count, 2)) * (hi - lo)
    return [tuple(graph.to_wgs84.transform(x, y)) for x, y in xy]


def _answers(engine: RoutingEngine, points: list[tuple[float, float]], profile: str) -> list:
    found = []
    for lon, lat in points:
        result = engine.nearest(lon, lat, profile=profile, k=3)
        found.append([(h.station.id, round(h.route.travel_time_s, 9)) for h in result.hits])
    return found


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.npy")}


def test_a_kept_field_is_mapped_read_only_and_answers_as_a_computed_one(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    stations = _stations(small_compiled, 8, seed=1)
    computed = RoutingEngine(small_compiled, PROFILES, stations)
    first = RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    assert len(list(tmp_path.glob("*.dist.npy"))) == len(PROFILES)  # one set per profile
    again = RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    points = _probe_points(small_compiled)
    for profile in PROFILES:
        field = again.fields[profile]
        assert isinstance(field.dist, np.memmap)
        assert Path(field.dist.filename).parent == tmp_path
        assert not field.dist.flags.writeable
        want = _answers(computed, points, profile)
        assert _answers(first, points, profile) == want
        assert _answers(again, points, profile) == want


def test_a_kept_field_is_laid_out_as_it_is_read(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    """A lookup at a node reads that node's row of station times (one number from each
    station's row would touch a page, with large folios 2 MB, per station); a route drawn
    follows one station's row of hops."""
    stations = _stations(small_compiled, 8, seed=4)
    engine = RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    for profile in PROFILES:
        field = engine.fields[profile]
        assert field.dist.shape[1] == len(field.station_ids) == 8
        assert field.next_hop.shape == field.dist.shape[::-1]
        assert field.dist.shape[0] > 8  # nodes (or edge states), not stations, come first
        assert field.dist[3].flags.c_contiguous  # one node's row, all stations
        assert field.next_hop[3].flags.c_contiguous  # one station's row, all nodes


def test_a_station_change_copies_the_rows_and_never_writes_the_kept_file(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    stations = _stations(small_compiled, 8, seed=2)
    kept = RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    before = _digest(tmp_path)
    moved = _stations(small_compiled, 9, seed=3)[8]
    changed = dataclasses.replace(moved, id=3, name="moved")
    added = dataclasses.replace(moved, id=99, name="new")
    kept.fields.upsert(changed)
    kept.fields.upsert(added)
    assert _digest(tmp_path) == before  # the mapped file is untouched
    others = [s for s in stations if s.id != 3]
    reference = RoutingEngine(small_compiled, PROFILES, [*others, changed, added])
    points = _probe_points(small_compiled)
    for profile in PROFILES:
        assert _answers(kept, points, profile) == _answers(reference, points, profile)


def test_a_damaged_kept_file_is_computed_anew(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    stations = _stations(small_compiled, 6, seed=4)
    RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    for path in tmp_path.glob("*.dist.npy"):
        path.write_bytes(path.read_bytes()[:100])  # cut short, as a full disk would leave it
    engine = RoutingEngine(_kept(small_compiled), PROFILES, stations, field_dir=tmp_path)
    computed = RoutingEngine(small_compiled, PROFILES, stations)
    points = _probe_points(small_compiled)
    for profile in PROFILES:
        assert _answers(engine, points, profile) == _answers(computed, points, profile)


def test_only_the_newest_station_sets_are_kept(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    for seed in range(KEEP_SETS + 2):  # the stations change between starts
        RoutingEngine(
            _kept(small_compiled),
            {"walk": PROFILES["walk"]},
            _stations(small_compiled, 5, seed=10 + seed),
            field_dir=tmp_path,
        )
    assert len(list(tmp_path.glob("*walk*.dist.npy"))) == KEEP_SETS
    assert len(list(tmp_path.glob("*walk*.hop.npy"))) == KEEP_SETS


def test_a_graph_not_read_from_the_cache_keeps_nothing(
    small_compiled: CompiledGraph, tmp_path: Path
) -> None:
    RoutingEngine(small_compiled, PROFILES, _stations(small_compiled, 4, 5), field_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_lazy_profiles_are_built_at_first_use_with_the_changes_made_meanwhile(
    small_compiled: CompiledGraph,
) -> None:
    stations = _stations(small_compiled, 8, seed=6)
    lazy = RoutingEngine(small_compiled, PROFILES, stations, lazy_profiles=True)
    _, *others = PROFILES
    assert lazy.fields.pending() == others
    moved = _stations(small_compiled, 9, seed=7)[8]
    changed = dataclasses.replace(moved, id=2, name="moved")
    lazy.fields.upsert(changed)  # while walk and drive wait
    reference = RoutingEngine(
        small_compiled, PROFILES, [*[s for s in stations if s.id != 2], changed]
    )
    points = _probe_points(small_compiled)
    assert _answers(lazy, points, others[0]) == _answers(reference, points, others[0])
    assert lazy.fields.pending() == others[1:]
    lazy.warm()
    assert lazy.fields.pending() == []
    for profile in PROFILES:
        assert _answers(lazy, points, profile) == _answers(reference, points, profile)


def _starting_at_zero(pg: ProfileGraph, j: int) -> np.ndarray:
    """Search times at which edge ``j``'s start is passed at 0 s and no other edge is entered."""
    times = np.full(pg.n_search, np.inf)
    if isinstance(pg, TurnProfileGraph):  # a state's time is at the edge's end
        times[j] = pg.tt[j]
    else:
        times[pg.u[j]] = 0.0
    return times


@pytest.mark.parametrize("profile", ["walk", "e_bike"])
def test_the_shared_road_points_time_each_direction_from_its_own_start(
    small_compiled: CompiledGraph, profile: str
) -> None:
    """One set of points serves every profile; a one-way's reverse copy counts from its end."""
    pg = RoutingEngine(small_compiled, {profile: PROFILES[profile]}).profile_graph(profile)
    road = RoadPoints.of_graph(small_compiled, 20.0)
    m = len(small_compiled.u)
    usable = np.flatnonzero(pg.usable & (pg.length > 0))
    forward, backward = usable[usable < m], usable[usable >= m]
    chosen = [*forward[:: max(1, len(forward) // 40)], *backward[:20]]
    assert profile != "walk" or len(backward)  # walking uses one-ways both ways
    assert road.flipped[pg.base[np.asarray(chosen)]].any()  # two-way streets share points
    checked = 0
    for j in map(int, chosen):
        points, when = road.reached(pg, _starting_at_zero(pg, j), budget=1e9)
        b = int(pg.base[j])
        geom = small_compiled.geoms[b] if j < m else shapely.reverse(small_compiled.geoms[b])
        pace = pg.tt[j] / pg.length[j]
        for xy in road.points_of(b)[1:-1]:  # inside the edge
            rows = np.flatnonzero((points == xy).all(axis=1))
            want = shapely.line_locate_point(geom, shapely.Point(xy)) * pace
            assert np.isclose(when[rows], want, atol=1e-6).any(), (j, xy)
            checked += 1
    assert checked > 20


def test_the_two_edges_of_a_two_way_street_share_one_set_of_points(
    small_compiled: CompiledGraph,
) -> None:
    from geo.routing.reach import twin_edges

    twin = twin_edges(small_compiled)
    paired = np.flatnonzero(twin >= 0)
    assert len(paired) > len(twin) // 3
    assert (twin[twin[paired]] == paired).all()  # each the other's
    g = small_compiled
    assert (g.u[paired] == g.v[twin[paired]]).all()
    road = RoadPoints.of_graph(g, 20.0)
    half = RoadPoints.of_graph(g, 20.0, np.flatnonzero(twin < 0))  # no pair made at all
    assert len(road.xy) < 0.75 * sum(
        len(shapely.get_coordinates(shapely.segmentize(x, 20.0))) for x in g.geoms
    )
    for e in paired[:50]:
        np.testing.assert_allclose(road.points_of(int(e)), road.points_of(int(twin[e]))[::-1])
    assert not half.flipped.any()
