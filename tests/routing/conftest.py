"""Routing fixtures: small real and generated graphs, and an independent networkx reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from geo.network import graph_from_osm_file
from geo.profiles import DEFAULT_PROFILES, TravelProfile
from geo.routing.compiled import CompiledGraph
from tests.conftest import OSM_FIXTURES


@pytest.fixture(scope="session")
def small_graph(small_network_file: Path) -> nx.MultiDiGraph:
    return graph_from_osm_file(small_network_file)


@pytest.fixture(scope="session")
def small_compiled(small_graph: nx.MultiDiGraph) -> CompiledGraph:
    return CompiledGraph.from_graph(small_graph)


@pytest.fixture(scope="session")
def oakland_graph() -> nx.MultiDiGraph:
    return graph_from_osm_file(OSM_FIXTURES / "West-Oakland.osm.bz2")


def reference_digraph(G: nx.MultiDiGraph, profile: TravelProfile) -> nx.DiGraph:
    """Independent reference: a DiGraph of profile travel times (fastest parallel edge)."""
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    for u, v, d in G.edges(data=True):
        speed = profile.edge_speed(d["highway"], d.get("speed_kph"))
        if speed is None:
            continue
        tt = d["length"] / (speed / 3.6)
        pairs = [(u, v)]
        if not profile.respect_oneway and d.get("oneway"):
            pairs.append((v, u))
        for a, b in pairs:
            if not H.has_edge(a, b) or H[a][b]["tt"] > tt:
                H.add_edge(a, b, tt=tt)
    return H


def node_lonlat(G: nx.MultiDiGraph, n: int) -> tuple[float, float]:
    return G.nodes[n]["x"], G.nodes[n]["y"]


def sample_nodes(G: nx.MultiDiGraph, count: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    nodes = sorted(G.nodes)
    return [int(n) for n in rng.choice(nodes, size=count, replace=False)]


#: the everyday profiles (the truck, built only when asked for, has tests of its own)
PROFILES = {name: p for name, p in DEFAULT_PROFILES.items() if not p.on_demand}
#: the profiles with free turns: what a node-based reference (networkx on nodes) can check;
#: the turn costs have their own reference (``test_turns.py``, a graph of edge states)
FREE_TURNS = {name: dataclasses.replace(p, turns=None) for name, p in DEFAULT_PROFILES.items()}
