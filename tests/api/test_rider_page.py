"""The riders' page in a real Chromium at phone and desktop size (Playwright, Debian's browser).

The list on the page must be the API's nearest answer for the same point and filters; chips
change it; navigation links carry the right GCJ-02 / BD-09 coordinates; a refused position
falls back to towns; no request leaves for another host; the first load stays light.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from geo.coords import from_wgs84
from geo.settings import PROJECT_ROOT, Settings
from tests.api.conftest import live_server, wait_until

pytestmark = pytest.mark.browser

HERE = {"latitude": 22.5801, "longitude": 113.0801}  # 蓬江区, inside the test network
PHONE = {"width": 390, "height": 844}
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/120.0 Mobile Safari/537.36 XWEB/1200 MMWEBSDK/20240301 "
    "MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN"
)
ARTIFACTS = PROJECT_ROOT / "artifacts" / "rider"


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone-size context in WeChat's browser, with the position granted."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation=HERE,
        permissions=["geolocation"],
        locale="zh-CN",
        user_agent=WECHAT_UA,
    )
    yield context
    context.close()


def _watch(page: Any) -> dict[str, list]:
    seen: dict[str, list] = {"requests": [], "errors": [], "responses": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("response", lambda r: seen["responses"].append(r))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


def _listed(page: Any) -> list[tuple[int, float]]:
    page.wait_for_selector("#list[data-ready='true']", timeout=15_000)
    return [
        (int(li.get_attribute("data-station-id")), float(li.get_attribute("data-minutes")))
        for li in page.query_selector_all("#list > li.station")
    ]


def _api(live_url: str, **params: Any) -> list[tuple[int, float]]:
    """What the page should list: the API's nearest 5 within the profile's cut-off (else the
    nearest one alone), in minutes."""
    query = {"lat": HERE["latitude"], "lon": HERE["longitude"], "k": 5, **params}
    body = httpx.get(f"{live_url}/v1/stations/nearest", params=query).json()
    cutoff_s = Settings().rider_cutoff_s(str(params.get("profile", "e_bike")))
    found = [(r["station"]["id"], r["travel_time_s"] / 60) for r in body["results"]]
    near = [(i, m) for i, m in found if m * 60 <= cutoff_s]
    return near or found[:1]


def _same_list(page_list: list[tuple[int, float]], api_list: list[tuple[int, float]]) -> None:
    """The same stations in the same order; the page's minutes are the API's, whole."""
    assert [i for i, _ in page_list] == [i for i, _ in api_list]
    for (_, a), (_, b) in zip(page_list, api_list, strict=True):
        assert a == max(1, round(b)), (a, b)


def test_the_list_is_the_apis_answer_and_the_charging_chip_narrows_it(
    phone: Any, live_url: str
) -> None:
    page = phone.new_page()
    seen = _watch(page)
    page.goto(f"{live_url}/rider")
    first = _listed(page)
    assert first
    _same_list(first, _api(live_url))
    assert [m for _, m in first] == sorted(m for _, m in first)
    page.click("[data-chip='amenity'][data-code='charging']")
    wait_until(
        page,
        "document.querySelector('#list').dataset.ready === 'true' && document.querySelector("
        "\"[data-code='charging']\").getAttribute('aria-pressed') === 'true'",
    )
    charging = _listed(page)
    _same_list(charging, _api(live_url, amenity="charging"))
    assert charging != first or all(
        li.query_selector("[data-amenity='charging']")
        for li in page.query_selector_all("#list > li.station")
    )
    for li in page.query_selector_all("#list > li.station"):
        assert li.query_selector("[data-amenity='charging']"), "every listed station charges"
    page.screenshot(path=str(_artifact("rider-phone-charging.png")), full_page=False)
    assert seen["errors"] == []


def test_open_now_and_walk_chips_follow_the_api(phone: Any, live_url: str) -> None:
    page = phone.new_page()
    page.goto(f"{live_url}/rider")
    _listed(page)
    page.click("[data-chip='open']")
    wait_until(
        page,
        "document.querySelector(\"[data-chip='open']\").getAttribute('aria-pressed') === 'false'",
    )
    page.wait_for_selector("#list[data-ready='true']")
    _same_list(_listed(page), _api(live_url, include_closed="true"))
    page.click("[data-chip='profile'][data-code='walk']")
    wait_until(
        page,
        "document.querySelector(\"[data-code='walk']\").getAttribute('aria-pressed') === 'true'",
    )
    page.wait_for_selector("#list[data-ready='true']")
    _same_list(_listed(page), _api(live_url, include_closed="true", profile="walk"))


def test_walking_far_from_any_station_offers_the_nearest_and_the_hotline(
    phone: Any, live_url: str
) -> None:
    """On foot no station is within 20 minutes of HERE: the nearest is offered, marked far."""
    page = phone.new_page()
    seen = _watch(page)
    page.goto(f"{live_url}/rider")
    _listed(page)
    assert not page.is_visible("#hotline")
    page.click("[data-chip='profile'][data-code='walk']")
    wait_until(page, "!document.querySelector('#hotline').hidden")
    listed = _listed(page)
    expected = _api(live_url, profile="walk")
    assert len(listed) == 1
    assert expected[0][1] > 20
    _same_list(listed, expected)
    assert page.query_selector("#list > li.station.far .far-label")
    assert "20 分钟内没有符合条件的驿站" in page.inner_text("#status")
    assert page.get_attribute("#hotline", "href") == "tel:12351"
    assert page.is_visible("#fallback")  # the town picker stays offered
    assert page.is_visible("#town")
    page.screenshot(path=str(_artifact("rider-phone-beyond.png")))
    assert seen["errors"] == []
    # the server draws the same when the link asks for walking
    page.goto(f"{live_url}/rider?profile=walk&lat={HERE['latitude']}&lon={HERE['longitude']}")
    assert page.is_visible("#hotline")
    assert page.query_selector("#list > li.station.far")


def test_the_drivers_chip_switches_to_driving_times(phone: Any, live_url: str) -> None:
    page = phone.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/rider/stations" in r.url else None)
    page.goto(f"{live_url}/rider")
    _listed(page)
    drive = "[data-chip='profile'][data-code='drive']"
    assert not page.is_visible(drive)  # offered to drivers only
    page.click("[data-chip='kind'][data-code='driver_home']")
    wait_until(page, f"document.querySelector(\"{drive}\").getAttribute('aria-pressed') === 'true'")
    _listed(page)
    assert page.is_visible(drive)
    query = parse_qs(urlparse(asked[-1]).query)
    assert query["profile"] == ["drive"]
    assert query["kind"] == ["driver_home"]
    page.click("[data-chip='kind'][data-code='driver_home']")  # off again: back to the e-bike
    wait_until(page, f'!document.querySelector("{drive}").checkVisibility()')
    assert page.get_attribute("[data-code='e_bike']", "aria-pressed") == "true"
    page.goto(f"{live_url}/rider?mode=drive")  # a drivers' link
    assert page.is_visible(drive)
    _same_list(_listed(page), _api(live_url, profile="drive"))


def test_at_phone_size_the_list_leads_and_cards_show_the_address(phone: Any, live_url: str) -> None:
    page = phone.new_page()
    page.goto(f"{live_url}/rider")
    _listed(page)
    first = page.query_selector("#list > li.station")
    assert first is not None
    card, mapbox = first.bounding_box(), page.query_selector("#map").bounding_box()
    assert card is not None
    assert mapbox is not None
    assert card["y"] < mapbox["y"]  # the nearest station before the map
    assert card["y"] < PHONE["height"] / 2
    addressed = [s for s in _page_items(live_url) if s["address"]]
    assert addressed, "the sample's stations have addresses"
    shown = page.inner_text(f"[data-station-id='{addressed[0]['id']}'] .address-line")
    assert shown == addressed[0]["address"]
    chips = page.query_selector_all(".chips[data-more='true']")
    assert chips  # a row wider than the phone shows that more chips follow


def _page_items(live_url: str, **params: Any) -> list[dict[str, Any]]:
    query = {"lat": HERE["latitude"], "lon": HERE["longitude"], **params}
    return httpx.get(f"{live_url}/rider/stations", params=query).json()["items"]


def test_navigation_links_carry_gcj02_and_bd09(phone: Any, live_url: str) -> None:
    page = phone.new_page()
    page.goto(f"{live_url}/rider")
    first_id, _ = _listed(page)[0]
    station = httpx.get(f"{live_url}/v1/stations/{first_id}").json()
    lon, lat = station["geometry"]["coordinates"]
    glon, glat = (round(float(v), 6) for v in from_wgs84(lon, lat, "gcj02"))
    blon, blat = (round(float(v), 6) for v in from_wgs84(lon, lat, "bd09"))
    item = page.query_selector("#list > li.station")
    item.query_selector("summary[data-action='navigate']").click()
    amap = parse_qs(urlparse(item.query_selector("a[data-app='amap']").get_attribute("href")).query)
    to_lon, to_lat, name = amap["to"][0].split(",", 2)
    assert (float(to_lon), float(to_lat)) == (glon, glat)
    assert name == station["properties"]["name"]
    assert amap["mode"] == ["ride"]
    assert amap["coordinate"] == ["gaode"]
    assert amap["callnative"] == ["1"]
    baidu = parse_qs(
        urlparse(item.query_selector("a[data-app='baidu']").get_attribute("href")).query
    )
    assert baidu["destination"][0].startswith(f"latlng:{blat},{blon}|")
    assert baidu["coord_type"] == ["bd09ll"]
    tencent = parse_qs(
        urlparse(item.query_selector("a[data-app='tencent']").get_attribute("href")).query
    )
    assert tencent["tocoord"] == [f"{glat},{glon}"]
    assert tencent["type"] == ["bike"]
    for link in item.query_selector_all(".nav a"):
        box = link.bounding_box()
        assert box is not None
        assert box["height"] >= 44
    page.screenshot(path=str(_artifact("rider-phone-navigate.png")))


def test_a_refused_position_falls_back_to_towns_and_map_taps(browser: Any, live_url: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    seen = _watch(page)
    page.goto(f"{live_url}/rider")
    page.wait_for_selector("#fallback:not([hidden])", timeout=15_000)
    assert "无法获取您的位置" in page.inner_text("#status")
    options = page.eval_on_selector_all("#town option", "os => os.map(o => o.textContent)")
    index = next(i for i, text in enumerate(options) if "白沙街道" in text or "蓬江区" in text) - 1
    page.select_option("#town", str(index))
    assert _listed(page)
    assert "{" not in page.inner_text("body")  # never raw JSON
    context.close()
    assert seen["errors"] == []


def test_outside_the_region_the_page_says_so(browser: Any, live_url: str) -> None:
    context = browser.new_context(
        viewport=PHONE,
        geolocation={"latitude": 23.1291, "longitude": 113.2644},  # Guangzhou
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(f"{live_url}/rider")
    page.wait_for_selector("#list[data-ready='true']", timeout=15_000)
    assert "不在江门市服务范围内" in page.inner_text("#status")
    assert "{" not in page.inner_text("body")
    context.close()


def test_no_request_leaves_the_app_and_the_first_load_is_light(browser: Any, live_url: str) -> None:
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, geolocation=HERE, permissions=["geolocation"]
    )
    page = context.new_page()
    seen = _watch(page)
    page.goto(f"{live_url}/rider", wait_until="networkidle")
    _listed(page)
    page.wait_for_load_state("networkidle")
    host = urlparse(live_url).netloc
    assert {urlparse(u).netloc for u in seen["requests"] if u.startswith("http")} == {host}
    assert seen["errors"] == []
    transferred = 0
    for response in seen["responses"]:
        sizes = response.request.sizes()
        transferred += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    list_ms = page.get_attribute("#list", "data-list-ms")
    metrics = {"first_load_bytes": transferred, "list_ms_after_position": list_ms}
    _artifact("metrics.json").write_text(json.dumps(metrics, indent=2))
    print(
        f"\nriders' page: first load {transferred / 1024:.1f} KB, list {list_ms} ms after position"
    )
    tiles = [u for u in seen["requests"] if "/ogc/tiles/WebMercatorQuad/" in u]
    assert tiles  # the own basemap's vector tiles, from this server
    drawn = page.eval_on_selector_all(".leaflet-tile-pane canvas", "cs => cs.length")
    assert drawn >= 1
    assert transferred <= 250 * 1024  # page, scripts, styles and the first view's tiles
    # readable and tappable at phone size
    assert page.eval_on_selector("body", "b => getComputedStyle(b).fontSize") == "16px"
    for chip in page.query_selector_all("[data-chip]:visible")[:6]:
        box = chip.bounding_box()
        assert box is not None
        assert box["height"] >= 44
    page.screenshot(path=str(PROJECT_ROOT / "docs" / "screenshots" / "rider-phone.png"))
    context.close()


def test_a_host_app_passes_a_gcj02_position(browser: Any, live_url: str) -> None:
    glon, glat = (float(v) for v in from_wgs84(HERE["longitude"], HERE["latitude"], "gcj02"))
    context = browser.new_context(viewport=PHONE)  # no geolocation needed
    page = context.new_page()
    page.goto(f"{live_url}/rider?lat={glat:.7f}&lon={glon:.7f}&coord=gcj02&from=singlemessage")
    listed = _listed(page)
    api = httpx.get(
        f"{live_url}/v1/stations/nearest",
        params={"lat": f"{glat:.7f}", "lon": f"{glon:.7f}", "coord": "gcj02", "k": 5},
    ).json()
    cutoff_s = Settings().rider_cutoff_s("e_bike")
    near = [r["station"]["id"] for r in api["results"] if r["travel_time_s"] <= cutoff_s]
    assert [i for i, _ in listed] == near
    context.close()


def test_english_desktop_and_embedded(browser: Any, live_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, geolocation=HERE, permissions=["geolocation"]
    )
    page = context.new_page()
    page.goto(f"{live_url}/rider?lang=en")
    assert _listed(page)
    assert page.get_attribute("html", "lang") == "en"
    assert "Stations near you" in page.inner_text("h1")
    assert "min" in page.inner_text("#list")
    page.screenshot(path=str(PROJECT_ROOT / "docs" / "screenshots" / "rider-desktop.png"))
    page.goto(f"{live_url}/rider?embed=1")
    _listed(page)
    assert not page.is_visible("header.bar")
    assert page.is_visible("[data-role='synthetic']")  # the data notice stays, even embedded
    context.close()


def test_bad_position_in_the_link_gets_a_friendly_page(live_url: str) -> None:
    r = httpx.get(f"{live_url}/rider?lat=abc&lon=113")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "无法获取您的位置" in r.text
    data = httpx.get(f"{live_url}/rider/stations?lat=x&lon=1")
    assert data.status_code == 422
    assert "error" in data.json()


def test_assets_are_hashed_compressed_and_cached(live_url: str) -> None:
    page = httpx.get(f"{live_url}/rider", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    scripts = [s for s in page.text.split('"') if s.startswith("/static/")]
    # Leaflet, protomaps-leaflet, the basemap style and the page (scripts and styles), and the
    # home-screen icon
    assert len(scripts) == 7
    for src in scripts:
        r = httpx.get(f"{live_url}{src}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "gzip"
        assert "immutable" in r.headers["cache-control"]
    assert httpx.get(f"{live_url}/static/rider.0000000000.js").status_code == 404


def _artifact(name: str) -> Any:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


def test_on_autonavi_tiles_the_map_data_is_in_gcj02(client) -> None:
    lat, lon = HERE["latitude"], HERE["longitude"]
    plain = client.get(f"/rider/stations?lat={lat}&lon={lon}").json()
    gaode = client.get(f"/rider/stations?lat={lat}&lon={lon}&tiles=gaode").json()
    assert [i["id"] for i in plain["items"]] == [i["id"] for i in gaode["items"]]
    s = plain["items"][0]
    glon, glat = (round(float(v), 6) for v in from_wgs84(s["lon"], s["lat"], "gcj02"))
    assert (gaode["items"][0]["lon"], gaode["items"][0]["lat"]) == pytest.approx((glon, glat))
    assert gaode["origin"] != plain["origin"]


def test_installable_and_with_the_server_gone_the_page_opens_with_the_last_list(
    browser: Any, settings: Any, engine: Any
) -> None:
    """A service worker keeps the page and its files; the page keeps its last list and time."""
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation=HERE,
        permissions=["geolocation"],
        locale="zh-CN",
    )
    page = context.new_page()
    errors: list[str] = []
    with live_server(settings) as url:
        manifest = httpx.get(f"{url}/rider/manifest.webmanifest").json()
        assert manifest["start_url"] == "/rider?lang=zh"
        assert manifest["display"] == "standalone"
        for icon in manifest["icons"]:
            got = httpx.get(url + icon["src"])
            assert got.status_code == 200
            assert got.headers["content-type"].startswith("image/png")
        page.goto(f"{url}/rider")
        listed = _listed(page)
        assert page.get_attribute("link[rel='manifest']", "href").startswith("/rider/manifest")
        wait_until(page, "navigator.serviceWorker.controller !== null", 30)
    # the server is gone (no signal): the page still opens, with the last list and its time
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.reload()
    page.wait_for_selector("#list[data-ready='true'][data-stale]", timeout=20_000)
    stale = [
        int(li.get_attribute("data-station-id")) for li in page.query_selector_all("#list > li")
    ]
    assert stale == [i for i, _ in listed]
    assert "网络不佳，显示的是上次（" in page.inner_text("#status")
    assert page.is_visible("#fallback")
    assert errors == []
    context.close()
