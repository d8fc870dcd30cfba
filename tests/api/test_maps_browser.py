"""Every map rendered by a real headless Chromium from the running app.

Checks the drawn DOM (markers, paths, legends), that no request left for another host than the
app (Chromium's own network log), and keeps screenshots in ``artifacts/maps/``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.settings import PROJECT_ROOT
from tests.api.conftest import OwnDatabase, database_of_its_own, live_server

pytestmark = pytest.mark.browser

own, client, engine = database_of_its_own("maps")


@pytest.fixture(scope="module")
def live_url(own: OwnDatabase) -> Iterator[str]:
    """The app on this module's database (with its cases), served by uvicorn."""
    with live_server(own.settings) as url:
        yield url


ARTIFACTS = PROJECT_ROOT / "artifacts" / "maps"
CASE = {"category": "mediation", "description": "调解", "lon": 113.0801, "lat": 22.5801}


def render(url: str, name: str, window: str = "1000,800") -> tuple[str, set[str]]:
    """Load ``url`` in headless Chromium (a ``window`` of width,height); the final DOM and
    every URL it requested."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is installed by scripts/bootstrap.sh --with-browser"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        netlog = Path(tmp) / "net.json"
        base = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            # Chromium's own autofill service looks up pages that hold a form: browser
            # traffic, not the page's (the page itself requests nothing from other hosts)
            "--disable-features=AutofillServerCommunication",
            f"--window-size={window}",
            "--virtual-time-budget=8000",
            f"--user-data-dir={tmp}/profile",
        ]
        dom = subprocess.run(
            [*base, f"--log-net-log={netlog}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        subprocess.run(
            [*base, f"--user-data-dir={tmp}/profile2", f"--screenshot={ARTIFACTS / name}.png", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        requested = page_requests(json.loads(netlog.read_text(errors="replace")), url)
    return dom, requested


def page_requests(netlog: dict, page_url: str) -> set[str]:
    """URLs requested on behalf of the page: their network isolation key is the page's site.

    Chromium's own background traffic (time sync, component updates) carries another key.
    """
    site = f"{urlparse(page_url).scheme}://{urlparse(page_url).hostname}"
    urls = set()
    for event in netlog.get("events", []):
        params = event.get("params") or {}
        if "url" in params and str(params.get("network_isolation_key", "")).startswith(site):
            urls.add(params["url"])
    return urls


def external(urls: set[str], base: str) -> set[str]:
    host = urlparse(base).netloc
    return {
        u
        for u in urls
        if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc != host
    }


@pytest.fixture(scope="module")
def with_cases(client: TestClient, engine: Engine):
    for i in range(6):
        client.post("/v1/cases", json={**CASE, "description": f"case {i}"})
    client.post("/v1/cases", json={**CASE, "lon": 113.05, "lat": 22.62})


MAPS = [
    (
        "stations",
        "/maps/stations?lang=en",
        ["yizhan-station", "Outdoor-worker station", "leaflet-control-layers"],
    ),
    (
        "stations-zh",
        "/maps/stations?lang=zh&layers=towns",
        ["yizhan-station", "户外劳动者驿站", "示例数据"],
    ),
    ("route", "/maps/route?lat=22.58&lon=113.08&k=2&lang=en", ["yizhan-route", "yizhan-station"]),
    (
        "reach",
        "/maps/coverage?lat=22.58&lon=113.08&minutes=5,10&lang=en",
        ["Reachable", "≤ 5 min", "≤ 10 min"],
    ),
    (
        "gaps",
        "/maps/coverage?minutes=10&lang=en",
        ["Coverage gaps", "uncovered people", "yizhan-share", "yizhan-area-table", "12:00"],
    ),
    (
        "sites",
        "/maps/sites?k=3&minutes=10&lang=en",
        ["yizhan-site", "Coverage gaps", "Proposed sites · Covered", "People added"],
    ),
    ("grids", "/maps/grids?lang=en", ["leaflet-interactive", "Sample data"]),
    ("cases", "/maps/cases?lang=en", ["Cases", "fewer than 5 (hidden)"]),
]


@pytest.mark.parametrize(("name", "path", "expected"), MAPS, ids=[m[0] for m in MAPS])
def test_map_renders_offline_in_chromium(
    live_url: str, with_cases, name: str, path: str, expected
) -> None:
    dom, requested = render(live_url + path, name)
    for fragment in expected:
        assert fragment in dom, f"{fragment!r} not drawn on {name}"
    assert "leaflet-container" in dom
    assert not external(requested, live_url), external(requested, live_url)
    assert any("/maps/assets/leaflet/leaflet.js" in u for u in requested)
    assert any("/ogc/tiles/WebMercatorQuad/" in u for u in requested)  # the own basemap
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("name", ["stations-zh", "gaps", "sites"])
def test_maps_at_phone_size_draw_the_own_basemap_offline(
    live_url: str, with_cases, name: str
) -> None:
    _, path, expected = next(m for m in MAPS if m[0] == name)
    dom, requested = render(live_url + path, f"{name}-phone", window="390,844")
    for fragment in expected:
        assert fragment in dom, f"{fragment!r} not drawn on {name} at phone size"
    assert "<details" in dom
    # the panels start closed: the map stays in sight
    assert not re.search(r"<details[^>]*\sopen[\s=>]", dom), re.findall(r"<details[^>]*>", dom)
    assert not external(requested, live_url), external(requested, live_url)
    assert any("/ogc/tiles/WebMercatorQuad/" in u for u in requested)


def test_route_map_draws_one_path_per_station(live_url: str) -> None:
    dom, _ = render(live_url + "/maps/route?lat=22.58&lon=113.08&k=2", "route-k2")
    assert len(re.findall(r'class="yizhan-route', dom)) == 2


def test_sites_map_numbers_k_sites(live_url: str) -> None:
    dom, _ = render(live_url + "/maps/sites?k=3&minutes=10", "sites-k3")
    assert len(re.findall(r"class=\"yizhan-site\"|class='yizhan-site'", dom)) == 3


def test_big_layers_load_by_bounding_box(live_url: str) -> None:
    dom, requested = render(
        live_url + "/maps/stations?layers=workplaces&center=22.58,113.08&zoom=13", "workplaces"
    )
    assert any("/ogc/collections/workplaces/items" in u and "bbox=" in u for u in requested)
    assert "yizhan-bbox-feature" in dom


def test_gaode_tiles_shift_overlays_to_gcj02(client: TestClient) -> None:
    plain = client.get("/maps/route", params={"lat": 22.58, "lon": 113.08, "k": 1}).text
    gaode = client.get(
        "/maps/route", params={"lat": 22.58, "lon": 113.08, "k": 1, "tiles": "gaode"}
    ).text
    assert "autonavi" in gaode
    assert "autonavi" not in plain
    lat_plain = float(re.search(r"center: \[([\d.]+), ([\d.]+)\]", plain).group(1))
    lat_gaode = float(re.search(r"center: \[([\d.]+), ([\d.]+)\]", gaode).group(1))
    assert lat_gaode == pytest.approx(lat_plain - 0.0027, abs=0.0006)  # GCJ-02 offset in Jiangmen


def test_only_the_app_is_referenced_without_tiles(client: TestClient) -> None:
    for path in ("/maps/stations", "/maps/grids", "/maps/cases"):
        html = client.get(path).text
        assert not re.findall(r"https?://", html), path


def test_embeddable_with_configured_frame_ancestors(own: OwnDatabase) -> None:
    from api.app import create_app

    s = own.settings.model_copy(update={"frame_ancestors": "https://union.example"})
    with TestClient(create_app(s)) as c:
        r = c.get("/maps/cases")
    assert r.headers["content-security-policy"].endswith("; frame-ancestors https://union.example")
    assert "x-frame-options" not in r.headers


def test_member_names_only_for_authorised_viewers(
    client: TestClient, engine: Engine, staff_headers
) -> None:
    with engine.connect() as c:
        name = c.scalar(text("SELECT name FROM grid_members ORDER BY id LIMIT 1"))
    assert json.dumps(name)[1:-1] not in client.get("/maps/grids").text
    assert name not in client.get("/maps/grids").text
    authorised = client.get("/maps/grids", headers=staff_headers).text
    assert name in authorised or json.dumps(name)[1:-1] in authorised


@pytest.mark.parametrize(
    "path",
    [
        "/maps/stations?tiles=mars",
        "/maps/route?lat=91&lon=113",
        "/maps/coverage?minutes=0",
        "/maps/stations?center=abc",
        "/maps/nope",
    ],
)
def test_bad_map_parameters(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["message"]
