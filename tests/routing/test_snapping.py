"""Points meet the nearest usable road: the segment grid answers as GEOS measures.

Compared with shapely (GEOS) on the real Helsinki extract, for random points in and around it
(and exactly at its junctions): the same distance to the road, an edge at that distance, the
lowest-numbered one on a tie, the same point along it, nothing beyond the distance asked, and
never an edge the profile may not use.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.snapping import SegmentGrid
from geo.routing.views import profile_view
from geo.settings import PROJECT_ROOT, Settings

HELSINKI = PROJECT_ROOT / "data" / "osm_fixtures" / "Helsinki.osm.pbf"


@pytest.fixture(scope="module")
def graph() -> CompiledGraph:
    compiled, _ = load_compiled(HELSINKI, cache_dir=Settings().cache_dir)
    return compiled


def _points(graph: CompiledGraph, n: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(5)
    lo, hi = graph.node_xy.min(axis=0) - 400, graph.node_xy.max(axis=0) + 400
    xy = lo + rng.random((n, 2)) * (hi - lo)
    xy[:300] = graph.node_xy[rng.choice(graph.n_nodes, 300)]  # at junctions: ties
    return xy


@pytest.mark.parametrize("profile", ["e_bike", "walk", "drive"])
def test_the_nearest_usable_road_is_the_one_geos_measures(
    graph: CompiledGraph, profile: str
) -> None:
    pg = profile_view(graph, DEFAULT_PROFILES[profile])
    m = len(graph.u)
    usable = pg.usable[:m]
    xy = _points(graph)
    found = SegmentGrid.of_lines(graph.geoms).nearest(xy, usable, max_distance_m=250.0)
    lines = graph.geoms[np.flatnonzero(usable)]
    ids = np.flatnonzero(usable)
    for i, (x, y) in enumerate(xy):
        d = shapely.distance(lines, shapely.Point(x, y))
        best = float(d.min())
        if best > 250.0:
            assert found.edge[i] == -1, i
            continue
        edge = int(found.edge[i])
        assert usable[edge], i
        assert found.distance_m[i] == pytest.approx(best, abs=1e-6), i
        assert float(shapely.distance(graph.geoms[edge], shapely.Point(x, y))) <= best + 1e-6
        ties = ids[d <= best + 1e-9]
        assert edge == ties.min() or best > 0, i  # at a junction: the lowest edge
        along = float(shapely.line_locate_point(graph.geoms[edge], shapely.Point(x, y)))
        assert found.along_m[i] == pytest.approx(along, abs=1e-6), i
    assert (found.edge == -1).any()
    assert (found.edge >= 0).sum() > 1000


def test_a_snap_through_the_profile_is_a_point_on_its_road(graph: CompiledGraph) -> None:
    pg = profile_view(graph, DEFAULT_PROFILES["e_bike"])
    for x, y in _points(graph, 400)[300:]:
        try:
            snap = pg.snap(float(x), float(y), max_distance_m=250.0)
        except Exception:
            continue
        line = graph.geoms[snap.edge]
        on = shapely.Point(*snap.xy)
        assert float(shapely.distance(line, on)) < 1e-6
        expected = shapely.line_interpolate_point(line, snap.fraction, normalized=True)
        assert float(shapely.distance(expected, on)) < 0.51  # nodes: within half a metre


def test_the_grid_is_smaller_than_the_r_trees_it_replaces(graph: CompiledGraph) -> None:
    grid = SegmentGrid.of_lines(graph.geoms)
    coords = shapely.get_coordinates(graph.geoms)
    assert grid.nbytes < 40 * len(coords) * 2  # a few numbers a segment, once per graph
