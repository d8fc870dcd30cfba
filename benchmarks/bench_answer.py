"""One rider's answer, stage by stage: where the microseconds of a nearest-3 go.

For the e-bike on the Jiangmen sample and on central Helsinki, the same 2,000 origins are
answered stage by stage (p50 µs of each, in one run):

- **check and project**: lon/lat validated, the service region, WGS-84 → metric (pyproj);
- **snap**: onto the nearest usable road — the compiled segment grid (now) beside shapely's
  STRtree (the old path, built here as the engine used to);
- **lookup**: the three fastest-reached open stations from the precomputed fields;
- **draw**: the three routes' lines;
- **whole answer**: ``RoutingEngine.nearest`` as the API calls it (routes drawn).

#34 asks for 40 µs or less for the whole answer in one compiled call; this prints how far
each stage is from that.
Run: ``.venv/bin/python -m benchmarks.bench_answer``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely

from benchmarks.common import headline
from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import NODE_TOLERANCE_M, Snap
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.views import profile_view
from geo.sample.build import read_sample_layer
from geo.settings import PROJECT_ROOT, Settings
from geo.workspace import ensure_sample_network

PROFILE = "e_bike"
NOON = datetime(2026, 11, 25, 12)
N = 2000
HELSINKI = PROJECT_ROOT / "data" / "osm_fixtures" / "Helsinki.osm.pbf"


def p50_us(fn: Callable[[int], object], n: int) -> float:
    """Median microseconds of ``fn(i)`` over ``i < n`` (after one warm call)."""
    fn(0)
    out = np.empty(n)
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out[i] = time.perf_counter() - t
    return float(np.median(out) * 1e6)


def stages(name: str, path: Path, stations: np.ndarray | None) -> dict[str, float]:
    """Each stage's p50 (µs) on one network."""
    settings = Settings()
    compiled, _ = load_compiled(path, cache_dir=settings.cache_dir)
    pg = profile_view(compiled, DEFAULT_PROFILES[PROFILE])
    rng = np.random.default_rng(3)
    nodes = np.unique(pg.u[pg.usable])
    lon, lat = compiled.to_wgs84.transform(*compiled.node_xy[nodes].T)
    if stations is None:
        stations = np.column_stack([lon, lat])[rng.choice(len(nodes), 60, replace=False)]
    records = [
        StationRecord(i, f"s{i}", "outdoor_worker_station", float(x), float(y))
        for i, (x, y) in enumerate(stations)
    ]
    engine = RoutingEngine(compiled, {PROFILE: DEFAULT_PROFILES[PROFILE]}, records)
    pick = rng.choice(len(nodes), N)
    jitter = rng.normal(0, 0.0004, (N, 2))  # riders near, not on, the road
    origins = np.column_stack([lon[pick], lat[pick]]) + jitter
    metric = np.column_stack(compiled.from_wgs84.transform(origins[:, 0], origins[:, 1]))
    limit = engine.max_snap_m
    usable = np.flatnonzero(pg.usable[: len(compiled.u)])
    tree = shapely.STRtree(compiled.geoms[usable])  # the old path: an R-tree per profile

    def old_snap(i: int) -> Snap:
        point = shapely.Point(*metric[i])
        hits, dist = tree.query_nearest(
            point, max_distance=limit, return_distance=True, all_matches=True
        )
        edge = int(usable[int(np.min(hits))])
        line = compiled.geoms[edge]
        along = float(shapely.line_locate_point(line, point))
        total = float(line.length) or 1.0
        along = 0.0 if along < NODE_TOLERANCE_M else along
        snapped = shapely.line_interpolate_point(line, along)
        return Snap(edge, along / total, float(dist[0]), (snapped.x, snapped.y))

    snaps = [pg.snap(*metric[i], max_distance_m=limit) for i in range(N)]
    allowed = {"kinds": (), "amenities": (), "at": NOON, "include_closed": False}
    found = [engine.fields.nearest(PROFILE, snaps[i], 3, allowed) for i in range(N)]
    routes = [[(snaps[i], r) for r in found[i]] for i in range(N)]

    def draw(i: int) -> None:
        for snap, r in routes[i]:
            if r.nodes is None:
                pg.direct_geometry(snap, r.snap)
            else:
                pg.path_geometry(snap, r.nodes, r.snap)

    def project(i: int) -> object:
        engine.in_region(*origins[i])
        return compiled.to_metric(*origins[i])

    out = {
        "check and project": p50_us(project, N),
        "snap (segment grid)": p50_us(lambda i: pg.snap(*metric[i], max_distance_m=limit), N),
        "snap (STRtree, old)": p50_us(old_snap, N),
        "lookup (fields)": p50_us(
            lambda i: engine.fields.nearest(PROFILE, snaps[i], 3, allowed), N
        ),
        "draw 3 routes": p50_us(draw, N),
        "whole answer": p50_us(
            lambda i: engine.nearest(*origins[i], profile=PROFILE, k=3, at=NOON), N
        ),
    }
    print(f"\n{name}: {compiled.n_nodes:,} nodes, {len(records)} stations, {N} riders")
    for stage, us in out.items():
        print(f"  {stage:<24}{us:>8.1f} µs")
    return out


def main() -> None:
    """Both networks, then the README line."""
    settings = Settings()
    st = read_sample_layer(settings.region_dir / "synthetic", "stations")
    sample = np.column_stack([st.geometry.x, st.geometry.y])
    found = {
        "jiangmen sample": stages("jiangmen sample", ensure_sample_network(settings), sample),
        "helsinki": stages("helsinki", HELSINKI, None),
    }
    print("\nwhole answer: RoutingEngine.nearest, k=3, routes drawn; target (#34) ≤ 40 µs")
    headline(
        "; ".join(
            f"{name}: whole answer {s['whole answer']:.0f} µs p50 (snap "
            f"{s['snap (segment grid)']:.1f} µs, was {s['snap (STRtree, old)']:.1f} with the "
            f"STRtree; lookup {s['lookup (fields)']:.1f}; draw {s['draw 3 routes']:.1f}; "
            f"project {s['check and project']:.1f})"
            for name, s in found.items()
        )
    )


if __name__ == "__main__":
    main()
