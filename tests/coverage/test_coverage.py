"""Coverage on a hand-checkable graph: a straight street A–B–C–D, 206 m between nodes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely.geometry

from geo.coverage.analysis import (
    CoverageModel,
    coverage_gaps,
    roadless_area,
    weighted_quantile,
)
from geo.coverage.demand import Demand
from geo.coverage.planning import default_candidates, plan_sites, run_scenario
from geo.network import graph_from_osm_file
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord

LINE_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="22.5" lon="113.000"/><node id="2" lat="22.5" lon="113.002"/>
  <node id="3" lat="22.5" lon="113.004"/><node id="4" lat="22.5" lon="113.006"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/></way>
</osm>
"""
LONS = [113.000, 113.002, 113.004, 113.006]
NOON = datetime(2026, 11, 25, 12)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> CompiledGraph:
    path: Path = tmp_path_factory.mktemp("line") / "line.osm"
    path.write_text(LINE_OSM)
    return CompiledGraph.from_graph(graph_from_osm_file(path))


@pytest.fixture
def model(line: CompiledGraph) -> CoverageModel:
    engine = RoutingEngine(
        line,
        DEFAULT_PROFILES,
        [
            StationRecord(1, "A", "outdoor_worker_station", LONS[0], 22.5),
            StationRecord(
                2,
                "night",
                "outdoor_worker_station",
                LONS[3],
                22.5,
                opening_hours="Mo-Su 20:00-06:00",
            ),
        ],
    )
    frame = pd.DataFrame(
        {
            "id": list("ABCD"),
            "lon": LONS,
            "lat": [22.5] * 4,
            "weight": [10.0, 20.0, 30.0, 40.0],
            "town_code": ["t1", "t1", "t2", "t2"],
        }
    )
    return CoverageModel(engine, Demand("test", frame))


def _segment_s(line: CompiledGraph) -> float:
    # osmnx simplifies the street into one edge A–D; walking a third of it (206 m)
    return float(line.length.max()) / 3 / (5 / 3.6)


def test_travel_times_along_the_street(model: CoverageModel, line: CompiledGraph) -> None:
    seg = _segment_s(line)
    res = model.compute(minutes=60, profile="walk", at=NOON)  # the night station is closed
    assert res.times == pytest.approx([0, seg, 2 * seg, 3 * seg], abs=0.01)
    assert list(res.station) == [1, 1, 1, 1]


def test_covered_share_and_statistics(model: CoverageModel, line: CompiledGraph) -> None:
    seg = _segment_s(line)
    res = model.compute(minutes=(seg * 1.5) / 60, profile="walk", at=NOON)  # A and B within
    overall = res.summary().iloc[0]
    assert overall["demand"] == 100
    assert overall["covered"] == 30
    assert overall["share"] == pytest.approx(0.3)
    assert overall["mean_time_s"] == pytest.approx(
        (seg * 20 + 2 * seg * 30 + 3 * seg * 40) / 100, abs=0.01
    )
    assert overall["p95_time_s"] == pytest.approx(3 * seg, abs=0.01)
    by_town = res.summary("town_code").set_index("town_code")
    assert by_town.loc["t1", "share"] == 1.0
    assert by_town.loc["t2", "share"] == 0.0


def test_a_station_closed_at_night_does_not_cover_at_night(
    model: CoverageModel, line: CompiledGraph
) -> None:
    seg = _segment_s(line)
    day = model.compute(minutes=(seg * 0.5) / 60, profile="walk", at=NOON)
    night = model.compute(minutes=(seg * 0.5) / 60, profile="walk", at=datetime(2026, 11, 25, 2))
    assert list(day.covered) == [True, False, False, False]
    assert list(night.covered) == [True, False, False, True]  # the night station opens at 20:00


def test_new_site_goes_where_it_covers_most(model: CoverageModel, line: CompiledGraph) -> None:
    seg = _segment_s(line)
    cands = pd.DataFrame(
        {"id": ["B", "C", "D"], "lon": LONS[1:], "lat": [22.5] * 3, "source": "test"}
    )
    plan = plan_sites(
        model, k=1, minutes=(seg * 1.2) / 60, profile="walk", at=NOON, candidates=cands
    )
    # B adds nothing new (A covers it), C covers C and D (70), D covers C and D too: tie -> C or D
    assert plan.selection.value == pytest.approx(70)
    assert plan.after.summary().iloc[0]["covered"] == pytest.approx(100)
    assert list(plan.sites["added_demand"]) == pytest.approx([70])  # shown on the sites map
    assert plan.selection.gap == pytest.approx(0.0, abs=1e-9)


def test_scenario_closing_the_only_day_station(model: CoverageModel, line: CompiledGraph) -> None:
    seg = _segment_s(line)
    res = run_scenario(
        model, minutes=(seg * 1.5) / 60, profile="walk", at=NOON, close=[1], by="town_code"
    )
    assert res.overall["covered_before"] == 30
    assert res.overall["covered_after"] == 0
    delta = res.delta.set_index("town_code")
    assert delta.loc["t1", "covered_change"] == -30
    # the stored engine is untouched
    assert (
        model.compute(minutes=(seg * 1.5) / 60, profile="walk", at=NOON)
        .summary()
        .iloc[0]["covered"]
        == 30
    )


def test_scenario_adding_and_moving(model: CoverageModel, line: CompiledGraph) -> None:
    seg = _segment_s(line)
    minutes = (seg * 0.5) / 60
    added = run_scenario(model, minutes=minutes, profile="walk", at=NOON, add=[(LONS[2], 22.5)])
    assert added.overall["covered_change"] == 30
    moved = run_scenario(model, minutes=minutes, profile="walk", at=NOON, move={1: (LONS[3], 22.5)})
    assert moved.overall["covered_after"] == 40


def test_weighted_quantile() -> None:
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 98.0]), 0.5) == 3.0
    assert weighted_quantile(np.array([5.0, 1.0]), np.array([1.0, 1.0]), 0.5) == 1.0
    assert np.isnan(weighted_quantile(np.array([]), np.array([]), 0.5))


def test_searching_from_many_stations_agrees_with_the_fields(
    model: CoverageModel, line: CompiledGraph
) -> None:
    seg = _segment_s(line)
    at_night = datetime(2026, 11, 25, 2)  # both stations open
    fields = model.compute(minutes=(seg * 1.2) / 60, profile="walk", at=at_night)
    points = np.array([[LONS[0], 22.5], [LONS[3], 22.5]])
    searched = model.compute_to(
        points, np.array([1, 2]), minutes=(seg * 1.2) / 60, profile="walk", batch=1
    )
    assert searched.times == pytest.approx(fields.times, abs=0.01)
    assert list(searched.station) == list(fields.station) == [1, 1, 2, 2]
    assert list(searched.covered) == list(fields.covered)
    near = model.compute_to(
        points[:1], np.array([1]), minutes=(seg * 0.5) / 60, profile="walk", search_minutes=0.1
    )
    assert np.isinf(near.times[1:]).all()  # beyond the search: not reached
    assert near.times[0] == pytest.approx(0, abs=0.01)


def test_demand_no_road_reaches_is_no_gap_and_no_candidate(line: CompiledGraph) -> None:
    engine = RoutingEngine(
        line,
        DEFAULT_PROFILES,
        [StationRecord(1, "A", "outdoor_worker_station", LONS[0], 22.5)],
        max_snap_m=200,
    )
    lons = [*LONS, 113.003]
    lats = [22.5] * 4 + [22.53]  # the last point 3 km off the street: in the water, say
    cells = gpd.GeoSeries(
        [shapely.geometry.Point(x, y).buffer(0.0005) for x, y in zip(lons, lats, strict=True)],
        crs="EPSG:4326",
    )
    frame = pd.DataFrame(
        {
            "id": ["0_0", "0_1", "0_2", "0_3", "5_5"],
            "lon": lons,
            "lat": lats,
            "weight": [10.0, 20.0, 30.0, 40.0, 500.0],
            "town_code": ["t1"] * 5,
        }
    )
    result = CoverageModel(engine, Demand("test", frame, cells)).compute(
        minutes=(_segment_s(line) * 1.2) / 60, profile="walk", at=NOON
    )
    assert list(result.roadless) == [False, False, False, False, True]
    overall = result.summary().iloc[0]
    assert overall["no_road"] == 500
    assert overall["unreachable"] >= 500
    gaps = coverage_gaps(result)
    assert gaps["uncovered_demand"].sum() == pytest.approx(70)  # C and D, never the water
    assert "5_5" not in set(default_candidates(result)["id"])
    roadless = roadless_area(result)
    assert list(roadless["people"]) == [500]
    assert roadless.geometry.iloc[0].contains(shapely.geometry.Point(113.003, 22.53))
