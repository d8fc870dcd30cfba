"""Arrays derived from the road graph, kept on disk once and mapped by every later process.

A view, grid, drawing coordinates or road points mapped from the files must hold exactly what
one built in memory holds, and the engine must answer the same from them; a second load must
build nothing; a damaged set is built anew, an unwritable disk serves from memory, and older
sets of the same kind are pruned.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from geo.routing import kept
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.profile_graph import ProfileGraph
from geo.routing.reach import RoadPoints
from geo.routing.snapping import SegmentGrid
from geo.routing.views import profile_view
from tests.routing.conftest import PROFILES


@pytest.fixture
def built(oakland_graph: nx.MultiDiGraph) -> CompiledGraph:
    """West Oakland compiled in memory: every view built here, nothing kept."""
    return CompiledGraph.from_graph(oakland_graph)


def _loaded(built: CompiledGraph, folder: Path) -> CompiledGraph:
    """The graph as a server reads it: saved once, then mapped (derived arrays kept beside)."""
    if not folder.exists():
        built.save(folder)
    return CompiledGraph.load(folder)


def _mapped(array: np.ndarray) -> bool:
    """Whether an array's memory is a file mapping."""
    base: Any = array
    while base is not None:
        if isinstance(base, np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def _station(graph: CompiledGraph, edge: int = 0) -> StationRecord:
    lon, lat = graph.to_wgs84.transform(*graph.line_xy[np.searchsorted(graph.line_index, edge)])
    return StationRecord(1, "s", "outdoor_worker_station", float(lon), float(lat))


def _answers(engine: RoutingEngine, lon: float, lat: float) -> list[Any]:
    out: list[Any] = []
    for profile in PROFILES:
        hit = engine.nearest(lon + 0.002, lat + 0.001, profile=profile, k=1).hits[0]
        out.append((hit.route.travel_time_s, hit.route.distance_m, hit.route.drawn.tolist()))
        _, areas = engine.isochrones(lon, lat, [5.0, 15.0], profile=profile)
        out.append([area.wkb for _, area in areas])
    return out


def test_kept_views_hold_what_built_ones_hold(built: CompiledGraph, tmp_path: Path) -> None:
    graph = _loaded(built, tmp_path / "g.arrays")
    for name in ("node_xy", "u", "v", "length", "line_xy", "line_index", "access"):
        assert _mapped(getattr(graph, name)), name
    assert graph.highway == built.highway
    for profile in PROFILES.values():
        mine, theirs = profile_view(graph, profile), profile_view(built, profile)
        assert type(mine) is type(theirs)
        for name in (*theirs.KEPT, "line_xy", "line_index"):
            np.testing.assert_array_equal(getattr(mine, name), getattr(theirs, name), err_msg=name)
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(mine.matrix, name), getattr(theirs.matrix, name))
        np.testing.assert_array_equal(mine.best_edge.keys, theirs.best_edge.keys)
        np.testing.assert_array_equal(mine.best_edge.edges, theirs.best_edge.edges)
        assert _mapped(mine.tt)
        assert _mapped(mine.matrix.data)
        assert mine.tt.flags.writeable  # as built ones: the compiled functions take them alike
        for a, b in zip(mine.draw_coords, theirs.draw_coords, strict=True):
            np.testing.assert_array_equal(a, b)
    walk = PROFILES["walk"]
    grid = profile_view(graph, walk).grid
    for name, array in profile_view(built, walk).grid.kept_arrays().items():
        np.testing.assert_array_equal(grid.kept_arrays()[name], array, err_msg=name)
    assert _mapped(grid.seg)
    whole, made = RoadPoints.whole(graph, 12.5), RoadPoints.of_graph(built, 12.5)
    for name in ("xy", "along", "first", "count", "flipped", "total"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(made, name))
    assert _mapped(whole.xy)


def test_the_engine_answers_the_same_from_kept_arrays(built: CompiledGraph, tmp_path: Path) -> None:
    graph = _loaded(built, tmp_path / "g.arrays")
    station = _station(built)
    expected = _answers(RoutingEngine(built, PROFILES, [station]), station.lon, station.lat)
    assert _answers(RoutingEngine(graph, PROFILES, [station]), station.lon, station.lat) == expected


def test_a_second_load_builds_nothing(
    built: CompiledGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "g.arrays"
    first = _loaded(built, folder)
    station = _station(built)
    expected = _answers(RoutingEngine(first, PROFILES, [station]), station.lon, station.lat)
    sets = sorted(p.name for p in (folder / "derived").iterdir())
    assert any(name.startswith("view-drive-") for name in sets)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(ProfileGraph, "__init__", refuse)
    monkeypatch.setattr(SegmentGrid, "__init__", refuse)
    monkeypatch.setattr(RoadPoints, "of_graph", refuse)
    again = CompiledGraph.load(folder)
    answers = _answers(RoutingEngine(again, PROFILES, [station]), station.lon, station.lat)
    assert answers == expected
    assert sorted(p.name for p in (folder / "derived").iterdir()) == sets


def test_a_damaged_set_is_built_anew(
    built: CompiledGraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "g.arrays"
    walk = PROFILES["walk"]
    expected = profile_view(_loaded(built, folder), walk).tt.copy()
    (damaged,) = (folder / "derived").glob("view-walk-*")
    (damaged / "tt.npy").write_bytes(b"\x93NUMPY not really")
    with caplog.at_level(logging.WARNING, logger="yizhan.routing"):
        view = profile_view(CompiledGraph.load(folder), walk)
    assert "could not be read" in caplog.text
    np.testing.assert_array_equal(view.tt, expected)
    assert _mapped(view.tt)  # written again, and mapped


def test_an_unwritable_disk_serves_from_memory(
    built: CompiledGraph, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graph = _loaded(built, tmp_path / "g.arrays")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    graph.keep_dir = blocker / "derived"  # cannot be made
    with caplog.at_level(logging.WARNING, logger="yizhan.routing"):
        view = profile_view(graph, PROFILES["e_bike"])
    assert "not kept on disk" in caplog.text
    np.testing.assert_array_equal(view.tt, profile_view(built, PROFILES["e_bike"]).tt)
    assert not _mapped(view.tt)


def test_older_sets_of_a_kind_are_pruned(tmp_path: Path) -> None:
    folder = tmp_path / "derived"
    for i, name in enumerate(("view-walk-old1", "view-walk-old2", "view-drive-other")):
        (folder / name).mkdir(parents=True)
        os.utime(folder / name, (1_000_000 + i, 1_000_000 + i))
    made = kept.kept_arrays(folder / kept.set_name("view-walk", 1), lambda: {"a": np.arange(3)})
    np.testing.assert_array_equal(made["a"], np.arange(3))
    left = sorted(p.name for p in folder.iterdir())
    assert len([n for n in left if n.startswith("view-walk-")]) == kept.KEEP_SETS
    assert "view-walk-old1" not in left  # the oldest went
    assert "view-drive-other" in left  # another kind is not touched
    assert kept.set_name("view-walk", 1) in left


def test_a_set_is_named_by_the_code_that_built_it(monkeypatch: pytest.MonkeyPatch) -> None:
    name = kept.set_name("grid")
    assert kept.set_name("grid", 2.5) != name
    monkeypatch.setattr(kept, "BUILD_DIGEST", "changed")
    assert kept.set_name("grid") != name


def _descriptors(folder: Path) -> int:
    """How many of this process's open files lie in ``folder`` (other tests' threads open and
    close files of their own meanwhile)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        count += target.startswith(f"{folder}/")
    return count


def test_a_released_graph_is_freed_with_its_files_even_once_frozen(
    built: CompiledGraph, tmp_path: Path
) -> None:
    """A server freezes what it loaded (``gc.freeze``): the graph <-> view cycle must not keep
    a dropped graph, and the descriptors of its mapped files, for the life of the process."""
    folder = tmp_path / "g.arrays"
    _loaded(built, folder)  # written once
    station = _station(built)
    assert _descriptors(folder) == 0
    try:
        for _ in range(3):
            graph = CompiledGraph.load(folder)
            engine = RoutingEngine(graph, PROFILES, [station])
            first = _answers(engine, station.lon, station.lat)
            assert _descriptors(folder) > 20  # the sets are mapped: a descriptor each
            gc.freeze()
            graph.release()
            assert _answers(engine, station.lon, station.lat) == first  # mapped again
            graph.release()
            del graph, engine
            assert _descriptors(folder) == 0
    finally:
        gc.unfreeze()


def test_processes_starting_together_build_a_set_once(tmp_path: Path) -> None:
    """The API and its workers start together: one builds a set, the others wait and map it."""
    built_by: list[int] = []

    def make() -> dict[str, np.ndarray]:
        built_by.append(threading.get_ident())
        time.sleep(0.3)  # long enough for every other starter to arrive meanwhile
        return {"a": np.arange(5)}

    folder = tmp_path / "derived" / kept.set_name("grid")
    found: list[dict[str, np.ndarray]] = []
    starters = [
        threading.Thread(target=lambda: found.append(kept.kept_arrays(folder, make)))
        for _ in range(4)
    ]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    assert len(built_by) == 1
    assert len(found) == 4
    for arrays in found:
        np.testing.assert_array_equal(arrays["a"], np.arange(5))
        assert _mapped(arrays["a"])
