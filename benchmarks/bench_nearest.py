"""Nearest-3 stations with routes on the Jiangmen sample: yizhan vs networkx vs pgRouting vs HTTP.

All three engines answer the same questions on the same graph (the e-bike travel-time graph,
stations joined to it as virtual nodes exactly as the engine snaps them), from origins at
random graph nodes; the benchmark first checks that the travel times are identical, then
prints compute p50/p99 and the ratios. HTTP end-to-end latency is measured against the
running API (uvicorn, one worker) on loopback.

Run: ``.venv/bin/python benchmarks/bench_nearest.py`` (needs the embedded database for
pgRouting; about two minutes).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime

import httpx
import networkx as nx
import numpy as np
from sqlalchemy import text

from benchmarks.common import headline, load_sample, summary, timings_ms
from geo.db.connection import (
    database_url,
    drop_database,
    embedded_cluster,
    ensure_database,
    make_engine,
)
from geo.routing.views import profile_view
from geo.settings import PROJECT_ROOT, Settings

PROFILE = "e_bike"
K = 3
NOON = datetime(2026, 11, 25, 12)


def reference_graph(sample, origins: list[tuple[float, float]]) -> tuple[nx.DiGraph, int, int]:
    """The engine's search graph as a networkx DiGraph, stations and origins as virtual nodes.

    With turn costs the search graph's nodes are edge states (``geo.routing.turns``); each
    origin joins it through the engine's own ways in, each station through its ways out.
    Returns the graph, the first station node and the first origin node.
    """
    engine = sample.engine
    pg = engine.profile_graph(PROFILE)
    coo = pg.matrix.tocoo()
    H = nx.DiGraph()
    H.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    n = pg.n_search
    fld = engine.fields[PROFILE]
    for row, snap in enumerate(fld.snaps):
        for node, cost in pg.exits(snap):
            H.add_edge(node, n + row, weight=max(cost, 1e-9))
    first_origin = n + len(fld.snaps)
    for i, (lon, lat) in enumerate(origins):
        snap, _ = engine.locate(lon, lat, PROFILE)
        for node, cost in pg.entries(snap):
            H.add_edge(first_origin + i, node, weight=max(cost, 1e-9))
    return H, n, first_origin


def nx_nearest(H: nx.DiGraph, n: int, end: int, source: int) -> list[tuple[float, int]]:
    """The K nearest station nodes (``n`` up to ``end``) from ``source``."""
    dist, _paths = nx.single_source_dijkstra(H, source)  # one search, with routes
    return sorted((d, v - n) for v, d in dist.items() if n <= v < end)[:K]


def main() -> None:
    settings = Settings()
    sample = load_sample(settings)
    engine, compiled = sample.engine, sample.compiled
    rng = np.random.default_rng(1)
    pg = profile_view(compiled, engine.profiles[PROFILE])
    start_nodes = np.unique(pg.u[pg.usable])
    origins = [int(x) for x in rng.choice(start_nodes, size=1000, replace=False)]
    lonlat = [compiled.to_wgs84.transform(*compiled.node_xy[o]) for o in origins]
    fld = engine.fields[PROFILE]

    def ours(i: int):
        return engine.nearest(*lonlat[i], profile=PROFILE, k=K, at=NOON)

    ours(0)
    print(f"\nnearest-{K} with route, profile {PROFILE}")
    y_ms = timings_ms(ours, len(origins))
    y50, y99 = summary("yizhan (precomputed station fields)", y_ms)

    n_nx, n_pgr = 30, 20
    H, n, first_origin = reference_graph(sample, lonlat[: max(n_nx, n_pgr)])
    states = pg.n_search != compiled.n_nodes
    kind = "edge states (turn costs and restrictions)" if states else "road nodes"
    print(f"  search graph: {pg.n_search:,} {kind}")
    answers_nx = {}
    nx_ms = timings_ms(
        lambda i: answers_nx.__setitem__(i, nx_nearest(H, n, first_origin, first_origin + i)), n_nx
    )
    x50, x99 = summary("networkx Dijkstra per query", nx_ms)

    pgr50 = pgr99 = float("nan")
    answers_pgr: dict[int, list[tuple[float, int]]] = {}
    if settings.embedded:
        embedded_cluster(settings).up()
    url = database_url(settings, "yizhan_bench")
    drop_database(url)
    ensure_database(url)
    db = make_engine(url)
    try:
        coo = H.edges(data="weight")
        with db.begin() as conn:
            conn.execute(
                text("CREATE TABLE edges (id bigserial, source bigint, target bigint, cost float8)")
            )
            raw = conn.connection.dbapi_connection
            with (
                raw.cursor() as cur,
                cur.copy("COPY edges (source, target, cost) FROM STDIN") as cp,
            ):
                for u, v, w in coo:
                    cp.write_row((u + 1, v + 1, w))
        targets = [n + r + 1 for r in range(len(fld.snaps))]
        sql = text(
            "SELECT end_vid, agg_cost FROM pgr_dijkstraNear("
            "'SELECT id, source, target, cost FROM edges', :start, :ends, directed => true, cap => :k) "
            "WHERE edge = -1 ORDER BY agg_cost"
        )
        with db.connect() as conn:

            def pgr(i: int):
                start = first_origin + i + 1
                rows = conn.execute(sql, {"start": start, "ends": targets, "k": K}).all()
                answers_pgr[i] = [(float(c), int(e) - n - 1) for e, c in rows]

            pgr(0)
            pgr_ms = timings_ms(pgr, n_pgr)
        pgr50, pgr99 = summary("pgRouting pgr_dijkstraNear per query", pgr_ms)
    finally:
        db.dispose()
        drop_database(url)

    # same answers: travel times identical to networkx and pgRouting
    worst = 0.0
    for i, ref in {**answers_nx}.items():
        got = ours(i)
        times = [h.route.travel_time_s for h in got.hits]
        worst = max(worst, max(abs(a - b) for a, (b, _) in zip(times, ref, strict=True)))
    for i, ref in answers_pgr.items():
        got = ours(i)
        times = [h.route.travel_time_s for h in got.hits]
        worst = max(worst, max(abs(a - b) for a, (b, _) in zip(times, ref, strict=True)))
    print(
        f"  same answers: max |Δ travel time| over {len(answers_nx) + len(answers_pgr)} "
        f"checked queries = {worst:.2e} s"
    )
    assert worst < 1e-6, "engines disagree"

    h50, h99 = http_latency(settings, lonlat[:300])
    print(
        "\nfigures (targets: compute p50 ≤ 1 ms; ≥ 100× networkx and pgRouting; HTTP p50 ≤ 10 ms)"
    )
    print(f"  yizhan compute p50 {y50:.3f} ms, p99 {y99:.3f} ms")
    print(f"  speed-up vs networkx  p50: {x50 / y50:8.0f}×   p99: {x99 / y99:8.0f}×")
    print(f"  speed-up vs pgRouting p50: {pgr50 / y50:8.0f}×   p99: {pgr99 / y99:8.0f}×")
    print(f"  HTTP end-to-end p50 {h50:.2f} ms, p99 {h99:.2f} ms")
    headline(
        f"e-bike with turn costs: compute p50 {y50:.2f} ms, p99 {y99:.2f} ms; "
        f"{x50 / y50:,.0f}x networkx and {pgr50 / y50:,.0f}x pgRouting (`pgr_dijkstraNear`) on "
        f"the same search graph, same times (max Δ {worst:.0e} s); HTTP p50 {h50:.1f} ms, "
        f"p99 {h99:.1f} ms"
    )


def http_latency(settings: Settings, points: list[tuple[float, float]]) -> tuple[float, float]:
    """p50/p99 of GET /v1/stations/nearest through a real uvicorn server on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # rate limiting off: this measures latency, and the benchmark is one client
    env = {**os.environ, "PYTHONHASHSEED": "0", "YIZHAN_RATE_LIMIT_PER_MINUTE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-load", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            else:
                raise RuntimeError("the API did not become ready")

            def call(i: int) -> None:
                lon, lat = points[i % len(points)]
                r = client.get(
                    "/v1/stations/nearest",
                    params={"lat": lat, "lon": lon, "k": K, "profile": PROFILE},
                )
                r.raise_for_status()

            for i in range(20):
                call(i)
            ms = timings_ms(call, len(points))
        print()
        return summary("HTTP GET /v1/stations/nearest (1 worker)", ms)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
