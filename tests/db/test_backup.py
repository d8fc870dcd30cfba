"""A backup restores exactly: every table's rows and the state files, then the same answers."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.db.connection import database_url, drop_database, make_engine
from geo.db.ddl import ddl
from geo.settings import Settings
from tests.api.conftest import own_database
from tests.conftest import run_yizhan

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _yizhan(url: str, state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_yizhan(*args, env={"YIZHAN_DATABASE_URL": url, "YIZHAN_STATE_DIR": str(state)})


def _fingerprint(engine: Engine) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of all its rows."""
    with engine.connect() as conn:
        tables = list(
            conn.scalars(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'spatial_ref_sys' ORDER BY tablename"
                )
            )
        )
        found = {}
        for table in tables:
            checksum = ddl(
                "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), ''))"
                " FROM {} t",
                table,
            )
            row = conn.execute(text(checksum)).one()
            found[table] = (int(row[0]), str(row[1]))
    return found


def _answers(client: TestClient, admin: dict[str, str], case_id: int) -> dict[str, Any]:
    near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08, "k": 3})
    events = client.get(f"/v1/cases/{case_id}/events", headers=admin)
    return {
        "nearest": [(r["station"]["id"], r["travel_time_s"]) for r in near.json()["results"]],
        "events": events.json(),
        "attachment": client.get(f"/v1/cases/{case_id}/attachments", headers=admin).json(),
    }


@pytest.mark.slow
def test_backup_destroy_restore_gives_every_row_back(
    settings: Settings, template_url: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    (state / "networks").mkdir(parents=True)
    (state / "networks" / "union-roads.osm").write_text("<osm version='0.6'/>")
    with own_database(settings, template_url, "backup", escalation_interval_s=0) as own:
        client = own.client
        token = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        case = {"category": "wage_arrears", "description": "备份测试", "lon": 113.08, "lat": 22.58}
        case_id = client.post("/v1/cases", json=case).json()["id"]
        assert (
            client.post(
                f"/v1/cases/{case_id}/notes", json={"text": "电话已联系"}, headers=admin
            ).status_code
            == 201
        )
        attach = {**admin, "X-Filename": "photo.png", "Content-Type": "image/png"}
        assert (
            client.post(f"/v1/cases/{case_id}/attachments", content=PNG, headers=attach).status_code
            == 201
        )
        before_answers = _answers(client, admin, case_id)
        before = _fingerprint(own.engine)
        url = database_url(own.settings)
        own.engine.dispose()
        client.app.state.platform.db.dispose()
        made = _yizhan(url, state, "db", "backup", str(tmp_path / "yizhan.tar"))
        assert made.returncode == 0, made.stderr
    drop_database(url)  # the disaster (own_database had dropped it already; now surely gone)
    (state / "networks" / "union-roads.osm").unlink()
    back = _yizhan(url, state, "db", "restore", str(tmp_path / "yizhan.tar"))
    assert back.returncode == 0, back.stderr
    assert (state / "networks" / "union-roads.osm").exists()
    engine = make_engine(url)
    try:
        after = _fingerprint(engine)
        assert after.keys() == before.keys()
        for table, value in before.items():
            assert after[table] == value, table
        again = _yizhan(url, state, "db", "restore", str(tmp_path / "yizhan.tar"))
        assert again.returncode == 1
        assert "not empty" in again.stderr
        restored = own.settings.model_copy(update={"database_url": url})
        with TestClient(create_app(restored)) as fresh:
            fresh.app.state.platform.roads.wait(300)
            token = fresh.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
            admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
            assert _answers(fresh, admin, case_id) == before_answers
    finally:
        engine.dispose()
        drop_database(url)
