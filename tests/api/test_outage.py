"""Database outages: 503 with Retry-After, routing from memory, recovery without restart,
and no acknowledged case lost when the server process is killed hard."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geo.db.cluster import EmbeddedCluster, reachable_root
from geo.db.connection import ensure_database, make_engine, upgrade
from geo.db.load import load_sample
from geo.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def own_cluster(settings: Settings) -> Iterator[tuple[EmbeddedCluster, str]]:
    """A second, throwaway PostGIS cluster that these tests may stop and start."""
    root = reachable_root(settings.state_dir / "outage-test-pg")
    cluster = EmbeddedCluster(root, port=5433, bin_dir=settings.pg_bin_dir)
    cluster.destroy()
    cluster.up()
    url = cluster.url("yizhan_outage")
    ensure_database(url)
    upgrade(url)
    eng = make_engine(url)
    load_sample(eng, settings.region_dir)
    eng.dispose()
    yield cluster, url
    cluster.destroy()


def test_outage_answers_503_routing_goes_on_and_recovers(settings: Settings, own_cluster) -> None:
    cluster, url = own_cluster
    s = settings.model_copy(update={"database_url": url, "escalation_interval_s": 0})
    with TestClient(create_app(s)) as c:
        c.app.state.platform.roads.wait(300)
        assert c.get("/v1/stations").status_code == 200
        cluster.down()
        try:
            down = c.get("/v1/stations")
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert "database is unavailable" in down.json()["error"]["message"]
            assert c.get("/health").json()["database"]["status"] == "unavailable"
            near = c.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
            assert near.status_code == 200
            assert near.json()["results"]
            assert (
                c.post(
                    "/v1/cases",
                    json={"category": "other", "description": "x", "lon": 113.08, "lat": 22.58},
                ).status_code
                == 503
            )
        finally:
            cluster.up()
        assert c.get("/v1/stations").status_code == 200  # no restart needed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int) -> subprocess.Popen:
    fd, said = tempfile.mkstemp(prefix="yizhan-serve-", suffix=".log")  # shown if it fails
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--no-load", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=fd,
    )
    os.close(fd)  # the server writes to its own copy
    deadline = time.monotonic() + 180  # serve also starts its Dask worker: slow on a busy CI
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code in (200, 503):
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    ended = proc.poll()
    proc.kill()
    proc.wait(10)
    tail = Path(said).read_text(errors="replace")[-3000:]
    msg = f"server did not start (exit status {ended}); it said:\n{tail}"
    raise RuntimeError(msg)


def test_acknowledged_case_survives_a_hard_kill(settings: Settings, own_cluster) -> None:
    _, url = own_cluster
    env = {
        **os.environ,
        "YIZHAN_DATABASE_URL": url,
        "YIZHAN_NETWORK_FILE": str(settings.network_file),
        "YIZHAN_ESCALATION_INTERVAL_S": "0",
        "YIZHAN_RATE_LIMIT_PER_MINUTE": "0",
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(env, port)
    try:
        r = httpx.post(
            f"{base}/v1/cases",
            json={
                "category": "wage_arrears",
                "description": "kill test",
                "lon": 113.08,
                "lat": 22.58,
            },
            timeout=30,
        )
        assert r.status_code == 201
        case_id = r.json()["id"]
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    server = _serve(env, port)
    try:
        token = httpx.post(
            f"{base}/v1/auth/token", data={"username": "admin", "password": "admin"}
        ).json()
        got = httpx.get(
            f"{base}/v1/cases/{case_id}",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        assert got.status_code == 200
        assert got.json()["description"] == "kill test"
        events = httpx.get(
            f"{base}/v1/cases/{case_id}/events",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ).json()
        assert events["events"][0]["action"] == "submitted"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)


def test_the_api_starts_with_the_database_down_and_is_ready_when_it_returns(
    settings: Settings, own_cluster
) -> None:
    cluster, url = own_cluster
    s = settings.model_copy(update={"database_url": url, "escalation_interval_s": 0})
    cluster.down()
    try:
        with TestClient(create_app(s)) as c:
            health = c.get("/health")
            assert health.status_code == 503
            said = str(health.json())
            assert ".s.PGSQL" not in said
            assert str(cluster.root) not in said
            assert "outage-test-pg" not in said
            cluster.up()
            deadline = time.monotonic() + 60
            while c.get("/health").status_code != 200:
                assert time.monotonic() < deadline, c.get("/health").json()
                time.sleep(0.5)
            near = c.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
            assert near.status_code == 200
            assert near.json()["results"]
            token = c.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
            assert token.status_code == 200
    finally:
        cluster.up()
