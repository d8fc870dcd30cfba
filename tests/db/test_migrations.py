from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from geo.db.connection import database_url, downgrade, drop_database, ensure_database, upgrade
from geo.settings import Settings
from tests.conftest import worker_database

TABLES = {
    "districts",
    "towns",
    "stations",
    "grids",
    "grid_members",
    "workplaces",
    "service_region",
    "users",
    "cases",
    "case_events",
}


@pytest.fixture
def empty_db(settings: Settings, db_url: str) -> Iterator[str]:
    url = database_url(settings, worker_database("yizhan_test_migrations"))
    drop_database(url)
    ensure_database(url)
    yield url
    drop_database(url)


def _tables(url: str) -> set[str]:
    eng = create_engine(url)
    try:
        return set(inspect(eng).get_table_names())
    finally:
        eng.dispose()


def test_upgrade_creates_every_table_on_an_empty_database(empty_db: str) -> None:
    assert not TABLES & _tables(empty_db)
    upgrade(empty_db)
    assert _tables(empty_db) >= TABLES


def test_downgrade_removes_them_and_upgrade_works_again(empty_db: str) -> None:
    upgrade(empty_db)
    downgrade(empty_db, "base")
    assert not TABLES & _tables(empty_db)
    upgrade(empty_db)
    assert _tables(empty_db) >= TABLES


def test_geometry_columns_have_gist_indexes(empty_db: str) -> None:
    upgrade(empty_db)
    eng = create_engine(empty_db)
    try:
        insp = inspect(eng)
        for table, column in [
            ("stations", "geom"),
            ("towns", "area"),
            ("grids", "geom"),
            ("grid_members", "base"),
            ("districts", "geom"),
        ]:
            gist = [ix for ix in insp.get_indexes(table) if ix["column_names"] == [column]]
            assert gist, f"{table}.{column} has no index"
            assert gist[0]["dialect_options"].get("postgresql_using") == "gist"
    finally:
        eng.dispose()


def test_migrations_match_the_models(empty_db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from geoalchemy2 import alembic_helpers

    from geo.db.models import Base

    upgrade(empty_db)
    eng = create_engine(empty_db)
    try:
        with eng.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_object": alembic_helpers.include_object}
            )
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        eng.dispose()


def test_cluster_root_falls_back_when_the_server_account_cannot_enter(tmp_path) -> None:
    import os

    from geo.db.cluster import reachable_root

    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    os.chmod(private, 0o700)
    chosen = reachable_root(private / "project" / ".yizhan" / "pg")
    if os.geteuid() == 0:
        assert str(chosen).startswith("/var/tmp/yizhan-pg/")
    else:
        assert chosen == (private / "project" / ".yizhan" / "pg").resolve()
    open_dir = Path("/var/tmp")
    assert reachable_root(open_dir / "x") == (open_dir / "x").resolve()
