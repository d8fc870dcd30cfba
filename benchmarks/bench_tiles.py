"""The own basemap's tiles against TiPg, serving the same PostGIS tables in the same run.

On the loaded sample (``yizhan load-sample``): the API as ``yizhan serve`` runs it, and TiPg
(developmentseed's PostGIS tile server, from PyPI, in a venv of its own at ``.yizhan/tipg``)
on the same database. For the tiles of central Jiangmen at z12–z15 it prints:

- **latency** p50/p99 over HTTP: yizhan's first request of each tile (cut by PostGIS),
  yizhan's second (kept in memory), TiPg's (``basemap_roads`` alone — TiPg serves one table
  a tile, yizhan all seven layers in one);
- **size**: the densest z14 tile, gzip-compressed (the issue's budget: ≤ 15 KB);
- **riders while tiles are fetched**: nearest-station p50 alone and while four clients fetch
  tiles without pause.

Run: ``.venv/bin/python -m benchmarks.bench_tiles`` (about two minutes the first time).
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import morecantile
import numpy as np
from sqlalchemy.engine import make_url

from benchmarks.bench_jobs import start_server
from benchmarks.common import headline
from geo.db.connection import database_url
from geo.settings import PROJECT_ROOT, get_settings

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


def riders_p50(client: httpx.Client, base: str, n: int = 400) -> float:
    ms = []
    for i in range(n):
        lat, lon = 22.55 + (i % 20) * 0.004, 113.04 + (i // 20) * 0.004
        t0 = time.perf_counter()
        client.get(f"{base}/v1/stations/nearest", params={"lat": lat, "lon": lon, "k": 3})
        ms.append((time.perf_counter() - t0) * 1000)
    return float(np.percentile(ms, 50))


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
            alone = riders_p50(client, base)
            stop = threading.Event()

            def fetch() -> None:
                with httpx.Client(timeout=30) as own:
                    while not stop.is_set():
                        for url in ours_urls:
                            own.get(url)

            pullers = [threading.Thread(target=fetch) for _ in range(4)]
            for p in pullers:
                p.start()
            busy = riders_p50(client, base)
            stop.set()
            for p in pullers:
                p.join()
            print(
                f"riders' nearest p50: {alone:.2f} ms alone, {busy:.2f} ms while 4 clients fetch tiles"
            )
            headline(
                f"{len(tiles)} tiles of central Jiangmen, z{ZOOMS[0]}–z{ZOOMS[-1]}: first request "
                f"(cut by PostGIS, seven layers) p50 {np.percentile(first, 50):.1f} ms, kept p50 "
                f"{np.percentile(kept, 50):.2f} ms; TiPg (roads only) p50 "
                f"{np.percentile(other, 50):.1f} ms; densest z14 tile {max(z14) / 1024:.1f} KB "
                f"gzip; riders' nearest p50 {alone:.1f} ms alone, {busy:.1f} ms while 4 clients "
                "fetch tiles"
            )
    finally:
        for proc in (server, tipg):
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
