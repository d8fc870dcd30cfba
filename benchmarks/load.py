"""Load test: the API under increasing concurrency, with wrk on loopback.

Starts the API with several uvicorn workers (rate limiting off: this measures capacity; the
per-client limit is a separate protection), then runs wrk against the nearest-station and
map endpoints. Prints requests/s, p50/p99 latency, errors and the server's CPU time per
request (user + system of the uvicorn processes, from /proc) per level.

Run: ``.venv/bin/python -m benchmarks.load`` (installs Debian's ``wrk`` if missing; needs the
sample loaded: ``yizhan load-sample``). ``LOAD_LEVELS`` / ``LOAD_PAGE_LEVELS`` change the
connection counts, ``LOAD_DURATION`` the time per level. ``LOAD_BEFORE=<commit>`` measures that
commit first (a worktree beside this checkout, its own database) and prints both side by side.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from geo.settings import PROJECT_ROOT

WORKERS = int(os.environ.get("LOAD_WORKERS", "2"))
DURATION = os.environ.get("LOAD_DURATION", "10s")
LEVELS = [int(c) for c in os.environ.get("LOAD_LEVELS", "8,32,64,128,256").split(",")]
PAGE_LEVELS = [int(c) for c in os.environ.get("LOAD_PAGE_LEVELS", "4,16,64").split(",")]
TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu_s(root_pid: int) -> float:
    """User + system CPU seconds of a process and its children (the uvicorn workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if root_pid in (pid, ppid):
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def run_level(wrk: str, args: list[str], server_pid: int) -> dict[str, Any]:
    """One wrk run; its figures and the server's CPU milliseconds per request."""
    cpu0 = server_cpu_s(server_pid)
    out = subprocess.run([wrk, *args], capture_output=True, text=True, check=True).stdout
    cpu = server_cpu_s(server_pid) - cpu0
    r = parse(out)
    done = re.search(r"(\d+) requests in", out)
    requests = int(done.group(1)) if done else 0
    r["cpu_ms"] = 1000 * cpu / requests if requests else float("nan")
    return r


def show(label: str, conns: int, r: dict[str, Any]) -> None:
    print(
        f"  {label:<34}{conns:>6}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
        f"{r['errors']:>8.0f}{r['cpu_ms']:>9.2f}" + (f"   ({r['kinds']})" if r["errors"] else "")
    )


LUA = """
local points = {%s}
local i = 0
request = function()
  i = (i %% #points) + 1
  return wrk.format("GET", "/v1/stations/nearest?k=3&profile=e_bike&" .. points[i])
end
"""


def nearest_script(folder: Path) -> Path:
    """A wrk script asking the nearest stations from 500 places in central Jiangmen."""
    rng = np.random.default_rng(1)
    pts = [
        f'"lat={22.50 + rng.uniform(0, 0.15):.5f}&lon={112.98 + rng.uniform(0, 0.15):.5f}"'
        for _ in range(500)
    ]
    script = folder / "nearest.lua"
    script.write_text(LUA % ", ".join(pts))
    return script


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        wrk = shutil.which("wrk")
    assert wrk, "wrk could not be installed"
    return wrk


def parse(out: str) -> dict[str, Any]:
    def ms(pattern: str) -> float:
        found = re.search(pattern, out)
        parsed = re.match(r"([\d.]+)(us|ms|s|m)", found.group(1)) if found else None
        if parsed is None:
            return float("nan")
        value, unit = parsed.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]

    p50 = ms(r"(?m)^\s+50%\s+(\S+)")
    p99 = ms(r"(?m)^\s+99%\s+(\S+)")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_err = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket_err:
        errors += sum(int(g) for g in socket_err.groups())
    kinds = f"non-2xx {non2xx.group(1) if non2xx else 0}" + (
        f", socket {'/'.join(socket_err.groups())} (connect/read/write/timeout)"
        if socket_err
        else ""
    )
    return {"rps": rps, "p50": p50, "p99": p99, "errors": errors, "kinds": kinds}


def measure(
    wrk: str, root: Path, env: dict[str, str], label: str
) -> list[tuple[str, int, dict[str, Any]]]:
    """Serve the code in ``root`` and run every level against it; the rows it printed."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # served as ``yizhan serve --workers N`` serves (api.server.server_options)
    serve = (
        "from api.server import run_workers, server_options; from geo.settings import Settings; "
        f"run_workers('api.app:create_app', '127.0.0.1', {port}, {WORKERS}, "
        "server_options(Settings(), 'warning'))"
    )
    server = subprocess.Popen([sys.executable, "-c", serve], cwd=root, env=env)
    base = f"http://127.0.0.1:{port}"
    rows: list[tuple[str, int, dict[str, Any]]] = []

    def level(endpoint: str, conns: int, args: list[str]) -> None:
        r = run_level(wrk, args, server.pid)
        show(endpoint, conns, r)
        rows.append((endpoint, conns, r))

    try:
        ready = 0
        for _ in range(900):
            try:
                ready = (
                    ready + 1 if httpx.get(f"{base}/health", timeout=5).status_code == 200 else 0
                )
            except httpx.TransportError:
                ready = 0
            if ready >= WORKERS * 4:  # each worker has loaded its graph
                break
            time.sleep(0.3)
        with tempfile.TemporaryDirectory() as tmp:
            script = nearest_script(Path(tmp))
            print(f"\n{label}: {WORKERS} uvicorn workers, wrk {DURATION} per level, loopback")
            print(
                f"  {'endpoint':<34}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
                f"{'errors':>8}{'cpu ms':>9}"
            )
            # a warm-up, not measured: /health answering is no proof that every worker has
            # loaded its graph (the first answers may all come from one)
            subprocess.run(
                [wrk, "-t2", "-c16", "-d5s", "-s", str(script), base],
                capture_output=True,
                check=True,
            )
            for conns in LEVELS:
                args = ["-t2", f"-c{conns}", f"-d{DURATION}", "--latency", "-s", str(script), base]
                level("GET /v1/stations/nearest", conns, args)
            page = f"{base}/maps/stations"
            with httpx.stream("GET", page, headers={"Accept-Encoding": "gzip"}) as r:
                size = sum(len(chunk) for chunk in r.iter_raw())
            # "warm": every worker has rendered the page once (not measured)
            subprocess.run(
                [wrk, "-t2", "-c8", "-d3s", "-H", "Accept-Encoding: gzip", page],
                capture_output=True,
                check=True,
            )
            for conns in PAGE_LEVELS:
                args = ["-t2", f"-c{conns}", f"-d{DURATION}", "--latency"]
                args += ["-H", "Accept-Encoding: gzip", page]
                level("GET /maps/stations (gzip)", conns, args)
        print(f"  /maps/stations transferred: {size / 1024:.0f} KB per page (gzip accepted)")
    finally:
        server.terminate()
        server.wait(20)
    return rows


def before_tree(rev: str) -> tuple[Path, dict[str, str]]:
    """A checkout of ``rev`` beside this one, on a database of its own with the sample.

    It shares this checkout's state directory (embedded cluster, graph cache, assets); its
    database ``yizhan_before`` is loaded by its own code, so older migrations never meet newer.
    """
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.strip()
    if not sha:
        raise SystemExit(f"LOAD_BEFORE={rev}: no such commit")
    root = Path(tempfile.gettempdir()) / f"yizhan-load-{sha}"
    if not root.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(root), sha],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    state = root / ".yizhan"
    if not state.exists():
        state.symlink_to(PROJECT_ROOT / ".yizhan")
    env = {**SERVER_ENV, "YIZHAN_DATABASE_NAME": "yizhan_before"}
    load = "import sys; sys.argv = ['yizhan', 'load-sample']; from cli.main import main; main()"
    subprocess.run([sys.executable, "-c", load], cwd=root, env=env, check=True)
    return root, env


def compare(before: list[tuple[str, int, dict[str, Any]]], after: list[Any], rev: str) -> None:
    """Both runs side by side: requests/s and p99, before → after."""
    print(f"\nbefore ({rev}) → after (this checkout), one run")
    for (endpoint, conns, b), (_, _, a) in zip(before, after, strict=True):
        print(
            f"  {endpoint:<34}{conns:>6}  {b['rps']:>7.0f} → {a['rps']:<7.0f} req/s"
            f"  ({a['rps'] / b['rps']:.2f}x)   p99 {b['p99']:.1f} → {a['p99']:.1f} ms"
            f"   errors {b['errors']:.0f} → {a['errors']:.0f}"
        )


SERVER_ENV = {
    **os.environ,
    "YIZHAN_RATE_LIMIT_PER_MINUTE": "0",
    "YIZHAN_ESCALATION_INTERVAL_S": "0",
}


def main() -> None:
    wrk = ensure_wrk()
    rev = os.environ.get("LOAD_BEFORE")
    before = None
    if rev:
        root, env = before_tree(rev)
        before = measure(wrk, root, env, f"before ({rev})")
    after = measure(wrk, PROJECT_ROOT, SERVER_ENV, "this checkout")
    if before is not None and rev:
        compare(before, after, rev)
    print(
        "  targets: nearest ≥ 3,000 req/s, p99 ≤ 50 ms at 64 connections, 0 errors at 256; "
        "/maps/stations ≥ 200 pages/s warm, ≤ 150 KB"
    )


if __name__ == "__main__":
    main()
