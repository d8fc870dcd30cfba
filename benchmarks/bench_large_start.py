"""Start-up and memory of one routing process on a network of some 176,000 road nodes (#34).

#34 asks a process serving 176k road nodes to be ready in 10 s or less and to hold at most
1 GB of its own beyond the shared maps (the kept station fields and numba's cache are files
mapped by every process that serves the same data: their pages are the page cache's, once).
The network is the sample's own road generator over the real Jiangmen outline with more
urban cells (``LARGE_URBAN_CELLS``, default 2,700: about 2.7 times the sample's nodes),
synthetic like the sample's, with the sample's 63 stations.

A child process starts as a server's does: it imports the app, reads the compiled graph,
builds the engine with the fields kept in a folder (the first profile now, the others
after), answers one question with the first profile (ready, as ``/health`` says), then
builds and warms the other profiles, then draws an isochrone per profile as the
quick-analysis worker does. The first start compiles the graph and writes the fields; the
second is measured. Each step prints the seconds since the process began and its memory:
RSS, and the part of it that is its own (``RssAnon``, beyond the shared maps).
Run: ``.venv/bin/python -m benchmarks.bench_large_start``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from benchmarks.common import headline

URBAN_CELLS = int(os.environ.get("LARGE_URBAN_CELLS", "2700"))
#: the issue's targets
READY_S, OWN_MB = 10.0, 1024.0


def _memory() -> dict[str, float]:
    """This process's resident memory (MB): all of it, its own, and file-backed."""
    out = {}
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(line.split()[1]) / 1024
    return out


def _step(name: str, began: float, **extra: object) -> None:
    print(json.dumps({"step": name, "s": time.time() - began, **_memory(), **extra}), flush=True)


def child(network: Path, fields: Path) -> None:
    """One start, as a server's routing process (run in a process of its own)."""
    began = psutil.Process().create_time()
    import api.app  # noqa: F401  (what a server imports before anything else)
    from benchmarks.common import sample_stations
    from geo.network import load_compiled
    from geo.platform import settle_memory
    from geo.profiles import build_profiles
    from geo.routing.engine import RoutingEngine
    from geo.settings import Settings

    _step("imported", began)
    settings = Settings()
    compiled, _ = load_compiled(network, cache_dir=settings.cache_dir)
    _step("graph read", began, nodes=compiled.n_nodes, edges=len(compiled.u))
    profiles = build_profiles(settings.profile_speeds)
    profiles.pop("truck", None)
    stations = sample_stations(settings)
    engine = RoutingEngine(compiled, profiles, stations, field_dir=fields, lazy_profiles=True)
    everyday = engine.everyday_profiles
    engine.warm(everyday[:1], isochrones=False)
    settle_memory()
    _step("ready", began, profile=everyday[0])
    engine.warm(everyday[1:], isochrones=False)
    settle_memory()
    _step("every profile answers", began, profiles=everyday)
    engine.warm(everyday, isochrones=True)
    settle_memory()
    _step("isochrones warmed", began)


def _start(network: Path, fields: Path) -> dict[str, dict]:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_large_start",
            "--child",
            str(network),
            str(fields),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        print(run.stderr[-3000:])
        raise SystemExit(run.returncode)
    steps = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    return {s["step"]: s for s in steps}


def network_file() -> Path:
    """The denser synthetic network, generated once (kept with the workspace's networks)."""
    from geo.sample.build import read_sample_layer, write_sample_network
    from geo.settings import Settings

    settings = Settings()
    path = settings.cache_dir.parent / "networks" / f"jiangmen-synthetic-u{URBAN_CELLS}.osm"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        towns = read_sample_layer(settings.region_dir / "synthetic", "towns")
        write_sample_network(
            settings.region_dir / "real",
            towns,
            path,
            seed=settings.sample_seed,
            urban_cells=URBAN_CELLS,
        )
    return path


def main() -> None:
    """Two starts; the second measured and printed step by step, then the README line."""
    network = network_file()
    with tempfile.TemporaryDirectory(prefix="yizhan-large-fields-") as fields:
        print(f"first start on {network.name} (compiles the graph once, writes the fields) …")
        first = _start(network, Path(fields))
        print(f"  ready in {first['ready']['s']:.1f} s")
        print("second start, measured …")
        second = _start(network, Path(fields))
    read = second["graph read"]
    print(
        f"\none routing process, synthetic Jiangmen of {read['nodes']:,} nodes and "
        f"{read['edges']:,} edges, 63 stations, 3 profiles (second start)\n"
    )
    print(f"  {'step':<24}{'seconds':>8}{'RSS MB':>9}{'own MB':>9}{'file MB':>9}")
    for name, s in second.items():
        print(
            f"  {name:<24}{s['s']:>8.1f}{s['VmRSS']:>9.0f}{s['RssAnon']:>9.0f}{s['RssFile']:>9.0f}"
        )
    ready, whole = second["ready"], second["isochrones warmed"]
    print(
        f"\ntargets (#34): ready ≤ {READY_S:.0f} s ({ready['s']:.1f} s), own memory ≤ "
        f"{OWN_MB:,.0f} MB beyond the shared maps ({whole['RssAnon']:,.0f} MB with every "
        f"profile and its isochrones warm)"
    )
    headline(
        f"{read['nodes']:,} road nodes (synthetic), second start of one routing process: "
        f"ready in {ready['s']:.1f} s with {ready['RssAnon']:,.0f} MB of its own "
        f"({ready['VmRSS']:,.0f} MB RSS); every profile answering at "
        f"{second['every profile answers']['s']:.1f} s; with isochrones warm "
        f"{whole['RssAnon']:,.0f} MB of its own, {whole['VmRSS']:,.0f} MB RSS "
        f"(targets ≤ {READY_S:.0f} s, ≤ {OWN_MB:,.0f} MB)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
