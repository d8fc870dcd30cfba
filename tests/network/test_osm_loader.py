"""OSM files load through osmnx: real fixtures, generated networks, bad files."""

from pathlib import Path

import networkx as nx
import pytest

from geo.errors import ValidationError
from geo.network import graph_from_osm_file, graph_summary, is_synthetic_file, load_graph
from tests.conftest import OSM_FIXTURES


def _classes(data: dict) -> set[str]:
    """Road classes of an edge (osmnx keeps a list where simplification merged ways)."""
    hw = data["highway"]
    return set(hw) if isinstance(hw, list) else {hw}


OAKLAND = OSM_FIXTURES / "West-Oakland.osm.bz2"
BAVARIA = OSM_FIXTURES / "planet_10.068,48.135_10.071,48.137.osm"


@pytest.mark.parametrize("path", [OAKLAND, BAVARIA], ids=["oakland-bz2", "bavaria"])
def test_real_fixture_loads_roads_only(path: Path) -> None:
    G = graph_from_osm_file(path)
    assert G.number_of_nodes() > 10
    assert all("highway" in d for *_, d in G.edges(data=True))
    assert all(d["travel_time"] > 0 for *_, d in G.edges(data=True))
    assert graph_summary(G)["synthetic"] is False
    assert "OpenStreetMap" in graph_summary(G)["data"]


def test_tagged_maxspeed_sets_the_edge_speed() -> None:
    G = graph_from_osm_file(BAVARIA)
    tagged = [d for *_, d in G.edges(data=True) if d.get("maxspeed") == "30"]
    assert tagged
    assert {d["speed_kph"] for d in tagged} == {30.0}


def test_oneway_edges_have_no_reverse_twin() -> None:
    G = graph_from_osm_file(OAKLAND)
    oneway = [(u, v) for u, v, d in G.edges(data=True) if d.get("oneway") is True]
    assert oneway, "the Oakland fixture has one-way streets"
    for u, v in oneway:
        back = G.get_edge_data(v, u) or {}
        assert not any(d.get("osmid") == G[u][v][0].get("osmid") for d in back.values())
    two_way = [(u, v) for u, v, d in G.edges(data=True) if d.get("oneway") is False]
    assert all(G.has_edge(v, u) for u, v in two_way)


def test_generated_network_is_marked_synthetic_and_connected(small_network_file: Path) -> None:
    assert is_synthetic_file(small_network_file)
    G = graph_from_osm_file(small_network_file)
    summary = graph_summary(G)
    assert summary["synthetic"] is True
    assert "not OpenStreetMap" in summary["data"]
    assert nx.is_weakly_connected(G)
    highways = set().union(*(_classes(d) for *_, d in G.edges(data=True)))
    assert {"residential", "motorway", "motorway_link"} <= highways
    assert any(d.get("oneway") is True for *_, d in G.edges(data=True))


def test_motorways_only_meet_streets_at_interchanges(small_network_file: Path) -> None:
    G = graph_from_osm_file(small_network_file)
    for u, v, d in G.edges(data=True):
        if "motorway" in _classes(d):
            for node in (u, v):
                edges = [*G.edges(node, data=True), *G.in_edges(node, data=True)]
                kinds = set().union(*(_classes(e) for *_, e in edges))
                if kinds - {"motorway", "motorway_link"}:  # a junction with streets
                    assert "motorway_link" in kinds, kinds


def test_cache_returns_the_same_graph(small_network_file: Path, tmp_path: Path) -> None:
    first = load_graph(small_network_file, cache_dir=tmp_path)
    assert list(tmp_path.glob("graph-*.pickle"))
    second = load_graph(small_network_file, cache_dir=tmp_path)
    assert nx.utils.graphs_equal(first, second)


def test_missing_file_and_non_osm_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such OSM file"):
        graph_from_osm_file(tmp_path / "nope.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("this is not xml")
    with pytest.raises(ValidationError, match="not a readable OSM XML"):
        graph_from_osm_file(bad)


def test_osm_file_without_roads_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "buildings.osm"
    f.write_text(
        "<?xml version='1.0'?><osm version='0.6'>"
        "<node id='1' lat='22.5' lon='113.0'/><node id='2' lat='22.5' lon='113.001'/>"
        "<node id='3' lat='22.501' lon='113.001'/>"
        "<way id='1'><nd ref='1'/><nd ref='2'/><nd ref='3'/><nd ref='1'/>"
        "<tag k='building' v='yes'/></way></osm>"
    )
    with pytest.raises(ValidationError):
        graph_from_osm_file(f)


CLIPPED = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
<node id="1" lat="22.50" lon="113.000"/>
<node id="2" lat="22.50" lon="113.003"/>
<node id="3" lat="22.502" lon="113.003"/>
<node id="4" lat="22.504" lon="113.003"/>
<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
<way id="11"><nd ref="2"/><nd ref="99"/><nd ref="98"/><tag k="highway" v="residential"/></way>
<way id="12"><nd ref="97"/><nd ref="96"/><tag k="highway" v="residential"/></way>
<way id="13"><nd ref="1"/><nd ref="95"/><nd ref="3"/><nd ref="4"/><tag k="highway" v="tertiary"/>
<tag k="name" v="cut in two"/></way>
</osm>
"""


def test_a_clipped_extract_is_repaired_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "clipped.osm"
    path.write_text(CLIPPED)
    G = graph_from_osm_file(path)
    assert G.graph["repaired"] == {"ways_cut": 3, "ways_dropped": 2}
    names = {d.get("name") for _, _, d in G.edges(data=True)}
    assert "cut in two" in names  # the run 3-4 kept, with its tags
    assert G.number_of_nodes() == 4  # 1-2, and 3-4; nothing invented across the gaps
    assert graph_summary(G)["repaired"] == {"ways_cut": 3, "ways_dropped": 2}
