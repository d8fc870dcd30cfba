"""The routing peers' side of ``bench_peers``: OSRM, Valhalla and igraph, in their own venv.

``osrm-bindings`` and ``pyvalhalla`` ship wheels for Python >= 3.12 only, so ``bench_peers``
runs this file with a Python 3.12 venv (``.yizhan/peers``) and reads one JSON answer on
stdout. It imports nothing from yizhan. Input: a JSON job file (see ``bench_peers.job``).

Each peer answers the same questions as yizhan: nearest-3 stations with routes (a one-to-all
table to the stations, then the three routes with full geometry), a one-to-60 table, a batch
of origins to all stations, and (Valhalla) 5/10/15-minute isochrones. Build time and resident
memory are measured here too.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(sys.executable).parent  # the venv's bin (not the interpreter it links to)


def rss_mb() -> float:
    """This process's resident memory (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50 and p99 of per-call times (ms)."""
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}


def timed(fn: Any, items: list[Any]) -> tuple[list[float], list[Any]]:
    """Per-call wall times (ms) and answers of ``fn`` over ``items``."""
    times, answers = [], []
    for item in items:
        t = time.perf_counter()
        answers.append(fn(item))
        times.append((time.perf_counter() - t) * 1000)
    return times, answers


def run_osrm(job: dict[str, Any], algorithm: str) -> dict[str, Any]:
    """OSRM with the stock bicycle profile, CH or MLD."""
    import osrm

    work = Path(job["workdir"]) / f"osrm-{algorithm.lower()}"
    work.mkdir(parents=True, exist_ok=True)
    pbf = work / "extract.osm.pbf"
    pbf.write_bytes(Path(job["pbf"]).read_bytes())
    profile = Path(osrm.__file__).parent / "share" / "profiles" / "bicycle.lua"
    base = work / "extract.osrm"
    steps = [["extract", "-p", str(profile), str(pbf)]]
    if algorithm == "CH":
        steps.append(["contract", str(base)])
    else:
        steps += [["partition", str(base)], ["customize", str(base)]]
    t = time.perf_counter()
    for step in steps:
        cmd = [sys.executable, "-m", "osrm", *step]
        subprocess.run(cmd, check=True, capture_output=True, cwd=work)
    build_s = time.perf_counter() - t
    before = rss_mb()
    engine = osrm.OSRM(storage_config=str(base), algorithm=algorithm, use_shared_memory=False)
    stations = [tuple(s) for s in job["stations"]]
    k = job["k"]

    def table(origin: list[float], targets: list[tuple[float, float]]) -> list[float]:
        params = osrm.TableParameters(
            coordinates=[tuple(origin), *targets],
            sources=[0],
            destinations=list(range(1, len(targets) + 1)),
            annotations=["duration"],
        )
        row = engine.Table(params)["durations"][0]
        return [float("inf") if d is None else float(d) for d in row]

    def nearest(origin: list[float]) -> tuple[int, float]:
        times = np.asarray(table(origin, stations))
        best = np.argsort(times)[:k]
        for j in best:
            params = osrm.RouteParameters(
                coordinates=[tuple(origin), stations[j]], overview="full", geometries="geojson"
            )
            engine.Route(params)
        return int(best[0]), float(times[best[0]])

    return {
        "build_s": build_s,
        **answers(job, nearest, lambda o: table(o, [tuple(t) for t in job["table_targets"]])),
        "batch_s": batch(job, lambda origins: osrm_batch(engine, origins, stations)),
        "rss_mb": rss_mb() - before,
    }


def osrm_batch(engine: Any, origins: list[list[float]], stations: list[Any]) -> None:
    """All origins to all stations in one table request."""
    import osrm

    coords = [*(tuple(o) for o in origins), *stations]
    n = len(origins)
    params = osrm.TableParameters(
        coordinates=coords,
        sources=list(range(n)),
        destinations=list(range(n, len(coords))),
        annotations=["duration"],
    )
    engine.Table(params)


def run_valhalla(job: dict[str, Any]) -> dict[str, Any]:
    """Valhalla's bicycle costing (cycling speed set to the e-bike's), tiles built here."""
    from valhalla import ValhallaError

    before = rss_mb()
    actor, build_s = valhalla_actor(job)
    costing = {"costing": "bicycle", "costing_options": {"bicycle": job["valhalla_bicycle"]}}
    stations = [{"lon": s[0], "lat": s[1]} for s in job["stations"]]
    k = job["k"]

    def table(origin: list[float], targets: list[dict[str, float]]) -> list[float]:
        req = {"sources": [{"lon": origin[0], "lat": origin[1]}], "targets": targets, **costing}
        row = actor.matrix(req)["sources_to_targets"][0]
        return [float("inf") if c.get("time") is None else float(c["time"]) for c in row]

    def nearest(origin: list[float]) -> tuple[int, float]:
        times = np.asarray(table(origin, stations))
        best = np.argsort(times)[:k]
        for j in best:
            if np.isfinite(times[j]):
                locations = [{"lon": origin[0], "lat": origin[1]}, stations[j]]
                with contextlib.suppress(ValhallaError):  # no path: the time was spent too
                    actor.route({"locations": locations, **costing})
        return int(best[0]), float(times[best[0]])

    def isochrone(origin: list[float]) -> float:
        req = {
            "locations": [{"lon": origin[0], "lat": origin[1]}],
            "contours": [{"time": m} for m in job["minutes"]],
            "polygons": True,
            **costing,
        }
        try:
            return float(len(actor.isochrone(req)["features"]))
        except ValhallaError:
            return 0.0

    def all_pairs(origins: list[list[float]]) -> None:
        sources = [{"lon": o[0], "lat": o[1]} for o in origins]
        actor.matrix({"sources": sources, "targets": stations, **costing})

    targets = [{"lon": t[0], "lat": t[1]} for t in job["table_targets"]]
    iso_ms, _ = timed(isochrone, job["iso_origins"])
    return {
        "build_s": build_s,
        **answers(job, nearest, lambda o: table(o, targets)),
        "batch_s": batch(job, all_pairs),
        "isochrone_ms": percentiles(iso_ms),
        "rss_mb": rss_mb() - before,
    }


def valhalla_actor(job: dict[str, Any]) -> tuple[Any, float]:
    """Valhalla's tiles built from the job's extract, and an actor on them (and the build's s)."""
    from valhalla import Actor, get_config

    work = Path(job["workdir"]) / "valhalla"
    tiles = work / "tiles"
    tiles.mkdir(parents=True, exist_ok=True)
    config = get_config(tile_extract="", tile_dir=tiles, verbose=False)
    limits = config["service_limits"]["bicycle"]  # the batch asks 500 x stations at once
    limits["max_matrix_location_pairs"] = 10**7
    limits["max_matrix_distance"] = limits["max_distance"] = 10**7
    (work / "valhalla.json").write_text(json.dumps(config))
    t = time.perf_counter()
    subprocess.run(
        [str(HERE / "valhalla_build_tiles"), "-c", str(work / "valhalla.json"), job["pbf"]],
        check=True,
        capture_output=True,
        cwd=work,
        env={"PATH": f"{HERE}:/usr/bin:/bin"},
    )
    return Actor(config), time.perf_counter() - t


def run_valhalla_times(job: dict[str, Any]) -> dict[str, Any]:
    """Valhalla's bicycle times and distances from every origin to every station (calibration).

    One matrix row per origin: ``time_s[i][j]`` and ``distance_m[i][j]`` (None: no path).
    """
    actor, build_s = valhalla_actor(job)
    costing = {"costing": "bicycle", "costing_options": {"bicycle": job["valhalla_bicycle"]}}
    stations = [{"lon": s[0], "lat": s[1]} for s in job["stations"]]
    times, distances = [], []
    for o in job["origins"]:
        req = {"sources": [{"lon": o[0], "lat": o[1]}], "targets": stations, **costing}
        row = actor.matrix(req)["sources_to_targets"][0]
        times.append([c.get("time") for c in row])
        distances.append([None if c.get("distance") is None else c["distance"] * 1000 for c in row])
    return {"build_s": build_s, "time_s": times, "distance_m": distances}


def run_igraph(job: dict[str, Any]) -> dict[str, Any]:
    """igraph's Dijkstra on yizhan's own e-bike graph (stations at their nearest nodes)."""
    import igraph as ig

    arrays = np.load(job["igraph_graph"])
    t = time.perf_counter()
    graph = ig.Graph(
        n=int(arrays["n"]),
        edges=np.column_stack([arrays["u"], arrays["v"]]).tolist(),
        directed=True,
    )
    weights = arrays["w"].tolist()
    build_s = time.perf_counter() - t
    # igraph refuses repeated targets: search the distinct nodes, read the answers back by row
    station_nodes, station_of = np.unique(arrays["station_nodes"], return_inverse=True)
    stations = station_nodes.tolist()
    targets = np.unique(arrays["target_nodes"]).tolist()
    k = job["k"]

    def nearest(origin: int) -> tuple[int, float]:
        times = np.asarray(graph.distances(origin, stations, weights=weights)[0])[station_of]
        best = np.argsort(times)[:k]
        graph.get_shortest_paths(origin, [stations[station_of[j]] for j in best], weights=weights)
        return int(best[0]), float(times[best[0]])

    near_ms, near = timed(nearest, arrays["origin_nodes"].tolist())
    table_ms, _ = timed(
        lambda o: graph.distances(o, targets, weights=weights), arrays["origin_nodes"].tolist()
    )
    t = time.perf_counter()
    graph.distances(arrays["origin_nodes"].tolist(), stations, weights=weights)
    return {
        "build_s": build_s,
        "nearest_ms": percentiles(near_ms),
        "top1": [a[0] for a in near],
        "eta_s": [a[1] for a in near],
        "table_ms": percentiles(table_ms),
        "batch_s": time.perf_counter() - t,
    }


def answers(job: dict[str, Any], nearest: Any, table: Any) -> dict[str, Any]:
    """Nearest-3 and one-to-60 timings over the job's origins, with the top answers."""
    origins = job["origins"]
    nearest(origins[0])  # warm
    near_ms, near = timed(nearest, origins)
    table_ms, _ = timed(table, origins[: job["table_origins"]])
    return {
        "nearest_ms": percentiles(near_ms),
        "top1": [a[0] for a in near],
        "eta_s": [a[1] for a in near],
        "table_ms": percentiles(table_ms),
    }


def batch(job: dict[str, Any], fn: Any) -> float:
    """Seconds for one request of every origin to every station."""
    t = time.perf_counter()
    fn(job["origins"])
    return time.perf_counter() - t


def main() -> None:
    """Run the peers the job names and print their results as JSON."""
    job = json.loads(Path(sys.argv[1]).read_text())
    out: dict[str, Any] = {}
    for peer in job["peers"]:
        try:
            if peer.startswith("osrm-"):
                out[peer] = run_osrm(job, peer.split("-", 1)[1].upper())
            elif peer == "valhalla":
                out[peer] = run_valhalla(job)
            elif peer == "valhalla-times":
                out[peer] = run_valhalla_times(job)
            elif peer == "igraph":
                out[peer] = run_igraph(job)
        except Exception as exc:  # a peer that fails is reported, the others still run
            out[peer] = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
