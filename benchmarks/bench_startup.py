"""Start-up and memory of ``yizhan serve`` on the sample, this checkout beside an earlier one.

Each version is served twice as ``yizhan serve`` (the first start writes what is kept:
compiled graph, station fields); the second start is measured:

- **ready**: seconds from the command to ``/health`` 200;
- **memory**: the process tree's resident memory (API and Dask workers; the database
  excluded) when ready, the most seen over the next ``STARTUP_SETTLE`` seconds while it warms,
  and at the end, with the proportional share (PSS: a page mapped by several processes,
  such as the kept station fields, counted once in all) and how much of it is file-backed;
- **riders across the city**: the tree's memory again after ``STARTUP_RIDERS`` (3,000)
  nearest questions from all over the city (a process holds the pages of the kept arrays it
  has read; they are shared, so PSS grows less than RSS);
- **first answers**: a rider's nearest (HTTP) first and second; each profile's first and
  second isochrone (drawn on the quick-analysis worker).

Targets (#34): ready ≤ 5 s on the second start, tree ≤ 1 GB (database excluded), the first
isochrone of a profile within 2x of the later ones. ``STARTUP_BEFORE=<commit>`` (default the
last commit before the lean work) is measured beside this checkout in the same run, in a
worktree of its own on a database of its own (see :func:`benchmarks.load.before_tree`).
Run: ``.venv/bin/python -m benchmarks.bench_startup`` (after ``yizhan load-sample``).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from benchmarks.common import headline
from benchmarks.load import SERVER_ENV, before_tree
from geo.settings import PROJECT_ROOT

BEFORE = os.environ.get("STARTUP_BEFORE", "1a5e934")
SETTLE_S = float(os.environ.get("STARTUP_SETTLE", "40"))
IDLE_S = 20.0
#: riders asked from all over the city at the end (within the sample's roads)
RIDERS = int(os.environ.get("STARTUP_RIDERS", "3000"))
CITY = {"lon": (112.55, 113.25), "lat": (21.85, 22.75)}
#: a rider in Jiangmen's centre, and where isochrones are drawn from
HERE = {"lat": 22.5790, "lon": 113.0815}


@dataclass
class Start:
    """What one start of one version measured."""

    ready_s: float = float("nan")
    rss_ready_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_end_mb: float = 0.0
    pss_end_mb: float = 0.0
    file_end_mb: float = 0.0
    processes: list[tuple[str, float]] = field(default_factory=list)
    answers_ms: dict[str, tuple[float, float]] = field(default_factory=dict)
    rss_riders_mb: float = 0.0
    pss_riders_mb: float = 0.0
    riders_answered: int = 0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    return [p for p in procs if _name(p) and "postgres" not in _name(p)]


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:
        return ""


def _rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def _full(procs: list[psutil.Process]) -> tuple[float, float, list[tuple[str, float]]]:
    """PSS and file-backed resident MB of the tree, and each process's RSS."""
    pss = file_backed = 0.0
    each = []
    for p in procs:
        try:
            info = p.memory_full_info()
            status = Path(f"/proc/{p.pid}/status").read_text()
        except (psutil.Error, OSError):
            continue
        pss += info.pss / 2**20
        for line in status.splitlines():
            if line.startswith(("RssFile:", "RssShmem:")):
                file_backed += int(line.split()[1]) / 1024
        each.append((_role(p), info.rss / 2**20))
    return pss, file_backed, each


def _role(p: psutil.Process) -> str:
    """What a process of the tree is: the API, a Dask worker or nanny, or another helper."""
    try:
        line = " ".join(p.cmdline())
    except psutil.Error:
        return "?"
    if "'serve'" in line:
        return "yizhan serve (API)"
    if "multiprocessing.spawn" in line or "spawn_main" in line:
        return "Dask worker"
    if "resource_tracker" in line:
        return "multiprocessing resource tracker"
    return line[-60:]


def _timed_ms(client: httpx.Client, path: str, params: dict) -> float:
    t = time.perf_counter()
    response = client.get(path, params=params)
    response.raise_for_status()
    return (time.perf_counter() - t) * 1000


def _riders_across_the_city(client: httpx.Client) -> int:
    """Ask :data:`RIDERS` nearest questions from all over the city; how many were answered.

    A process holds the pages of the kept arrays it has read: riders everywhere read more of
    them than the few questions above (the pages are shared, so PSS grows less than RSS).
    """
    rng = random.Random(7)
    answered = 0
    for _ in range(RIDERS):
        lon = CITY["lon"][0] + rng.random() * (CITY["lon"][1] - CITY["lon"][0])
        lat = CITY["lat"][0] + rng.random() * (CITY["lat"][1] - CITY["lat"][0])
        response = client.get("/v1/stations/nearest", params={"lon": lon, "lat": lat, "k": 3})
        answered += response.status_code == 200
    return answered


def serve_once(root: Path, env: dict[str, str], *, measure: bool) -> Start:
    """Start ``yizhan serve`` of the code in ``root``; measure it when ``measure``; stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = f"import sys; from cli.main import main; sys.exit(main(['serve', '--port', '{port}']))"
    out = Start()
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            while time.perf_counter() - t0 < 300:
                out.rss_peak_mb = max(out.rss_peak_mb, _rss_mb(_tree(server.pid)))
                try:
                    if client.get("/health", timeout=2).status_code == 200:
                        out.ready_s = time.perf_counter() - t0
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
            if not measure:
                return out
            out.rss_ready_mb = _rss_mb(_tree(server.pid))
            nearest = {**HERE, "k": 3}
            first = _timed_ms(client, "/v1/stations/nearest", nearest)
            later = _timed_ms(
                client, "/v1/stations/nearest", {**nearest, "lat": HERE["lat"] + 0.01}
            )
            out.answers_ms["nearest (first rider)"] = (first, later)
            settle_end = time.perf_counter() + SETTLE_S
            while time.perf_counter() < settle_end:
                out.rss_peak_mb = max(out.rss_peak_mb, _rss_mb(_tree(server.pid)))
                time.sleep(0.25)
            for profile in ("e_bike", "walk", "drive"):
                params = {**HERE, "minutes": "5,10,15", "profile": profile}
                first = _timed_ms(client, "/v1/isochrones", params)
                later = _timed_ms(client, "/v1/isochrones", {**params, "lat": HERE["lat"] + 0.01})
                out.answers_ms[f"isochrone {profile}"] = (first, later)
            # the first isochrone comes after SETTLE_S idle: Dask's round trip wakes up too
            # (a trivial task takes ~20 ms, ~50 after 20 s idle). The same question after the
            # same idle tells that wake-up from a first-call cost.
            time.sleep(IDLE_S)
            params = {**HERE, "minutes": "5,10,15", "profile": "e_bike", "lat": HERE["lat"] + 0.02}
            again = _timed_ms(client, "/v1/isochrones", params)
            _, later = out.answers_ms["isochrone e_bike"]
            out.answers_ms[f"isochrone e_bike after {IDLE_S:.0f} s idle"] = (again, later)
            procs = _tree(server.pid)
            out.rss_end_mb = _rss_mb(procs)
            out.rss_peak_mb = max(out.rss_peak_mb, out.rss_end_mb)
            out.pss_end_mb, out.file_end_mb, out.processes = _full(procs)
            out.riders_answered = _riders_across_the_city(client)
            out.rss_riders_mb = _rss_mb(_tree(server.pid))
            out.pss_riders_mb = _full(_tree(server.pid))[0]
            return out
    finally:
        server.terminate()
        server.wait(60)


def measure(root: Path, env: dict[str, str], label: str) -> Start:
    """The second of two starts (the first writes the kept files)."""
    print(f"{label}: first start (writes what is kept) …", flush=True)
    first = serve_once(root, env, measure=False)
    print(f"  ready in {first.ready_s:.1f} s", flush=True)
    print(f"{label}: second start, measured …", flush=True)
    return serve_once(root, env, measure=True)


def show(label: str, s: Start) -> None:
    """One version's figures."""
    print(f"\n{label}")
    print(f"  ready (/health 200)            {s.ready_s:6.1f} s   (target ≤ 5 s)")
    print(f"  tree RSS when ready            {s.rss_ready_mb:6.0f} MB  (target ≤ 1,024 MB)")
    print(f"  tree RSS, most while warming   {s.rss_peak_mb:6.0f} MB")
    print(
        f"  tree RSS at the end            {s.rss_end_mb:6.0f} MB  (PSS {s.pss_end_mb:.0f} MB; "
        f"file-backed {s.file_end_mb:.0f} MB)"
    )
    for name, mb in s.processes:
        print(f"    {mb:6.0f} MB  {name}")
    print(
        f"  tree RSS after {RIDERS:,} riders  {s.rss_riders_mb:6.0f} MB  (PSS {s.pss_riders_mb:.0f} MB;"
        f" {s.riders_answered:,} answered, the rest beyond every road or outside the region)"
    )
    for name, (first, later) in s.answers_ms.items():
        print(f"  {name:<32} first {first:7.1f} ms, next {later:6.1f} ms ({first / later:.1f}x)")


def main() -> None:
    subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main(['db', 'up'])"],
        cwd=PROJECT_ROOT,
        check=False,
        capture_output=True,
    )  # the database stays up across the starts: each one measures the service only
    runs: list[tuple[str, Start]] = []
    if BEFORE:
        root, before_env = before_tree(BEFORE)
        runs.append((f"before ({BEFORE})", measure(root, before_env, f"before ({BEFORE})")))
    runs.append(("this checkout", measure(PROJECT_ROOT, SERVER_ENV, "this checkout")))
    print(
        f"\nyizhan serve on the Jiangmen sample (64,908 nodes, 236,427 edges, 3 profiles), "
        f"second start, one run, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    for label, s in runs:
        show(label, s)
    (_, now) = runs[-1]
    firsts = ", ".join(
        f"{name} {first:.0f} / {later:.0f} ms" for name, (first, later) in now.answers_ms.items()
    )
    headline(
        f"second start ready in {now.ready_s:.1f} s, tree {now.rss_ready_mb:,.0f} MB RSS when "
        f"ready, {now.rss_end_mb:,.0f} MB ({now.pss_end_mb:,.0f} MB PSS) once the quick worker "
        f"has warmed, {now.rss_riders_mb:,.0f} MB ({now.pss_riders_mb:,.0f} MB PSS) after "
        f"{RIDERS:,} riders across the city; first / next answer: {firsts}"
        + (
            f" ({runs[0][0]}: {runs[0][1].ready_s:.1f} s, {runs[0][1].rss_end_mb:,.0f} MB)"
            if len(runs) == 2
            else ""
        )
    )
    if len(runs) == 2:
        (_, b), (_, a) = runs
        print(
            f"\nready {b.ready_s:.1f} → {a.ready_s:.1f} s ({b.ready_s / a.ready_s:.1f}x); "
            f"tree when ready {b.rss_ready_mb:.0f} → {a.rss_ready_mb:.0f} MB; "
            f"at the end {b.rss_end_mb:.0f} → {a.rss_end_mb:.0f} MB RSS, "
            f"{b.pss_end_mb:.0f} → {a.pss_end_mb:.0f} MB PSS"
        )


if __name__ == "__main__":
    main()
