"""The full Jiangmen sample network: large enough for performance work, and plainly synthetic."""

import networkx as nx
import pytest

from geo.network import graph_from_osm_file
from geo.settings import Settings
from geo.workspace import ensure_sample_network

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jiangmen_graph(settings: Settings) -> nx.MultiDiGraph:
    return graph_from_osm_file(ensure_sample_network(settings))


def test_at_least_50000_nodes_mostly_strongly_connected(jiangmen_graph: nx.MultiDiGraph) -> None:
    assert jiangmen_graph.number_of_nodes() >= 50_000
    largest = max(nx.strongly_connected_components(jiangmen_graph), key=len)
    assert len(largest) / jiangmen_graph.number_of_nodes() > 0.99


def test_road_classes_and_speeds(jiangmen_graph: nx.MultiDiGraph) -> None:
    classes = {
        d["highway"] for *_, d in jiangmen_graph.edges(data=True) if isinstance(d["highway"], str)
    }
    assert len(classes) >= 9
    assert {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "tertiary",
        "residential",
        "unclassified",
        "cycleway",
        "footway",
    } <= classes
    motorway = [
        d["speed_kph"] for *_, d in jiangmen_graph.edges(data=True) if d["highway"] == "motorway"
    ]
    assert set(motorway) == {100.0}


def test_every_way_says_synthetic(jiangmen_graph: nx.MultiDiGraph, settings: Settings) -> None:
    assert jiangmen_graph.graph["synthetic"] is True
    text = ensure_sample_network(settings).read_text()
    assert text.count("<way ") == text.count('v="yizhan:synthetic"')
    assert "NOT OpenStreetMap" in text[:500]


def test_nodes_lie_in_jiangmen(jiangmen_graph: nx.MultiDiGraph) -> None:
    xs = [d["x"] for _, d in jiangmen_graph.nodes(data=True)]
    ys = [d["y"] for _, d in jiangmen_graph.nodes(data=True)]
    assert min(xs) > 111.99
    assert max(xs) < 113.27
    assert min(ys) > 21.56
    assert max(ys) < 22.87
