"""Riders while analyses run, and the request that once took the server down.

(a) Riders' nearest-station latency over HTTP (wrk, 8 connections, 10 s) with the API idle,
    then while 4 heavy analyses run as jobs on the Dask workers and 4 clients keep posting
    1.8 MB demand files and 60-minute drive isochrones. Target: p99 under load ≤ 2x idle and
    ≤ 50 ms.
(b) ``POST /v1/coverage/sites {"k":50,"minutes":120,"profile":"walk","objective":"p_median",
    "max_candidates":2000}``: the API process's resident memory before and after (target:
    ≤ +200 MB, no restart), and what the planner is told.

The API runs as ``yizhan serve`` would: one uvicorn process, its Dask workers started with
it. Run: ``.venv/bin/python -m benchmarks.bench_jobs`` (needs the sample loaded).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.common import headline
from benchmarks.load import ensure_wrk, nearest_script, run_level
from geo.settings import PROJECT_ROOT

OOM = {"k": 50, "minutes": 120, "profile": "walk", "objective": "p_median", "max_candidates": 2000}
HEAVY = {"k": 20, "minutes": 30, "max_candidates": 600, "method": "milp"}


def rss_mb(pid: int) -> float:
    """Resident memory of one process (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def demand_csv(rows: int = 60_000) -> bytes:
    """A demand file of about 1.8 MB over central Jiangmen."""
    rng = np.random.default_rng(3)
    lon = 112.98 + rng.uniform(0, 0.15, rows)
    lat = 22.50 + rng.uniform(0, 0.15, rows)
    w = rng.integers(1, 50, rows)
    lines = [
        "lon,lat,weight",
        *(f"{a:.5f},{b:.5f},{c}" for a, b, c in zip(lon, lat, w, strict=True)),
    ]
    return "\n".join(lines).encode()


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "YIZHAN_RATE_LIMIT_PER_MINUTE": "0",
        "YIZHAN_ESCALATION_INTERVAL_S": "0",
        "YIZHAN_JOBS_AT_START": "true",
        "YIZHAN_JOBS_PER_USER": "8",
    }
    cmd = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host"]
    cmd += ["127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env)


def wait_ready(base: str) -> None:
    for _ in range(1200):
        try:
            body = httpx.get(f"{base}/health", timeout=5).json()
            if body["status"] == "ok" and body["analysis"]["workers"] > 0:
                return
        except (httpx.TransportError, KeyError, ValueError):
            pass
        time.sleep(0.5)
    raise RuntimeError("the API did not become ready")


def heavy_mix(base: str, headers: dict[str, str], stop: threading.Event) -> dict[str, int]:
    """4 analyses as jobs, 4 uploaders and 4 isochrone clients until ``stop``; their answers."""
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def count(key: str) -> None:
        with lock:
            counts[key] = counts.get(key, 0) + 1

    for _ in range(4):
        r = httpx.post(
            f"{base}/ogc/processes/site-selection/execution",
            json={"inputs": HEAVY},
            headers={**headers, "Prefer": "respond-async"},
            timeout=60,
        )
        count(f"job {r.status_code}")
    body = demand_csv()

    def upload() -> None:
        with httpx.Client(timeout=120) as c:
            while not stop.is_set():
                r = c.post(
                    f"{base}/v1/coverage/demand",
                    content=body,
                    headers={"Content-Type": "text/csv"},
                )
                count(f"demand {r.status_code}")

    def isochrone() -> None:
        with httpx.Client(timeout=120) as c:
            while not stop.is_set():
                params = {"lat": 22.58, "lon": 113.08, "minutes": "60", "profile": "drive"}
                count(f"isochrone {c.get(f'{base}/v1/isochrones', params=params).status_code}")

    threads = [threading.Thread(target=f, daemon=True) for f in [upload] * 4 + [isochrone] * 4]
    for t in threads:
        t.start()
    stop.wait()
    for t in threads:
        t.join(120)
    return counts


def main() -> None:
    wrk = ensure_wrk()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base)
        token = httpx.post(f"{base}/v1/auth/token", data={"username": "admin", "password": "admin"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        with tempfile.TemporaryDirectory() as tmp:
            script = nearest_script(Path(tmp))
            args = ["-t2", "-c8", "-d10s", "--latency", "-s", str(script), base]
            run_level(wrk, ["-t1", "-c2", "-d2s", "-s", str(script), base], server.pid)  # warm
            idle = run_level(wrk, args, server.pid)
            rss_idle = rss_mb(server.pid)
            stop = threading.Event()
            result: dict[str, dict[str, int]] = {}
            mix = threading.Thread(
                target=lambda: result.update(mix=heavy_mix(base, headers, stop)), daemon=True
            )
            mix.start()
            time.sleep(3)  # the jobs and the uploads are under way
            loaded = run_level(wrk, args, server.pid)
            rss_loaded = rss_mb(server.pid)
            stop.set()
            mix.join(180)
        print("\n(a) riders' nearest station over HTTP, 8 connections, wrk 10 s")
        print(f"  {'':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for label, r in (("idle", idle), ("4 jobs + 4 uploads + 4 isos", loaded)):
            print(
                f"  {label:<28}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['errors']:>8.0f}"
            )
        ratio = loaded["p99"] / idle["p99"]
        print(f"  p99 under load / idle: {ratio:.2f}x (target ≤ 2x and ≤ 50 ms)")
        print(f"  heavy requests answered: {dict(sorted(result.get('mix', {}).items()))}")
        print(f"  API resident memory: idle {rss_idle:.0f} MB, under the mix {rss_loaded:.0f} MB")
        before = rss_mb(server.pid)
        r = httpx.post(f"{base}/v1/coverage/sites", json=OOM, headers=headers, timeout=120)
        after = rss_mb(server.pid)
        alive = httpx.get(f"{base}/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
        print("\n(b) the request that took the server down (p-median, 2,000 candidates, walk 120)")
        print(f"  answer {r.status_code}: {r.json().get('error', {}).get('message', r.text[:120])}")
        print(f"  API resident memory {before:.0f} → {after:.0f} MB ({after - before:+.0f} MB)")
        print(
            f"  riders still served: nearest → {alive.status_code}; server pid {server.pid} alive"
        )
        headline(
            f"riders' nearest p99 {idle['p99']:.1f} ms idle → {loaded['p99']:.1f} ms "
            f"({ratio:.2f}x) while 4 jobs, 4 × 1.8 MB demand uploads and 4 × 60-min drive "
            f"isochrones run; the p-median request that once took the server down: "
            f"{r.status_code} at once, API memory {after - before:+.0f} MB"
        )
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
