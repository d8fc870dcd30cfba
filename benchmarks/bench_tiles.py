"""The own basemap's tiles against TiPg, serving the same PostGIS tables in the same run.

On the loaded sample (``yizhan load-sample``): the API as ``yizhan serve`` runs it, and TiPg
(developmentseed's PostGIS tile server, from PyPI, in a venv of its own at ``.yizhan/tipg``)
on the same database. For the tiles of central Jiangmen at z12–z15 it prints:

- **latency** p50/p99 over HTTP: yizhan's first request of each tile (cut by PostGIS),
  yizhan's second (kept in memory), TiPg's (``basemap_roads`` alone — TiPg serves one table
  a tile, yizhan all seven layers in one);
- **size**: the densest z14 tile, gzip-compressed (the issue's budget: ≤ 15 KB);
- **riders while tiles are fetched**: the riders' nearest-station throughput (wrk, a process
  of its own) alone, beside map viewers at a steady pace, and beside four connections asking
  tiles without pause — straight to the app, and through nginx as ``deploy/`` ships it (it
  keeps tiles as long as the app says).

Run: ``.venv/bin/python -m benchmarks.bench_tiles`` (about two minutes the first time).
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import morecantile
import numpy as np
from sqlalchemy.engine import make_url

from benchmarks.bench_jobs import start_server
from benchmarks.common import headline
from benchmarks.load import ensure_wrk, nearest_script, run_level
from geo.db.connection import database_url
from geo.settings import PROJECT_ROOT, get_settings
from tests.nginx import nginx_in_front

TIPG_VENV = PROJECT_ROOT / ".yizhan" / "tipg"
TIPG_VERSION = "1.6.1"
WMQ = morecantile.tms.get("WebMercatorQuad")
#: central Jiangmen (蓬江区 and 江海区)
BBOX = (113.02, 22.53, 113.14, 22.63)
ZOOMS = (12, 13, 14, 15)


def tipg_python() -> Path:
    """TiPg's venv interpreter, made (and filled from PyPI) the first time."""
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        print("making TiPg's venv (.yizhan/tipg) from PyPI", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(TIPG_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"tipg=={TIPG_VERSION}", "uvicorn"],
            check=True,
        )
    return python


def start_tipg(port: int) -> subprocess.Popen[bytes]:
    """TiPg on the service's database (its own connection string, asyncpg's spelling)."""
    url = make_url(database_url(get_settings()))
    socket_dir = url.query.get("host")
    host = quote(str(socket_dir), safe="") if socket_dir else (url.host or "localhost")
    dsn = f"postgresql://{url.username}@{host}:{url.port or 5432}/{url.database}"
    env = {**os.environ, "DATABASE_URL": dsn, "TIPG_DB_SCHEMAS": '["public"]'}
    cmd = [str(tipg_python()), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(cmd, env=env)


def wait(url: str, ok: int = 200, tries: int = 600) -> None:
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=5).status_code == ok:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer")


def tiles_of_centre() -> list[morecantile.Tile]:
    return [t for z in ZOOMS for t in WMQ.tiles(*BBOX, zooms=[z])]


def timed(client: httpx.Client, urls: list[str]) -> tuple[np.ndarray, list[bytes]]:
    ms, bodies = [], []
    for url in urls:
        t0 = time.perf_counter()
        answer = client.get(url)
        ms.append((time.perf_counter() - t0) * 1000)
        answer.raise_for_status()
        bodies.append(answer.content)
    return np.array(ms), bodies


TILES_LUA = """
local urls = {%s}
local i = 0
request = function()
  i = (i %% #urls) + 1
  return wrk.format("GET", urls[i], {["Accept-Encoding"] = "gzip"})
end
"""

#: a rider's first view at phone size asks about 12 tiles: this pace is 10 first views a second
PACED_TILES_PER_S = 120
PACER = """
import sys, time, httpx
base, rate, seconds, urls = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
with httpx.Client(base_url=base, verify=False, headers={"Accept-Encoding": "gzip"}) as c:
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        c.get(urls[n % len(urls)])
        n += 1
        time.sleep(max(0.0, start + n / rate - time.perf_counter()))
print(n / (time.perf_counter() - start))
"""


def tiles_script(folder: Path, tiles: list[morecantile.Tile]) -> Path:
    """A wrk script asking the tiles of central Jiangmen in turn (gzip, as browsers do)."""
    urls = ", ".join(f'"/ogc/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"' for t in tiles)
    script = folder / "tiles.lua"
    script.write_text(TILES_LUA % urls)
    return script


def kept_p50_by_wrk(base: str, pid: int, tiles: list[morecantile.Tile]) -> float:
    """The kept tiles' p50 from wrk on one connection (no Python client's own time in it)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = tiles_script(Path(tmp), tiles)
        return float(
            run_level(
                ensure_wrk(), ["-t1", "-c1", "-d4s", "--latency", "-s", str(script), base], pid
            )["p50"]
        )


def riders_beside(
    wrk: str, riders: Path, base: str, pid: int, load: list[str] | None
) -> tuple[dict[str, Any], float]:
    """Riders' nearest (wrk, 8 connections, 8 s) while ``load`` runs in a process of its own
    (none: alone); the riders' figures and the load's tiles a second."""
    other = subprocess.Popen(load, stdout=subprocess.PIPE, text=True) if load else None
    time.sleep(1.0 if other else 0.0)
    try:
        r = run_level(wrk, ["-t1", "-c8", "-d8s", "--latency", "-s", str(riders), base], pid)
    finally:
        out = other.communicate(timeout=60)[0] if other else ""
    if not out:
        return r, 0.0
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    return r, float(found.group(1)) if found else float(out.strip().splitlines()[-1])


def riders_while_tiles(base: str, pid: int, tiles: list[morecantile.Tile]) -> list[str]:
    """Riders' throughput alone, beside map viewers at a steady pace and beside tiles asked
    without pause (straight to the app, and through nginx as deploy/ ships it, which keeps
    tiles); printed, and the README's words."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        riders, flat_out = nearest_script(folder), tiles_script(folder, tiles)
        paths = [f"/ogc/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}" for t in tiles]
        rows: list[tuple[str, dict[str, Any], float]] = []
        with nginx_in_front(base, folder) as (proxied, _, _):
            for label, front, load in (
                ("alone", base, None),
                (
                    f"beside {PACED_TILES_PER_S} tiles/s (10 first views/s)",
                    base,
                    [sys.executable, "-c", PACER, base, str(PACED_TILES_PER_S), "10", *paths],
                ),
                (
                    "beside tiles without pause, to the app",
                    base,
                    [wrk, "-t1", "-c4", "-d10s", "-s", str(flat_out), base],
                ),
                ("alone, through nginx", proxied, None),
                (
                    "beside tiles without pause, through nginx",
                    proxied,
                    [wrk, "-t1", "-c4", "-d10s", "-s", str(flat_out), proxied],
                ),
            ):
                r, tiles_per_s = riders_beside(wrk, riders, front, pid, load)
                rows.append((label, r, tiles_per_s))
    print(f"{'riders nearest (wrk, 8 connections)':<52}{'req/s':>8}{'p50 ms':>8}{'tiles/s':>9}")
    for label, r, tiles_per_s in rows:
        print(f"{label:<52}{r['rps']:>8.0f}{r['p50']:>8.2f}{tiles_per_s:>9.0f}")
    alone, paced, flat, nginx_alone, nginx_flat = (r["rps"] for _, r, _ in rows)
    return [
        f"riders' nearest {alone:.0f} req/s alone, {paced / alone:.2f}x beside "
        f"{PACED_TILES_PER_S} tiles/s, {flat / alone:.2f}x beside tiles without pause "
        f"({rows[2][2]:.0f}/s) to the app, {nginx_flat / nginx_alone:.2f}x through nginx "
        f"(tiles kept there, {rows[4][2]:.0f}/s)"
    ]


def main() -> None:
    ours, theirs = 8311, 8312
    server = start_server(ours)
    tipg = start_tipg(theirs)
    base, tbase = f"http://127.0.0.1:{ours}", f"http://127.0.0.1:{theirs}"
    try:
        wait(f"{base}/health")
        for _ in range(600):  # the basemap is drawn after the graph
            if httpx.get(f"{base}/health").json()["basemap"]["status"] in ("ok", "error"):
                break
            time.sleep(0.5)
        wait(f"{tbase}/collections")
        tiles = tiles_of_centre()
        print(f"{len(tiles)} tiles of central Jiangmen at z{ZOOMS[0]}–z{ZOOMS[-1]}")
        with httpx.Client(timeout=30) as client:
            ours_urls = [f"{base}/ogc/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}" for t in tiles]
            tipg_urls = [
                f"{tbase}/collections/public.basemap_roads/tiles/WebMercatorQuad/{t.z}/{t.x}/{t.y}"
                for t in tiles
            ]
            first, bodies = timed(client, ours_urls)
            kept, _ = timed(client, ours_urls)
            timed(client, tipg_urls[:5])  # TiPg's connection pool and catalogue warm
            other, other_bodies = timed(client, tipg_urls)
            print(f"{'server':<34}{'p50 ms':>8}{'p99 ms':>8}{'KB gz p50':>11}")
            for name, ms, found in (
                ("yizhan, first request (PostGIS)", first, bodies),
                ("yizhan, kept", kept, bodies),
                ("TiPg (roads only)", other, other_bodies),
            ):
                sizes = [len(gzip.compress(b)) / 1024 for b in found]
                print(
                    f"{name:<34}{np.percentile(ms, 50):>8.2f}{np.percentile(ms, 99):>8.2f}"
                    f"{np.percentile(sizes, 50):>11.1f}"
                )
            print(
                f"ratio p50 TiPg / yizhan: first {np.percentile(other, 50) / np.percentile(first, 50):.2f}x, "
                f"kept {np.percentile(other, 50) / np.percentile(kept, 50):.1f}x"
            )
            z14 = [len(gzip.compress(b)) for t, b in zip(tiles, bodies, strict=True) if t.z == 14]
            print(f"densest z14 tile: {max(z14) / 1024:.1f} KB gzip (budget 15 KB)")
            kept_p50 = kept_p50_by_wrk(base, server.pid, tiles)
            print(f"kept tile p50 by wrk (one connection, no client overhead): {kept_p50:.2f} ms")
        riders = riders_while_tiles(base, server.pid, tiles)
        headline(
            f"{len(tiles)} tiles of central Jiangmen, z{ZOOMS[0]}–z{ZOOMS[-1]}: first request "
            f"(cut by PostGIS, seven layers) p50 {np.percentile(first, 50):.1f} ms, kept p50 "
            f"{kept_p50:.2f} ms (wrk; {np.percentile(kept, 50):.2f} ms with httpx); TiPg (roads "
            f"only) p50 {np.percentile(other, 50):.1f} ms; densest z14 tile "
            f"{max(z14) / 1024:.1f} KB gzip; " + "; ".join(riders)
        )
    finally:
        for proc in (server, tipg):
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
