"""yizhan against OSRM, Valhalla and igraph on a real OSM extract and on the Jiangmen sample.

One run, same questions, same stations and origins for every engine:

- **nearest-3 stations with routes** (p50/p99): yizhan's precomputed station fields; the peers
  answer with a one-to-all-stations table and then the three routes with full geometry;
- **one-to-60 table** (p50), **a batch of 500 origins** to every station (one request);
- **isochrones** 5/10/15 minutes (p50; Valhalla has them, OSRM does not);
- **build time** (from the OSM file), **memory** (resident growth of the loaded engine);
- **top-1 agreement** (same nearest station) and **median ETA ratio** (yizhan / peer).

Engines: yizhan ``e_bike``; OSRM's stock ``bicycle.lua`` (MLD; CH too on the small extract —
CH contraction of the 65k-node synthetic grid takes ~20 minutes on 2 cores); Valhalla's
``bicycle`` costing with ``cycling_speed`` 25 km/h (China's e-bike cap, GB 17761-2018) and
``bicycle_type`` Hybrid; igraph's Dijkstra on yizhan's own e-bike graph. The peers need
Python >= 3.12 wheels, so they run in a venv of their own (``.yizhan/peers``, made here with
pyenv's or the system's ``python3.12``; ``YIZHAN_PEERS_PYTHON`` names another) through
``benchmarks/peers_runner.py``.

Run: ``.venv/bin/python -m benchmarks.bench_peers [--quick]`` (about five minutes; ``--quick``
only the real extract).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import headline, summary, timings_ms
from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.table import point_table
from geo.routing.views import profile_view
from geo.sample.build import read_sample_layer
from geo.settings import PROJECT_ROOT, Settings
from geo.workspace import ensure_sample_network

PROFILE = "e_bike"
K = 3
NOON = datetime(2026, 11, 25, 12)
MINUTES = [5, 10, 15]
PEERS_VENV = PROJECT_ROOT / ".yizhan" / "peers"
PEER_PACKAGES = ["osrm-bindings", "pyvalhalla", "igraph", "numpy"]
VALHALLA_BICYCLE = {"bicycle_type": "Hybrid", "cycling_speed": 25.0}
HELSINKI = PROJECT_ROOT / "data" / "osm_fixtures" / "Helsinki.osm.pbf"


def peers_python() -> Path:
    """The peers' venv interpreter, made (and filled from PyPI) the first time."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        found = os.environ.get("YIZHAN_PEERS_PYTHON") or shutil.which("python3.12")
        candidates = [found] if found else []
        candidates += sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.1[2-9]*/bin/python3")))
        for candidate in candidates:
            if (
                candidate
                and subprocess.run([candidate, "--version"], capture_output=True).returncode == 0
            ):
                subprocess.run([candidate, "-m", "venv", str(PEERS_VENV)], check=True)
                break
        else:
            msg = "the peers need Python >= 3.12: set YIZHAN_PEERS_PYTHON"
            raise SystemExit(msg)
    have = subprocess.run([python, "-c", "import osrm, valhalla, igraph"], capture_output=True)
    if have.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return python


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def resident_growth(path: Path, cache: Path) -> float:
    """Resident memory (MB) a fresh process grows by loading the compiled graph and an engine.

    A station every ~75 nodes, as in :func:`dataset` (memory depends on their number).
    """
    probe = f"""
import numpy as np
from pathlib import Path
from benchmarks.bench_peers import rss_mb
from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES
from geo.routing.engine import RoutingEngine, StationRecord
before = rss_mb()
compiled, _ = load_compiled(Path({str(path)!r}), cache_dir=Path({str(cache)!r}))
xy = compiled.to_wgs84.transform(*compiled.node_xy[:: 75].T)
records = [StationRecord(i, "s", "k", float(x), float(y)) for i, (x, y) in enumerate(zip(*xy))]
RoutingEngine(compiled, {{"{PROFILE}": DEFAULT_PROFILES["{PROFILE}"]}}, records)
print(rss_mb() - before)
"""
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def as_pbf(path: Path, work: Path) -> Path:
    """The extract as PBF (Valhalla reads nothing else), converted with osmium when needed."""
    if path.name.endswith(".pbf"):
        return path
    target = work / (path.stem.replace(".osm", "") + ".osm.pbf")
    subprocess.run(["osmium", "cat", str(path), "-o", str(target), "--overwrite"], check=True)
    return target


def dataset(
    name: str, path: Path, stations_lonlat: np.ndarray | None, work: Path
) -> dict[str, Any]:
    """yizhan's figures on one extract, and the job the peers answer."""
    print(f"\n=== {name}: {path.name}")
    cache = work / f"cache-{name}"
    t = time.perf_counter()
    load_compiled(path, cache_dir=cache)  # osmnx, then the compiled arrays: the build
    build_s = time.perf_counter() - t
    memory = resident_growth(path, cache)
    t = time.perf_counter()
    compiled, _summary = load_compiled(path, cache_dir=cache)  # what a server start does
    pg = profile_view(compiled, DEFAULT_PROFILES[PROFILE])
    rng = np.random.default_rng(7)
    usable = np.unique(pg.u[pg.usable])
    lonlat = np.column_stack(compiled.to_wgs84.transform(*compiled.node_xy[usable].T))
    if stations_lonlat is None:  # a station every ~75 nodes, at road nodes
        stations_lonlat = lonlat[
            rng.choice(len(lonlat), size=max(len(lonlat) // 75, 10), replace=False)
        ]
    records = [
        StationRecord(i, f"s{i}", "outdoor_worker_station", float(x), float(y))
        for i, (x, y) in enumerate(stations_lonlat)
    ]
    engine = RoutingEngine(compiled, {PROFILE: DEFAULT_PROFILES[PROFILE]}, records)
    start_s = time.perf_counter() - t
    print(
        f"{compiled.n_nodes:,} nodes, {len(compiled.u):,} edges, {len(records)} stations; "
        f"build {build_s:.1f} s, start from arrays {start_s:.2f} s, +{memory:.0f} MB resident"
    )
    origins = lonlat[rng.choice(len(lonlat), size=min(500, len(lonlat)), replace=False)]
    targets = lonlat[rng.choice(len(lonlat), size=60, replace=False)]
    iso_origins = origins[:20]

    def nearest(i: int) -> Any:
        return engine.nearest(*origins[i], profile=PROFILE, k=K, at=NOON)

    nearest(0)
    near_ms = timings_ms(nearest, len(origins))
    answers = [nearest(i) for i in range(len(origins))]
    table_ms = timings_ms(
        lambda i: point_table(engine, origins[i : i + 1], targets, profile=PROFILE), 100
    )
    t = time.perf_counter()
    engine.fields.times_from_points(engine.snap_points(origins, PROFILE), PROFILE)
    batch_s = time.perf_counter() - t
    iso_ms = timings_ms(
        lambda i: engine.isochrones(*iso_origins[i], MINUTES, profile=PROFILE), len(iso_origins)
    )
    ours = {
        "build_s": build_s,
        "start_s": start_s,
        "rss_mb": memory,
        "nearest_ms": {
            "p50": float(np.percentile(near_ms, 50)),
            "p99": float(np.percentile(near_ms, 99)),
        },
        "table_ms": {
            "p50": float(np.percentile(table_ms, 50)),
            "p99": float(np.percentile(table_ms, 99)),
        },
        "batch_s": batch_s,
        "isochrone_ms": {
            "p50": float(np.percentile(iso_ms, 50)),
            "p99": float(np.percentile(iso_ms, 99)),
        },
        "top1": [a.hits[0].station.id if a.hits else -1 for a in answers],
        "eta_s": [a.hits[0].route.travel_time_s if a.hits else np.inf for a in answers],
    }
    summary("yizhan nearest-3 with routes", near_ms)
    graph_file = igraph_export(compiled, engine, origins, targets, work / f"igraph-{name}.npz")
    job = {
        "pbf": str(as_pbf(path, work)),
        "workdir": str(work / name),
        "stations": stations_lonlat.tolist(),
        "origins": origins.tolist(),
        "table_targets": targets.tolist(),
        "table_origins": 100,
        "iso_origins": iso_origins.tolist(),
        "minutes": MINUTES,
        "k": K,
        "valhalla_bicycle": VALHALLA_BICYCLE,
        "igraph_graph": str(graph_file),
    }
    return {
        "name": name,
        "nodes": compiled.n_nodes,
        "stations": len(records),
        "yizhan": ours,
        "job": job,
    }


def igraph_export(
    compiled: CompiledGraph,
    engine: RoutingEngine,
    origins: np.ndarray,
    targets: np.ndarray,
    path: Path,
) -> Path:
    """yizhan's e-bike search graph as arrays, stations, origins and targets at nearest nodes.

    With turn costs the search graph's nodes are edge states: a point goes to the state of
    the edge it snapped to (arrived at that edge's end), else to the end node itself.
    """
    pg = profile_view(compiled, DEFAULT_PROFILES[PROFILE])
    coo = pg.matrix.tocoo()

    def nodes(points: np.ndarray) -> np.ndarray:
        edge = np.maximum(engine.snap_points(points, PROFILE).edge, 0)
        return edge if pg.n_search != compiled.n_nodes else pg.v[edge]

    stations = np.array([[s.lon, s.lat] for s in engine.stations.values()])
    np.savez(
        path,
        n=pg.n_search,
        u=coo.row,
        v=coo.col,
        w=coo.data,
        station_nodes=nodes(stations),
        origin_nodes=nodes(origins),
        target_nodes=nodes(targets),
    )
    return path


def agreement(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[float, float]:
    """Share of origins with the same nearest station, and the median ETA ratio (ours/theirs)."""
    a, b = np.asarray(ours["top1"]), np.asarray(theirs["top1"])
    same = float(np.mean(a == b))
    mine, other = np.asarray(ours["eta_s"], float), np.asarray(theirs["eta_s"], float)
    ok = np.isfinite(mine) & np.isfinite(other) & (other > 0) & (mine > 0)
    return same, float(np.median(mine[ok] / other[ok])) if ok.any() else float("nan")


def report(data: dict[str, Any], peers: dict[str, Any]) -> None:
    """Print one dataset's table: every engine against yizhan."""
    ours = data["yizhan"]
    print(
        f"\n{data['name']}: {data['nodes']:,} nodes, {data['stations']} stations, {len(ours['top1'])} origins"
    )
    head = f"{'engine':<12}{'near p50':>10}{'p99':>9}{'x':>7}{'1-to-60':>9}{'batch':>8}{'iso p50':>9}{'build':>8}{'MB':>6}{'top1':>6}{'ETA':>6}"
    print(head)
    print("-" * len(head))

    def row(name: str, r: dict[str, Any]) -> None:
        if "error" in r:
            print(f"{name:<12} failed: {r['error'][:100]}")
            return
        ratio = r["nearest_ms"]["p50"] / ours["nearest_ms"]["p50"]
        iso = r.get("isochrone_ms", {}).get("p50")
        same, eta = agreement(ours, r) if r is not ours else (1.0, 1.0)
        print(
            f"{name:<12}{r['nearest_ms']['p50']:>8.2f}ms{r['nearest_ms']['p99']:>7.1f}ms{ratio:>6.1f}x"
            f"{r['table_ms']['p50']:>7.2f}ms{r['batch_s']:>7.2f}s"
            + (f"{iso:>7.1f}ms" if iso is not None else f"{'—':>9}")
            + f"{r['build_s']:>7.1f}s"
            + (f"{r['rss_mb']:>6.0f}" if "rss_mb" in r else f"{'—':>6}")
            + f"{same:>6.0%}{eta:>6.2f}"
        )

    row("yizhan", ours)
    for name, r in peers.items():
        row(name, r)
    against = [
        f"{name} {r['nearest_ms']['p50'] / ours['nearest_ms']['p50']:.0f}x slower"
        + (f" (ETA ratio {agreement(ours, r)[1]:.2f})" if name == "valhalla" else "")
        for name, r in peers.items()
        if "error" not in r
    ]
    headline(
        f"{data['name']} ({data['nodes']:,} nodes, {data['stations']} stations): yizhan "
        f"nearest-3 with routes p50 {ours['nearest_ms']['p50']:.2f} ms; " + ", ".join(against)
    )


def main() -> None:
    """Run every engine on the real extract and (unless ``--quick``) the Jiangmen sample."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only the real extract")
    args = parser.parse_args()
    python = peers_python()
    settings = Settings()
    runs = [("helsinki", HELSINKI, None, ["osrm-ch", "osrm-mld", "valhalla", "igraph"])]
    if not args.quick:
        st = read_sample_layer(settings.region_dir / "synthetic", "stations")
        sample_stations = np.column_stack([st.geometry.x, st.geometry.y])
        runs.append(
            (
                "jiangmen",
                ensure_sample_network(settings),
                sample_stations,
                ["osrm-mld", "valhalla", "igraph"],
            )
        )
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        work = Path(tmp)
        for name, path, stations, peers in runs:
            data = dataset(name, path, stations, work)
            job_file = work / f"{name}.json"
            job_file.write_text(json.dumps({**data["job"], "peers": peers}))
            t = time.perf_counter()
            out = subprocess.run(
                [str(python), str(Path(__file__).with_name("peers_runner.py")), str(job_file)],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                print(out.stderr[-2000:])
                continue
            print(f"peers ran in {time.perf_counter() - t:.0f} s")
            report(data, json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        "\nnear: nearest-3 stations with routes; x: p50 against yizhan's; batch: 500 origins to "
        "every station; top1: same nearest station as yizhan; ETA: median yizhan / peer time"
    )


if __name__ == "__main__":
    main()
