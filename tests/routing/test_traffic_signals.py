"""Traffic signals cost time: every ``highway=traffic_signals`` node a way passes adds a wait.

A hand-made extract: one street through three junctions with signals in the middle of a
block (a node osmnx simplifies away) and at a junction, and a parallel street without any.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geo.network import graph_from_osm_file
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.views import profile_view


def _extract(path: Path) -> Path:
    nodes = {
        # lit street: 1 - 2(signal, mid-block) - 3 - 4(signal) ; plain street: 11 - 12 - 13
        1: (22.500, 113.000, False),
        2: (22.500, 113.001, True),
        3: (22.500, 113.002, False),
        4: (22.500, 113.003, True),
        11: (22.502, 113.000, False),
        12: (22.502, 113.002, False),
        13: (22.502, 113.003, False),
    }
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for k, (lat, lon, signal) in nodes.items():
        tag = '<tag k="highway" v="traffic_signals"/>' if signal else ""
        lines.append(f'<node id="{k}" lat="{lat}" lon="{lon}">{tag}</node>')
    ways = {100: [1, 2, 3, 4], 101: [11, 12, 13], 102: [3, 12]}  # 102 makes 3 and 12 junctions
    for way, refs in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        lines.append(f'<way id="{way}">{nds}<tag k="highway" v="residential"/></way>')
    lines.append("</osm>")
    path.write_text("\n".join(lines))
    return path


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> CompiledGraph:
    G = graph_from_osm_file(_extract(tmp_path_factory.mktemp("signals") / "lit.osm"))
    return CompiledGraph.from_graph(G)


def _edge(graph: CompiledGraph, a: int, b: int) -> int:
    ids = graph.node_ids
    found = np.flatnonzero((ids[graph.u] == a) & (ids[graph.v] == b))
    assert len(found) == 1
    return int(found[0])


def test_signals_are_counted_where_an_edge_arrives_even_mid_block(graph: CompiledGraph) -> None:
    assert graph.signals[_edge(graph, 1, 3)] == 1  # node 2 was simplified away, its signal kept
    assert graph.signals[_edge(graph, 3, 1)] == 1  # both directions pass it
    assert graph.signals[_edge(graph, 3, 4)] == 1  # arriving at the lit junction
    assert graph.signals[_edge(graph, 4, 3)] == 0  # leaving it: the wait was counted on arrival
    assert graph.signals[_edge(graph, 11, 12)] == 0


@pytest.mark.parametrize("profile", ["e_bike", "walk", "drive"])
def test_each_signal_adds_the_profiles_wait(graph: CompiledGraph, profile: str) -> None:
    travel = DEFAULT_PROFILES[profile]
    pg = profile_view(graph, travel)
    assert travel.signal_s > 0
    for a, b in ((1, 3), (3, 4), (4, 3), (11, 12)):
        e = _edge(graph, a, b)
        speed = travel.edge_speed(graph.highway[e], None)
        assert speed is not None
        moving = graph.length[e] / (speed / 3.6)
        assert pg.tt[e] == pytest.approx(moving + graph.signals[e] * travel.signal_s)


def test_a_profile_of_the_same_name_with_other_costs_gets_a_view_of_its_own(
    graph: CompiledGraph,
) -> None:
    """Views are kept per graph by everything that sets their times, not by name alone (a
    calibration or ``YIZHAN_PROFILE_SPEEDS`` would otherwise be served the first one's)."""
    import dataclasses

    travel = DEFAULT_PROFILES["e_bike"]
    quiet = dataclasses.replace(travel, signal_s=0.0)
    faster = dataclasses.replace(travel, speeds_kph={**travel.speeds_kph, "residential": 25})
    e = _edge(graph, 3, 4)
    base = profile_view(graph, travel).tt[e]
    assert profile_view(graph, quiet).tt[e] == pytest.approx(base - travel.signal_s)
    assert profile_view(graph, faster).tt[e] < base
    assert profile_view(graph, dataclasses.replace(travel)) is profile_view(graph, travel)
