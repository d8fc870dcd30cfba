"""Shared set-up of the benchmarks: the Jiangmen sample graph, stations and timing helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from geo.network import load_graph
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.sample.build import read_sample_layer
from geo.settings import Settings
from geo.workspace import ensure_sample_network


@dataclass
class Sample:
    """The sample graph compiled, its stations and an engine over them."""

    graph: nx.MultiDiGraph
    compiled: CompiledGraph
    stations: list[StationRecord]
    engine: RoutingEngine


def load_sample(settings: Settings | None = None) -> Sample:
    """Build (or read from cache) the Jiangmen sample graph and a routing engine over it."""
    settings = settings or Settings()
    t = time.perf_counter()
    G = load_graph(ensure_sample_network(settings), cache_dir=settings.cache_dir)
    compiled = CompiledGraph.from_graph(G)
    stations = sample_stations(settings)
    engine = RoutingEngine(compiled, DEFAULT_PROFILES, stations)
    print(
        f"sample graph: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
        f"{len(stations)} stations (all open: opening hours are not what is measured); "
        f"set-up {time.perf_counter() - t:.1f} s"
    )
    return Sample(G, compiled, stations, engine)


def sample_stations(settings: Settings) -> list[StationRecord]:
    """The sample's stations as the engine knows them (all open: hours are not measured)."""
    st = read_sample_layer(settings.region_dir / "synthetic", "stations")
    return [
        StationRecord(
            i + 1,
            r.name,
            r.kind,
            r.geometry.x,
            r.geometry.y,
            frozenset(r.amenities),
            "24/7",
            "active",
        )
        for i, r in enumerate(st.itertuples())
    ]


def timings_ms(fn: Callable[[int], object], n: int) -> np.ndarray:
    """Call ``fn(i)`` for i in range(n); per-call wall times in milliseconds."""
    out = np.empty(n)
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out[i] = (time.perf_counter() - t) * 1000
    return out


def headline(text: str) -> None:
    """Print the benchmark's figures for the README's table (``benchmarks/report.py``)."""
    print(f"README: {text}", flush=True)


def summary(name: str, ms: np.ndarray) -> tuple[float, float]:
    """Print and return p50/p99 of a timing array."""
    p50, p99 = float(np.percentile(ms, 50)), float(np.percentile(ms, 99))
    print(f"  {name:<44} n={len(ms):>5}  p50 {p50:9.3f} ms   p99 {p99:9.3f} ms")
    return p50, p99
