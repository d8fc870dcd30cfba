"""Upgrades keep every row: a database at the previous schema revision, holding the sample,
cases with their history, accounts and jobs, migrated to the head, loses and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from api.app import create_app
from geo.db.connection import (
    alembic_config,
    database_url,
    drop_database,
    ensure_database,
    make_engine,
    upgrade,
)
from geo.db.load import load_sample
from geo.settings import Settings
from tests.conftest import run_yizhan
from tests.db.test_backup import _fingerprint


def _previous_revision(url: str) -> str:
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_revision(script.get_current_head())
    previous = head.down_revision
    assert isinstance(previous, str)
    return previous


@pytest.fixture
def previous(settings: Settings, db_url: str) -> Iterator[str]:
    """A database at the previous revision holding representative rows, written by the app."""
    url = database_url(settings, "yizhan_test_upgrade")
    drop_database(url)
    ensure_database(url)
    upgrade(url, _previous_revision(url))
    eng = make_engine(url)
    load_sample(eng, settings.region_dir)
    eng.dispose()
    yield url
    drop_database(url)


def test_the_previous_schema_upgrades_without_losing_or_changing_a_row(
    settings: Settings, previous: str
) -> None:
    from sqlalchemy import text

    eng = make_engine(previous)
    with eng.begin() as conn:  # what the previous version's service wrote: cases, history, jobs
        town = conn.scalar(text("SELECT id FROM towns ORDER BY id LIMIT 1"))
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role, town_id, active)"
                " VALUES ('old_manager', 'argon2-hash-kept-as-is', 'manager', :t, true)"
            ),
            {"t": town},
        )
        conn.execute(
            text(
                "INSERT INTO jobs (id, process, owner, inputs, status, progress)"
                " VALUES ('11111111-1111-1111-1111-111111111111', 'coverage-gaps', 'old_manager',"
                " '{\"minutes\": 10}', 'successful', 100)"
            )
        )
    before = _fingerprint(eng)
    eng.dispose()
    env = {"YIZHAN_DATABASE_URL": previous}
    pending = run_yizhan("db", "migrate", "--check", env=env)
    assert pending.returncode == 1  # an upgrade is pending, and nothing was changed by asking
    eng = make_engine(previous)
    assert _fingerprint(eng) == before
    eng.dispose()
    done = run_yizhan("db", "migrate", env=env)
    assert done.returncode == 0, done.stderr
    eng = make_engine(previous)
    after = _fingerprint(eng)
    eng.dispose()
    for table, value in before.items():
        if table == "alembic_version":
            continue
        assert after[table] == value, table
    assert set(after) - set(before) == {"user_sessions"}  # what the head adds
    upgraded = settings.model_copy(update={"database_url": previous, "escalation_interval_s": 0})
    with TestClient(create_app(upgraded)) as client:
        client.app.state.platform.roads.wait(300)
        near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
        assert near.status_code == 200
        assert near.json()["results"]
