"""Station labels (memory linear in nodes) answer exactly what the dense fields answer.

Two engines on the real Helsinki extract with the same 60 stations: one with per-station
fields, one forced onto labels (``dense_field_bytes=0``). Nearest stations, their times and
routes, filters that leave few stations (the exact fallback search), coverage times from many
points, and station changes must agree.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pytest

from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.labels import K_LABELS
from geo.settings import PROJECT_ROOT, Settings

HELSINKI = PROJECT_ROOT / "data" / "osm_fixtures" / "Helsinki.osm.pbf"
PROFILES = {"e_bike": DEFAULT_PROFILES["e_bike"], "walk": DEFAULT_PROFILES["walk"]}
NOON = datetime(2026, 11, 25, 12)


@pytest.fixture(scope="module")
def graph() -> CompiledGraph:
    compiled, _ = load_compiled(HELSINKI, cache_dir=Settings().cache_dir)
    return compiled


@pytest.fixture(scope="module")
def places(graph: CompiledGraph) -> tuple[list[StationRecord], np.ndarray]:
    """60 stations (a few of a rare kind) and 300 origins at random road nodes."""
    rng = np.random.default_rng(11)
    lon, lat = graph.to_wgs84.transform(*graph.node_xy.T)
    picks = rng.choice(graph.n_nodes, 360, replace=False)
    stations = [
        StationRecord(
            100 + i,
            f"s{i}",
            "service_centre" if i % 15 == 0 else "outdoor_worker_station",
            float(lon[j]),
            float(lat[j]),
        )
        for i, j in enumerate(picks[:60])
    ]
    origins = np.column_stack([lon[picks[60:]], lat[picks[60:]]])
    return stations, origins


@pytest.fixture(scope="module")
def engines(
    graph: CompiledGraph, places: tuple[list[StationRecord], np.ndarray]
) -> tuple[RoutingEngine, RoutingEngine]:
    stations, _ = places
    dense = RoutingEngine(graph, PROFILES, stations)
    labelled = RoutingEngine(graph, PROFILES, stations, dense_field_bytes=0)
    return dense, labelled


def _answers(engine: RoutingEngine, origins: np.ndarray, **filters: object) -> list[list[tuple]]:
    """Per origin: (station, time to 0.1 s, length to the metre) of each hit.

    Labels keep times as float32: a time may differ from the dense field's in the fourth
    digit (compared within 0.05 s by :func:`_same`).
    """
    out = []
    for lon, lat in origins:
        res = engine.nearest(lon, lat, at=NOON, **filters)  # type: ignore[arg-type]
        out.append(
            [
                (h.station.id, round(h.route.travel_time_s, 2), round(h.route.distance_m, 0))
                for h in res.hits
            ]
        )
    return out


def _same(ours: list[list[tuple]], theirs: list[list[tuple]]) -> None:
    """The same stations in the same order, the same route lengths, times within 0.05 s."""
    assert [[(i, d) for i, _, d in a] for a in ours] == [[(i, d) for i, _, d in a] for a in theirs]
    times = np.array([t for a in ours for _, t, _ in a])
    expected = np.array([t for a in theirs for _, t, _ in a])
    np.testing.assert_allclose(times, expected, atol=0.05)


def test_labels_hold_memory_linear_in_nodes(engines: tuple[RoutingEngine, RoutingEngine]) -> None:
    dense, labelled = engines
    fld = labelled.fields["e_bike"]
    assert fld.labelled is not None
    assert fld.dist.size == 0
    pg = labelled.profile_graph("e_bike")
    assert fld.labelled.labels.times.shape == (pg.n_search, K_LABELS)
    assert dense.fields["e_bike"].labelled is None


@pytest.mark.parametrize("profile", ["e_bike", "walk"])
def test_nearest_from_labels_equals_the_dense_fields(
    engines: tuple[RoutingEngine, RoutingEngine],
    places: tuple[list[StationRecord], np.ndarray],
    profile: str,
) -> None:
    dense, labelled = engines
    _, origins = places
    ours = _answers(labelled, origins, profile=profile, k=3)
    _same(ours, _answers(dense, origins, profile=profile, k=3))
    assert sum(len(a) == 3 for a in ours) > 250


def test_filters_that_leave_few_stations_fall_back_to_an_exact_search(
    engines: tuple[RoutingEngine, RoutingEngine],
    places: tuple[list[StationRecord], np.ndarray],
) -> None:
    dense, labelled = engines
    _, origins = places
    # 4 service centres among 60 stations: rarely among a node's 8 labels
    ours = _answers(labelled, origins[:80], kinds=["service_centre"], k=3)
    _same(ours, _answers(dense, origins[:80], kinds=["service_centre"], k=3))
    assert sum(len(a) == 3 for a in ours) > 60  # a few origins reach fewer (one-way ends)


def test_coverage_times_from_many_points_agree(
    engines: tuple[RoutingEngine, RoutingEngine],
    places: tuple[list[StationRecord], np.ndarray],
) -> None:
    dense, labelled = engines
    _, origins = places
    mask = np.arange(60) % 3 == 0
    a_t, a_s = dense.fields.times_from_points(
        dense.snap_points(origins, "e_bike"), "e_bike", mask=mask
    )
    b_t, b_s = labelled.fields.times_from_points(
        labelled.snap_points(origins, "e_bike"), "e_bike", mask=mask
    )
    np.testing.assert_allclose(a_t, b_t, rtol=1e-5)
    assert (a_s == b_s).mean() > 0.99  # ties may name either station


def test_station_changes_reach_the_labels(
    graph: CompiledGraph, places: tuple[list[StationRecord], np.ndarray]
) -> None:
    stations, origins = places
    dense = RoutingEngine(graph, PROFILES, stations)
    labelled = RoutingEngine(graph, PROFILES, stations, dense_field_bytes=0)
    moved = dataclasses.replace(stations[1], lon=stations[30].lon, lat=stations[30].lat)
    added = StationRecord(999, "new", "outdoor_worker_station", stations[7].lon, stations[7].lat)
    for engine in (dense, labelled):
        engine.fields.upsert(moved)
        engine.fields.upsert(added)
        engine.fields.upsert(dataclasses.replace(stations[2], status="closed"))
        engine.fields.remove(stations[3].id)
    ours = _answers(labelled, origins[:100], k=4)
    _same(ours, _answers(dense, origins[:100], k=4))
    assert any(999 in [i for i, _, _ in a] for a in ours)
    assert not any(stations[3].id in [i for i, _, _ in a] for a in ours)


def test_a_scenario_of_many_changes_answers_as_an_engine_built_with_them(
    engines: tuple[RoutingEngine, RoutingEngine],
    places: tuple[list[StationRecord], np.ndarray],
    graph: CompiledGraph,
) -> None:
    """Closures, moves and new sites changed in one batch (only their rows are computed)
    answer exactly as an engine that computed every station from the start."""
    dense, labelled = engines
    stations, origins = places
    added = [
        StationRecord(900 + i, f"new {i}", "outdoor_worker_station", s.lon, s.lat)
        for i, s in enumerate(stations[40:46])
    ]
    moved = {stations[5].id: (stations[50].lon, stations[50].lat)}
    closed = [stations[6].id, stations[7].id]
    changed = {s.id: s for s in stations}
    changed[stations[5].id] = dataclasses.replace(
        stations[5], lon=moved[stations[5].id][0], lat=moved[stations[5].id][1]
    )
    for sid in closed:
        changed[sid] = dataclasses.replace(changed[sid], status="closed")
    built = RoutingEngine(graph, PROFILES, [*changed.values(), *added])
    expected = _answers(built, origins[:100], k=4)
    for engine in (dense, labelled):
        scenario = engine.scenario(add=added, close=closed, move=moved)
        _same(_answers(scenario, origins[:100], k=4), expected)
    assert any(i >= 900 for a in expected for i, _, _ in a)
    assert _answers(dense, origins[:100], k=4) != expected  # the scenario left its engine as it was
