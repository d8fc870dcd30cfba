"""Shared fixtures: a real PostGIS database (embedded cluster or YIZHAN_DATABASE_URL).

A template database is migrated and loaded with the sample once; the session's database and
the databases of modules that write cases are copies of it (``CREATE DATABASE ... TEMPLATE``),
dropped afterwards — nothing is ever deleted behind the back of the append-only history.
Tests that write through a connection run inside a transaction that is rolled back.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, Engine

from geo.db.connection import (
    clone_database,
    database_url,
    drop_database,
    embedded_cluster,
    ensure_database,
    make_engine,
    upgrade,
)
from geo.db.load import load_sample
from geo.sample import real
from geo.sample.build import read_sample_layer
from geo.sample.roads import generate_road_network, write_osm_xml
from geo.sample.towns import METRIC_CRS, town_seats_metric
from geo.settings import PROJECT_ROOT, Settings

#: the pytest-xdist worker running this process ("gw0", "gw1"...; "" when run serially)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database(name: str) -> str:
    """``name`` for this test worker: parallel workers never share a database."""
    return f"{name}_{WORKER}" if WORKER else name


T = TypeVar("T")
TEST_DB = worker_database("yizhan_test")
TEMPLATE_DB = worker_database("yizhan_test_template")
CENTRAL_DISTRICTS = ("440703", "440704")  # 蓬江区, 江海区
OSM_FIXTURES = PROJECT_ROOT / "data" / "osm_fixtures"


@pytest.fixture(scope="session")
def small_network_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated network (about 12 x 10 km, three towns) written as OSM XML in UTM 49N."""
    box = shapely.box(300_000, 2_500_000, 312_000, 2_510_000)
    seats = np.array([[302_000.0, 2_502_000.0], [309_000.0, 2_503_000.0], [305_000.0, 2_508_000.0]])
    net = generate_road_network(
        box,
        seats,
        np.array([80_000, 40_000, 20_000]),
        np.array([True, True, False]),
        rng=np.random.default_rng(7),
        urban_cells=12,
    )
    return write_osm_xml(net, tmp_path_factory.mktemp("net") / "small.osm", crs=METRIC_CRS)


@pytest.fixture(scope="session")
def city_network_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated network over the real 蓬江 and 江海 districts (central Jiangmen), in seconds."""
    region_dir = Settings().region_dir
    districts = real.read_districts(region_dir / "real").to_crs(METRIC_CRS)
    towns = read_sample_layer(region_dir / "synthetic", "towns")
    towns = towns[towns["district_adcode"].isin(CENTRAL_DISTRICTS)].reset_index(drop=True)
    boundary = districts[districts["adcode"].isin(CENTRAL_DISTRICTS)].geometry.union_all()
    net = generate_road_network(
        boundary,
        town_seats_metric(towns),
        towns["population"].to_numpy(),
        towns["is_district_seat"].to_numpy(dtype=bool),
        rng=np.random.default_rng(3),
        urban_cells=120,
    )
    return write_osm_xml(net, tmp_path_factory.mktemp("city") / "central.osm", crs=METRIC_CRS)


@dataclass(frozen=True)
class SampleFacts:
    """Counts of the shipped sample, read from its files (what the database must then hold)."""

    stations: int
    service_centres: int
    grids: int
    members: int
    towns: int
    districts: int
    population: float


@pytest.fixture(scope="session")
def sample() -> SampleFacts:
    """The sample's golden numbers, derived from ``data/<region>/`` rather than written down."""
    region_dir = Settings().region_dir
    stations = read_sample_layer(region_dir / "synthetic", "stations")
    towns = read_sample_layer(region_dir / "synthetic", "towns")
    return SampleFacts(
        stations=len(stations),
        service_centres=int((stations["kind"] == "service_centre").sum()),
        grids=len(read_sample_layer(region_dir / "synthetic", "grids")),
        members=len(read_sample_layer(region_dir / "synthetic", "grid_members")),
        towns=len(towns),
        districts=len(real.read_districts(region_dir / "real")),
        population=float(towns["population"].sum()),
    )


@pytest.fixture(scope="session")
def settings(city_network_file: Path) -> Settings:
    """Settings of the test session: its own database, a network over central Jiangmen."""
    return Settings(
        database_name=TEST_DB,
        network_file=city_network_file,
        rate_limit_per_minute=0,
        intake_per_hour=0,
        feedback_per_hour=0,
    )


@pytest.fixture(scope="session")
def template_url(settings: Settings) -> Iterator[str]:
    """A migrated database with the sample loaded, copied for each database tests use."""
    if settings.embedded:
        embedded_cluster(settings).up()
    url = database_url(settings, TEMPLATE_DB)
    drop_database(url)
    ensure_database(url)
    upgrade(url)
    eng = make_engine(url)
    load_sample(eng, settings.region_dir)
    eng.dispose()  # a template must have no connections when it is copied
    yield url
    drop_database(url)


@contextmanager
def copied_database(settings: Settings, template: str, name: str) -> Iterator[str]:
    """A fresh copy of the template database named ``name``, dropped afterwards."""
    url = database_url(settings, name)
    clone_database(template, url)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def db_url(settings: Settings, template_url: str) -> Iterator[str]:
    """The session's database: a copy of the template."""
    with copied_database(settings, template_url, TEST_DB) as url:
        yield url


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    """Engine on the test database (the Jiangmen sample loaded)."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        tx = connection.begin()
        try:
            yield connection
        finally:
            tx.rollback()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (no browser download: ``executable_path``)."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by scripts/bootstrap.sh --with-browser"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def run_coroutine(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` on a thread of its own (a browser test's loop may hold this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


def run_yizhan(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The ``yizhan`` command as an operator runs it: this checkout, the environment + ``env``."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "yizhan"), *args],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


#: markers whose tests take the slow lane (``pytest -m "not slow"`` leaves them out)
SLOW_KINDS = ("browser", "dask", "notebook", "fuzz", "server")


#: about how long a test of each kind takes (s), the rest 0.2 s: to start the longest files first
KIND_SECONDS = {"notebook": 20.0, "server": 8.0, "dask": 4.0, "browser": 3.0, "slow": 3.0}


def _seconds(item: pytest.Item) -> float:
    kind = next((k for k in KIND_SECONDS if item.get_closest_marker(k)), None)
    return KIND_SECONDS[kind] if kind else 0.2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser, Dask, notebook, fuzz or server test is a slow one too; the files that take
    longest run first.

    (The parallel workers take a file at a time; a long file left for last would keep one
    worker busy while the other waits.)
    """
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS):
            item.add_marker(pytest.mark.slow)
    per_file: dict[Path, float] = {}
    for item in items:
        per_file[item.path] = per_file.get(item.path, 0.0) + _seconds(item)
    items.sort(key=lambda item: (-per_file[item.path], str(item.path)))  # stable: a file's order
