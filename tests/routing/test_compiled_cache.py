"""The compiled road graph kept as arrays: read back exactly, and served without NetworkX."""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.network import cached_summary, load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.reach import densified
from tests.conftest import OSM_FIXTURES


def test_arrays_read_back_exactly(oakland_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    compiled = CompiledGraph.from_graph(oakland_graph)
    merged = [h for h in compiled.highway if not isinstance(h, str)]
    back = CompiledGraph.load(compiled.save(tmp_path / "oakland.arrays"))
    for name in ("node_ids", "node_xy", "u", "v", "length", "tagged_kph", "oneway"):
        np.testing.assert_array_equal(getattr(back, name), getattr(compiled, name))
    assert back.highway == compiled.highway
    assert back.crs == compiled.crs
    assert back.synthetic == compiled.synthetic
    assert shapely.equals_exact(back.geoms, compiled.geoms, tolerance=0).all()
    assert len(merged) == sum(1 for h in back.highway if not isinstance(h, str))


def test_the_engine_answers_the_same_from_the_cache(tmp_path: Path) -> None:
    path = OSM_FIXTURES / "West-Oakland.osm.bz2"
    first, summary = load_compiled(path, cache_dir=tmp_path)  # through osmnx, then kept
    assert cached_summary(path, cache_dir=tmp_path) == summary
    kept = sorted(p.suffix for p in tmp_path.iterdir())
    assert ".arrays" in kept
    again, summary_again = load_compiled(path, cache_dir=tmp_path)  # arrays only
    assert summary_again == summary
    mx, my = shapely.get_coordinates(first.geoms[0])[0]  # a road's first point, in metres
    lon, lat = (float(c) for c in first.to_wgs84.transform(mx, my))
    station = StationRecord(1, "s", "outdoor_worker_station", lon, lat)
    answers = []
    for graph in (first, again):
        engine = RoutingEngine(graph, DEFAULT_PROFILES, [station])
        hit = engine.nearest(lon + 0.002, lat, profile="walk", k=1).hits[0]
        answers.append((hit.route.travel_time_s, hit.route.coords.tolist()))
    assert answers[0] == answers[1]


def test_a_served_graph_makes_no_shapely_lines(
    oakland_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    """Snapping, drawing and turns read the coordinates; the lines are made when asked."""
    saved = CompiledGraph.from_graph(oakland_graph).save(tmp_path / "o.arrays")
    compiled = CompiledGraph.load(saved)
    station = StationRecord(
        1, "s", "outdoor_worker_station", *compiled.to_wgs84.transform(*compiled.line_xy[0])
    )
    engine = RoutingEngine(compiled, DEFAULT_PROFILES, [station])
    for profile in ("walk", "e_bike", "drive"):
        hit = engine.nearest(station.lon + 0.002, station.lat, profile=profile, k=1).hits[0]
        assert len(hit.route.drawn) >= 2
        _, areas = engine.isochrones(station.lon, station.lat, [5.0, 60.0], profile=profile)
        assert all(area.area > 0 for _, area in areas)
    assert "geoms" not in compiled.__dict__
    walk = engine.profile_graph("walk")
    assert len(walk.reversed_copies) > 0  # one-way streets walked both ways: copies reversed
    xy, index = shapely.get_coordinates(walk.geoms, return_index=True)
    np.testing.assert_array_equal(xy, walk.line_xy)
    np.testing.assert_array_equal(index, walk.line_index)
    original = CompiledGraph.from_graph(oakland_graph).geoms
    assert shapely.equals_exact(compiled.geoms, original, tolerance=0).all()  # made when asked


@pytest.mark.parametrize("step", [40.0, 7.5])
def test_roads_are_densified_as_geos_does(oakland_graph: nx.MultiDiGraph, step: float) -> None:
    compiled = CompiledGraph.from_graph(oakland_graph)
    some = np.flatnonzero(np.arange(len(compiled.u)) % 3 != 1)
    xy, line = densified(compiled.line_xy, compiled.line_index, some, step)
    want, want_line = shapely.get_coordinates(
        shapely.segmentize(compiled.geoms[some], step), return_index=True
    )
    np.testing.assert_array_equal(xy, want)  # to the last bit
    np.testing.assert_array_equal(line, want_line)


def test_a_damaged_compiled_graph_is_compiled_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = OSM_FIXTURES / "West-Oakland.osm.bz2"
    first, _ = load_compiled(path, cache_dir=tmp_path)
    expected = np.array(first.node_xy)
    (folder,) = tmp_path.glob("*.arrays")
    (folder / "node_xy.npy").write_bytes(b"\x93NUMPY damaged")
    with caplog.at_level(logging.WARNING, logger="yizhan.network"):
        again, _ = load_compiled(path, cache_dir=tmp_path)
    assert "could not be read" in caplog.text
    np.testing.assert_array_equal(again.node_xy, expected)
    (folder / "u.npy").unlink()  # a file gone: compiled again as well
    third, _ = load_compiled(path, cache_dir=tmp_path)
    np.testing.assert_array_equal(third.u, first.u)
