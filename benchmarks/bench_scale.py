"""The engine at real scale: a 1,000,000-node road graph with 5,000 stations.

A synthetic city: a 1,000 x 1,000 grid of junctions 100 m apart (jittered), every tenth
street a main road, all two-way — 1M nodes and 4M directed edges, built straight into the
engine's arrays. 5,000 stations sit at random junctions. Per-station fields would need
``12 x 5,000 x 1M`` bytes (60 GB) a profile; the engine therefore keeps station labels (the 8
nearest stations of every node), whose memory grows with nodes only. Printed: the labels'
build time and memory, the process's resident memory, and nearest-3 with routes p50/p99
over 1,000 random points.

Run: ``.venv/bin/python -m benchmarks.bench_scale [--side 1000] [--stations 5000]`` (about
three minutes and 8 GB at full size).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely

from benchmarks.common import headline, summary, timings_ms
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord

PROFILE = "e_bike"
SPACING_M = 100.0
NOON = datetime(2026, 11, 25, 12)


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def grid_city(side: int, rng: np.random.Generator) -> CompiledGraph:
    """A ``side x side`` grid of two-way streets in UTM 49N (Jiangmen's zone)."""
    i, j = np.divmod(np.arange(side * side), side)
    xy = np.column_stack([300_000 + j * SPACING_M, 2_480_000 + i * SPACING_M])
    xy += rng.uniform(-20, 20, size=xy.shape)
    ids = np.arange(side * side)
    right = ids[(ids % side) < side - 1]
    up = ids[ids < side * (side - 1)]
    a = np.concatenate([right, up])
    b = np.concatenate([right + 1, up + side])
    u, v = np.concatenate([a, b]), np.concatenate([b, a])
    main = ((i[u] % 10 == 0) & (i[v] % 10 == 0)) | ((j[u] % 10 == 0) & (j[v] % 10 == 0))
    highway: list[str | list[str]] = np.where(main, "primary", "residential").tolist()
    coords = np.stack([xy[u], xy[v]], axis=1)
    geoms = shapely.linestrings(coords)
    length = np.hypot(*(xy[v] - xy[u]).T)
    return CompiledGraph(
        ids,
        xy,
        u,
        v,
        length,
        highway,
        np.full(len(u), np.nan),
        np.zeros(len(u), dtype=bool),
        geoms,
        crs="EPSG:32649",
        synthetic=True,
    )


def main() -> None:
    """Build the city, the engine on labels, and time nearest-3 queries."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--stations", type=int, default=5000)
    args = parser.parse_args()
    rng = np.random.default_rng(5)
    t = time.perf_counter()
    graph = grid_city(args.side, rng)
    print(
        f"grid city: {graph.n_nodes:,} nodes, {len(graph.u):,} edges "
        f"({time.perf_counter() - t:.0f} s); resident {rss_mb():,.0f} MB"
    )
    lon, lat = graph.to_wgs84.transform(*graph.node_xy.T)
    at = rng.choice(graph.n_nodes, args.stations, replace=False)
    stations = [
        StationRecord(int(k), f"s{k}", "outdoor_worker_station", float(lon[n]), float(lat[n]))
        for k, n in enumerate(at)
    ]
    before = rss_mb()
    t = time.perf_counter()
    engine = RoutingEngine(graph, {PROFILE: DEFAULT_PROFILES[PROFILE]}, stations)
    build = time.perf_counter() - t
    field = engine.fields.memory(PROFILE)
    dense_gb = 12 * args.stations * graph.n_nodes / 1e9
    print(
        f"engine with {args.stations:,} stations: {build:.0f} s (profile graph, snapping index "
        f"and labels); labels {field / 1e6:,.0f} MB (per-station fields would need "
        f"{dense_gb:,.0f} GB); resident +{rss_mb() - before:,.0f} MB"
    )
    origins = rng.choice(graph.n_nodes, 1000, replace=False)
    points = np.column_stack([lon[origins] + 0.0002, lat[origins] + 0.0001])  # off the nodes

    def nearest(i: int) -> object:
        return engine.nearest(*points[i], profile=PROFILE, k=3, at=NOON)

    nearest(0)
    p50, p99 = summary("nearest-3 with routes (labels)", timings_ms(nearest, len(points)))
    headline(
        f"{graph.n_nodes:,} nodes x {args.stations:,} stations, turn costs: labels "
        f"{field / 1e6:,.0f} MB (per-station fields would need {dense_gb:,.0f} GB); nearest-3 "
        f"with routes p50 {p50:.2f} ms, p99 {p99:.2f} ms; engine built in {build:.0f} s"
    )


if __name__ == "__main__":
    main()
