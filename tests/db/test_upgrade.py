"""Upgrades keep every row: a database at the previous schema revision, holding the sample,
cases with their history, accounts and jobs, migrated to the head, loses and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine, MetaData, select, text

from api.app import create_app
from geo.db.connection import (
    alembic_config,
    database_url,
    drop_database,
    ensure_database,
    make_engine,
    prepare_database,
    upgrade,
)
from geo.db.load import load_sample
from geo.settings import Settings
from tests.conftest import run_yizhan, worker_database
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
    url = database_url(settings, worker_database("yizhan_test_upgrade"))
    drop_database(url)
    ensure_database(url)
    upgrade(url, _previous_revision(url))
    eng = make_engine(url)
    load_sample(eng, settings.region_dir)
    eng.dispose()
    yield url
    drop_database(url)


@pytest.mark.slow
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
    assert set(after) - set(before) == set()  # the head widens a constraint, adds no table
    upgraded = settings.model_copy(update={"database_url": previous, "escalation_interval_s": 0})
    with TestClient(create_app(upgraded)) as client:
        client.app.state.platform.roads.wait(300)
        near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
        assert near.status_code == 200
        assert near.json()["results"]


def _revisions(url: str) -> list[str]:
    """Every schema revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _copy_rows(source: Engine, target: Engine) -> None:
    """The sample's rows (and the rest of ``source``) into an older schema: the columns it has."""
    skip = {"alembic_version", "spatial_ref_sys"}
    old, new = MetaData(), MetaData()
    old.reflect(target)
    new.reflect(source)
    with source.connect() as read, target.begin() as write:
        for table in old.sorted_tables:
            if table.name in skip or table.name not in new.tables:
                continue
            columns = [c.name for c in table.columns if c.name in new.tables[table.name].c]
            rows = read.execute(select(*(new.tables[table.name].c[c] for c in columns)))
            batch = [dict(r._mapping) for r in rows]
            if batch:
                write.execute(table.insert(), batch)
            if "id" in table.c and batch and isinstance(batch[0]["id"], int):  # a serial
                write.execute(
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                    {"t": table.name, "n": max(int(r["id"]) for r in batch)},
                )


def _columns_fingerprint(
    engine: Engine, tables: dict[str, list[str]]
) -> dict[str, tuple[int, str]]:
    """Row count and checksum of each table, over the columns given for it."""
    found = {}
    with engine.connect() as conn:
        for table, columns in tables.items():
            query = (
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text),"
                    " '')) FROM (SELECT {} FROM {}) t"
                )
                .format(sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
                .as_string(None)
            )
            row = conn.execute(text(query)).one()
            found[table] = (int(row[0]), str(row[1]))
    return found


@pytest.mark.slow
def test_every_earlier_schema_upgrades_to_the_head_keeping_every_row(
    settings: Settings, db_url: str
) -> None:
    """A database at each earlier revision, holding the sample as that revision could, is
    migrated to the head: no row lost, no value it held changed.

    Each is migrated by what ``yizhan db migrate`` calls (``prepare_database``), in this
    process: the command itself is run from the previous revision, above, and a process per
    revision would only add start-up time.
    """
    source = make_engine(db_url)
    revisions = _revisions(db_url)
    assert len(revisions) >= 9
    try:
        for revision in revisions[:-1]:
            url = database_url(settings, f"yizhan_test_upgrade_{revision}")
            drop_database(url)
            ensure_database(url)
            try:
                upgrade(url, revision)
                target = make_engine(url)
                _copy_rows(source, target)
                meta = MetaData()
                meta.reflect(target)
                held = {
                    t.name: [c.name for c in t.columns]
                    for t in meta.sorted_tables
                    if t.name not in ("alembic_version", "spatial_ref_sys")
                }
                before = _columns_fingerprint(target, held)
                assert before["stations"][0] > 0, revision
                target.dispose()
                prepare_database(settings.model_copy(update={"database_url": url}))
                target = make_engine(url)
                assert _columns_fingerprint(target, held) == before, revision
                target.dispose()
            finally:
                drop_database(url)
    finally:
        source.dispose()
