"""Every API process in step: a station changed anywhere reaches every routing engine.

Two servers on one database, each with its own platform and engine (as two uvicorn workers or
two hosts have): a station closed through one leaves the other's answers within a second,
with no restart. A change made in plain SQL (as ``yizhan import`` writes) reaches them too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from tests.api.conftest import OwnDatabase, database_of_its_own, live_server

pytestmark = pytest.mark.server

own, client, engine = database_of_its_own("feed", escalation_interval_s=0)
SPOT = {"lat": 22.585, "lon": 113.08, "k": 1}


@pytest.fixture(scope="module")
def servers(own: OwnDatabase) -> Iterator[tuple[str, str]]:
    with live_server(own.settings) as a, live_server(own.settings) as b:
        yield a, b


def _nearest_ids(base: str) -> list[int]:
    r = httpx.get(f"{base}/v1/stations/nearest", params=SPOT, timeout=30)
    assert r.status_code == 200, r.text
    return [hit["station"]["id"] for hit in r.json()["results"]]


def _until_gone(base: str, station_id: int, seconds: float = 5.0) -> float:
    start = time.monotonic()
    while station_id in _nearest_ids(base):
        assert time.monotonic() - start < seconds, f"station {station_id} still served by {base}"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_station_closed_through_one_server_leaves_the_others_answers(
    servers: tuple[str, str],
) -> None:
    a, b = servers
    (first,) = _nearest_ids(b)
    assert _nearest_ids(a) == [first]
    token = httpx.post(f"{a}/v1/auth/token", data={"username": "admin", "password": "admin"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = httpx.patch(f"{a}/v1/stations/{first}", json={"status": "closed"}, headers=headers)
    assert r.status_code == 200, r.text
    assert first not in _nearest_ids(a)  # the server that made the change: at once
    _until_gone(b, first)  # the other one: through the feed, well within a second or so


def test_a_change_in_plain_sql_reaches_every_engine(
    own: OwnDatabase, servers: tuple[str, str]
) -> None:
    a, b = servers
    (first,) = _nearest_ids(a)
    with own.engine.begin() as conn:  # as an import or a script writes: no API involved
        conn.execute(text("UPDATE stations SET status = 'closed' WHERE id = :id"), {"id": first})
    _until_gone(a, first)
    _until_gone(b, first)
    with own.engine.begin() as conn:
        conn.execute(text("UPDATE stations SET status = 'active' WHERE id = :id"), {"id": first})
    deadline = time.monotonic() + 5
    while _nearest_ids(b) != [first]:
        assert time.monotonic() < deadline, "the reopened station did not come back"
        time.sleep(0.05)


@pytest.mark.slow
def test_yizhan_serve_with_two_processes_keeps_both_in_step(own: OwnDatabase) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    from geo.settings import PROJECT_ROOT

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "YIZHAN_NETWORK_FILE": str(own.settings.network_file),
        "YIZHAN_ESCALATION_INTERVAL_S": "0",
        "YIZHAN_RATE_LIMIT_PER_MINUTE": "0",
        "YIZHAN_JOB_MEMORY_LIMIT": "1GiB",
    }
    if own.settings.database_url:
        env["YIZHAN_DATABASE_URL"] = own.settings.database_url
    else:
        env["YIZHAN_DATABASE_NAME"] = own.settings.database_name
    cmd = [sys.executable, "-m", "cli", "serve", "--no-load", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, ready = time.monotonic() + 240, 0
        while ready < 20:  # twenty answers in a row: both processes have their graph
            assert time.monotonic() < deadline, "yizhan serve --workers 2 did not start"
            try:
                ok = httpx.get(f"{base}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                ok = False
            ready = ready + 1 if ok else 0
            time.sleep(0.05 if ok else 0.5)
        health = httpx.get(f"{base}/health").json()
        assert health["analysis"]["workers"] in (0, 2)  # one shared cluster, asked for lazily
        (first,) = _nearest_ids(base)
        token = httpx.post(f"{base}/v1/auth/token", data={"username": "admin", "password": "admin"})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = httpx.patch(f"{base}/v1/stations/{first}", json={"status": "closed"}, headers=headers)
        assert r.status_code == 200, r.text
        time.sleep(1.0)
        answers = [_nearest_ids(base) for _ in range(30)]  # new connections: both processes
        assert all(first not in ids for ids in answers), answers
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
