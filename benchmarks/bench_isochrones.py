"""Isochrones: yizhan's engine against the osmnx/networkx recipe, on the Jiangmen sample.

The baseline is the way osmnx's examples draw isochrones: ``single_source_dijkstra_path_length``
with a cutoff on a NetworkX graph of travel times, then the reached edges buffered and
merged with shapely. Both draw 5/10/15-minute e-bike areas from the same 20 places, and one
60-minute drive area; printed are p50 times, the ratio, and how much the areas agree.

Run: ``.venv/bin/python -m benchmarks.bench_isochrones``.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import shapely

from benchmarks.common import headline, load_sample

MINUTES = [5, 10, 15]


def networkx_areas(
    H: nx.DiGraph, G: nx.MultiDiGraph, source: int, minutes: list[int]
) -> list[shapely.Geometry]:
    """Reached edges within each time, buffered ~80 m and merged (WGS-84, degrees)."""
    reach = nx.single_source_dijkstra_path_length(H, source, cutoff=max(minutes) * 60.0)
    out = []
    for m in minutes:
        inside = {n for n, t in reach.items() if t <= m * 60.0}
        lines = [
            shapely.LineString(
                [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
            )
            for u, v in H.subgraph(inside).edges()
        ]
        out.append(shapely.union_all(shapely.buffer(lines, 0.0008, quad_segs=2)))
    return out


def main() -> None:
    sample = load_sample()
    engine, G = sample.engine, sample.graph
    profile = engine.profiles["e_bike"]
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        speed = profile.edge_speed(d["highway"], d.get("speed_kph"))
        if speed:
            t = d["length"] / (speed / 3.6)
            if not H.has_edge(u, v) or H[u][v]["weight"] > t:
                H.add_edge(u, v, weight=t)
    rng = np.random.default_rng(1)
    nodes = list(H.nodes)
    picks = [nodes[i] for i in rng.choice(len(nodes), 20, replace=False)]
    ours, theirs, agree = [], [], []
    for n in picks:
        lon, lat = G.nodes[n]["x"], G.nodes[n]["y"]
        t = time.perf_counter()
        _, areas = engine.isochrones(lon, lat, MINUTES, profile="e_bike")
        ours.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ref = networkx_areas(H, G, n, MINUTES)
        theirs.append((time.perf_counter() - t) * 1000)
        a, b = areas[-1][1], ref[-1]
        agree.append(shapely.intersection(a, b).area / shapely.union(a, b).area)
    t = time.perf_counter()
    engine.isochrones(112.95, 22.45, [60], profile="drive")
    drive_ms = (time.perf_counter() - t) * 1000
    y50, x50 = float(np.median(ours)), float(np.median(theirs))
    print("\nisochrones, e-bike 5/10/15 min from 20 places (Jiangmen sample)")
    print(f"  yizhan   p50 {y50:8.1f} ms   p99 {np.percentile(ours, 99):8.1f} ms")
    print(f"  networkx p50 {x50:8.1f} ms   p99 {np.percentile(theirs, 99):8.1f} ms")
    print(
        f"  speed-up p50 {x50 / y50:6.1f}x;  15-min areas agree (IoU) median {np.median(agree):.2f}"
    )
    print(f"  one 60-minute drive area: {drive_ms:.0f} ms")
    headline(
        f"e-bike 5/10/15 min from 20 places p50 {y50:.1f} ms, p99 {np.percentile(ours, 99):.0f} "
        f"ms (the first densifies the roads once); {x50 / y50:.0f}x the osmnx/networkx recipe "
        f"(p50 {x50:.0f} ms), 15-minute areas agree (IoU) {np.median(agree):.2f}; one "
        f"60-minute drive area {drive_ms:.0f} ms"
    )


if __name__ == "__main__":
    main()
