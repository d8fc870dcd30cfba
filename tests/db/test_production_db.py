"""A union's own PostgreSQL: an owner who is not a superuser, the DBA's one step, what the
database holds and the generated rows removed — as ``yizhan`` commands, run as an operator would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from geo.db.connection import database_url, drop_database, make_engine
from geo.db.ddl import ddl
from geo.db.holdings import clear_sample, holdings
from geo.settings import PROJECT_ROOT, Settings
from tests.conftest import copied_database, run_yizhan, worker_database

pytestmark = pytest.mark.server

YIZHAN = Path(sys.executable).parent / "yizhan"
OWNER = "yz_owner_test"


def _run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_yizhan(*args, env={"YIZHAN_DATABASE_URL": url})


def _superuser(settings: Settings, database: str) -> Engine:
    return create_engine(database_url(settings, database), isolation_level="AUTOCOMMIT")


@pytest.fixture
def owned(settings: Settings, db_url: str) -> Iterator[str]:
    """An empty database owned by a role that is not a superuser (as a union's DBA makes it)."""
    name = worker_database("yizhan_test_owned")
    admin = _superuser(settings, "postgres")
    with admin.connect() as c:
        c.execute(text(ddl("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)))
        c.execute(text(ddl("DROP ROLE IF EXISTS {}", OWNER)))
        c.execute(text(ddl("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB", OWNER)))
        c.execute(text(ddl("CREATE DATABASE {} OWNER {}", name, OWNER)))
    url = make_url(database_url(settings, name)).set(username=OWNER)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(database_url(settings, name))
        with admin.connect() as c:
            c.execute(text(ddl("DROP ROLE IF EXISTS {}", OWNER)))
        admin.dispose()


def test_an_owner_without_superuser_migrates_once_the_dba_enabled_postgis(
    settings: Settings, owned: str
) -> None:
    check = _run(owned, "db", "check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "CREATE EXTENSION postgis;" in check.stdout
    migrate = _run(owned, "db", "migrate")
    assert migrate.returncode == 1
    assert "Traceback" not in migrate.stderr
    assert "CREATE EXTENSION postgis;" in migrate.stderr
    with _superuser(settings, make_url(owned).database or "").connect() as dba:
        dba.execute(text("CREATE EXTENSION postgis"))  # the DBA's one step
    assert _run(owned, "db", "migrate", "--check").returncode == 1  # an upgrade is pending
    migrate = _run(owned, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr
    check = _run(owned, "db", "check")
    assert check.returncode == 0, check.stdout
    assert "pgRouting is not enabled (optional" in check.stdout
    assert _run(owned, "db", "migrate", "--check").returncode == 0
    status = _run(owned, "data", "status")
    assert status.returncode == 0, status.stderr
    assert "stations" in status.stdout
    # the README's "From the sample to your own data", as the owner (no superuser) runs it
    areas = _run(owned, "data", "load-areas")
    assert areas.returncode == 0, areas.stderr
    examples = PROJECT_ROOT / "data" / "examples"
    for kind, name in (
        ("stations", "stations-some-by-address.csv"),
        ("grids", "grids.geojson"),
        ("members", "members.xlsx"),
        ("workplaces", "workplaces.csv"),
    ):
        done = _run(owned, "import", kind, str(examples / name))
        assert done.returncode == 0, (kind, done.stdout, done.stderr)
        if kind == "stations":
            assert "1 stations have an address but no coordinates" in done.stderr
    rows = {}
    for line in _run(owned, "data", "status").stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit():
            rows[parts[0]] = (int(parts[1]), int(parts[2]))
    assert rows["stations"] == (1, 0)  # the union's own, none generated
    assert rows["unplaced_stations"] == (1, 0)  # known by address: waits for staff
    assert rows["grids"] == (1, 0)
    assert rows["grid_members"] == (2, 0)
    assert rows["workplaces"] == (3, 0)
    assert rows["districts"][0] == 7


def test_clear_sample_removes_generated_rows_and_keeps_real_ones(
    settings: Settings, template_url: str
) -> None:
    with copied_database(settings, template_url, worker_database("yizhan_test_clear")) as url:
        eng = make_engine(url)
        try:
            with eng.begin() as conn:
                before = {layer.name: layer for layer in holdings(conn)}
                assert before["stations"].synthetic == before["stations"].rows > 0
                conn.execute(  # one of the union's own, where a generated one stands
                    text(
                        "INSERT INTO stations (name, kind, status, synthetic, source, town_id,"
                        " amenities, opening_hours, version, geom) SELECT '本会驿站', kind, status,"
                        " false, 'import', town_id, amenities, opening_hours, 1, geom"
                        " FROM stations ORDER BY id LIMIT 1"
                    )
                )
            said = _run(url, "data", "clear-sample")
            assert said.returncode == 0, said.stderr
            with eng.connect() as conn:
                after = {layer.name: layer for layer in holdings(conn)}
                names = list(conn.scalars(text("SELECT name FROM stations")))
            assert names == ["本会驿站"]
            for layer in ("grids", "grid_members", "workplaces"):
                assert after[layer].synthetic == 0
            assert after["towns"].rows == before["towns"].rows  # real: kept
            assert after["districts"].rows == before["districts"].rows
            with eng.begin() as conn:
                assert clear_sample(conn) == dict.fromkeys(
                    ("workplaces", "stations", "grid_members", "grids"), 0
                )
        finally:
            eng.dispose()


def test_production_serve_loads_nothing_and_health_says_what_is_missing(
    settings: Settings, tmp_path: Path, db_url: str
) -> None:
    """No made-up stations, members or roads reach a production database."""
    import socket
    import time

    import httpx

    name = worker_database("yizhan_test_production")
    url = database_url(settings, name)
    drop_database(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "YIZHAN_MODE": "production",
        "YIZHAN_DATABASE_URL": url,
        "YIZHAN_SECRET_KEY": "q7Rk2fX9vLp0sT4wYb1nE5mZc8HdJ3gUaW6",
        "YIZHAN_ADMIN_PASSWORD": "a-strong-passphrase-7",
        "YIZHAN_STATE_DIR": str(tmp_path / "state"),
        "YIZHAN_JOBS_AT_START": "false",
    }
    server = subprocess.Popen(
        [str(YIZHAN), "serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.5)
        assert health is not None
        assert health.status_code == 503
        body = health.json()
        assert body["missing"] == ["no stations yet", "no road network yet"]
        assert body["database"]["counts"]["stations"] == 0
        assert body["database"]["counts"]["grid_members"] == 0
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
        drop_database(url)
    assert "nothing is loaded" in out


def test_production_never_serves_the_generated_roads(small_network_file: Path) -> None:
    from geo.network import is_synthetic_file
    from geo.platform import RoadNetwork

    assert is_synthetic_file(small_network_file)
    prod = Settings(
        mode="production",
        database_url="postgresql://u@h/d",
        secret_key="q7Rk2fX9vLp0sT4wYb1nE5mZc8HdJ3gUaW6",
        admin_password="a-strong-passphrase-7",
    )
    roads = RoadNetwork(small_network_file)
    roads.start(None, prod)  # type: ignore[arg-type]  (refused before the database is asked)
    assert roads.status == "absent"
    assert "generated" in (roads.error or "")
