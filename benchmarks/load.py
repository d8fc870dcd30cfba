"""Load test: the API under increasing concurrency, with wrk on loopback.

Starts the API with several uvicorn workers (rate limiting off: this measures capacity; the
per-client limit is a separate protection), then runs wrk against the nearest-station and
map endpoints. Prints requests/s, p50/p99 latency, errors and the server's CPU time per
request (user + system of the uvicorn processes, from /proc) per level.

Run: ``.venv/bin/python -m benchmarks.load`` (installs Debian's ``wrk`` if missing; needs the
sample loaded: ``yizhan load-sample``). ``LOAD_LEVELS`` / ``LOAD_PAGE_LEVELS`` change the
connection counts, ``LOAD_DURATION`` the time per level. ``LOAD_BEFORE=<commit>`` measures that
commit too (a worktree beside this checkout, its own database), both served at once and each
level run against one then the other, and prints both side by side.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.common import headline
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


@dataclass
class Served:
    """One code version served for the load test: its label, server process and URL."""

    label: str
    server: subprocess.Popen[bytes]
    base: str
    rows: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)


def serve(root: Path, env: dict[str, str], label: str) -> Served:
    """Serve the code in ``root`` as ``yizhan serve --workers N`` does, once its graph is loaded."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "from cli.server import run_workers, server_options; from geo.settings import Settings; "
        f"run_workers('api.app:create_app', '127.0.0.1', {port}, {WORKERS}, "
        "server_options(Settings(), 'warning'))"
    )
    served = Served(
        label,
        subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env),
        f"http://127.0.0.1:{port}",
    )
    ready = 0
    for _ in range(900):
        try:
            got = httpx.get(f"{served.base}/health", timeout=5).status_code == 200
            ready = ready + 1 if got else 0
        except httpx.TransportError:
            ready = 0
        if ready >= WORKERS * 4:  # each worker has loaded its graph
            break
        time.sleep(0.3)
    return served


def measure(wrk: str, versions: list[Served]) -> int:
    """Every level against every version in turn (so a slower minute of the machine falls on
    all of them alike); the page's size in bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        script = nearest_script(Path(tmp))
        for v in versions:
            # warm-ups, not measured: /health answering is no proof that every worker has
            # loaded its graph (the first answers may all come from one), nor rendered the page
            subprocess.run(
                [wrk, "-t2", "-c16", "-d5s", "-s", str(script), v.base],
                capture_output=True,
                check=True,
            )
            subprocess.run(
                [
                    wrk,
                    "-t2",
                    "-c8",
                    "-d3s",
                    "-H",
                    "Accept-Encoding: gzip",
                    f"{v.base}/maps/stations",
                ],
                capture_output=True,
                check=True,
            )
        plan = [
            ("GET /v1/stations/nearest", c, ["--latency", "-s", str(script)], "") for c in LEVELS
        ]
        plan += [
            (
                "GET /maps/stations (gzip)",
                c,
                ["--latency", "-H", "Accept-Encoding: gzip"],
                "/maps/stations",
            )
            for c in PAGE_LEVELS
        ]
        for endpoint, conns, extra, path in plan:
            for v in versions:
                args = ["-t2", f"-c{conns}", f"-d{DURATION}", *extra, v.base + path]
                v.rows.append((endpoint, conns, run_level(wrk, args, v.server.pid)))
    with httpx.stream(
        "GET", f"{versions[-1].base}/maps/stations", headers={"Accept-Encoding": "gzip"}
    ) as r:
        return sum(len(chunk) for chunk in r.iter_raw())


def print_table(v: Served) -> None:
    """One version's figures."""
    print(f"\n{v.label}: {WORKERS} uvicorn workers, wrk {DURATION} per level, loopback")
    print(
        f"  {'endpoint':<34}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'cpu ms':>9}"
    )
    for endpoint, conns, r in v.rows:
        show(endpoint, conns, r)


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
    packages = [p for p in ("geo", "api", "cli", "maps", "pages") if (root / p).is_dir()]
    subprocess.run(  # as set-up leaves this checkout: its modules compiled (a fair start-up)
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *packages],
        cwd=root,
        check=True,
        capture_output=True,
    )
    load = "import sys; sys.argv = ['yizhan', 'load-sample']; from cli.main import main; main()"
    subprocess.run([sys.executable, "-c", load], cwd=root, env=env, check=True)
    return root, env


def compare(before: Served, after: Served) -> None:
    """Both versions side by side: requests/s and p99, before → after."""
    print(f"\n{before.label} → {after.label}, one run, levels alternating")
    for (endpoint, conns, b), (_, _, a) in zip(before.rows, after.rows, strict=True):
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
    versions = []
    try:
        if rev:
            root, env = before_tree(rev)
            versions.append(serve(root, env, f"before ({rev})"))
        versions.append(serve(PROJECT_ROOT, SERVER_ENV, "this checkout"))
        size = measure(wrk, versions)
    finally:
        for v in versions:
            v.server.terminate()
            v.server.wait(30)
    for v in versions:
        print_table(v)
    print(f"  /maps/stations transferred: {size / 1024:.0f} KB per page (gzip accepted)")
    if len(versions) == 2:
        compare(*versions)
    now = {(e, c): r for e, c, r in versions[-1].rows}
    nearest = [now[e, c] for e, c in now if e.startswith("GET /v1") and c == 64]
    pages = [now[e, c] for e, c in now if e.startswith("GET /maps") and c == 16]
    worst = max(r["errors"] for e, c, r in versions[-1].rows if e.startswith("GET /v1"))
    headline(
        f"{WORKERS} uvicorn workers, wrk: nearest-station at 64 connections "
        + (f"{nearest[0]['rps']:,.0f} req/s, p99 {nearest[0]['p99']:.1f} ms" if nearest else "—")
        + f"; errors at most {worst:.0f} up to {max(LEVELS)} connections; /maps/stations at 16 "
        + (f"{pages[0]['rps']:,.0f} pages/s" if pages else "—")
        + f", {size / 1024:.0f} KB a page"
    )
    print(
        "  targets: nearest ≥ 3,000 req/s, p99 ≤ 50 ms at 64 connections, 0 errors at 256; "
        "/maps/stations ≥ 200 pages/s warm, ≤ 150 KB"
    )


if __name__ == "__main__":
    main()
