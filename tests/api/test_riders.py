"""The riders' endpoints: nearest stations, routes, isochrones — answers and bad input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pyproj import Geod

from geo.coords import from_wgs84
from geo.hours import is_open

JIANGMEN = (22.5800, 113.0800)  # lat, lon in central Jiangmen (蓬江区)
GEOD = Geod(ellps="WGS84")


def _nearest(client: TestClient, **params) -> dict:
    lat, lon = JIANGMEN
    r = client.get("/v1/stations/nearest", params={"lat": lat, "lon": lon, **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_nearest_answers_sorted_with_routes(client: TestClient) -> None:
    body = _nearest(client, k=3, open_at="2026-11-25T12:00:00+08:00")
    results = body["results"]
    assert len(results) == 3
    times = [r["travel_time_s"] for r in results]
    assert times == sorted(times)
    assert body["origin"]["snap_distance_m"] < 300
    for r in results:
        route = r["route"]["coordinates"]
        assert r["route"]["type"] == "LineString"
        assert route[0] == pytest.approx(body["origin"]["snap"]["coordinates"], abs=1e-6)
        # the route ends where the station meets the road
        assert GEOD.inv(*route[-1], *r["station"]["geometry"]["coordinates"])[2] < 300
        assert r["station"]["properties"]["synthetic"] is True
    assert "synthetic" in body["data_notice"]


def test_nearest_matches_the_engine(client: TestClient) -> None:
    from datetime import datetime

    engine = client.app.state.platform.routing
    at = datetime(2026, 11, 25, 12)
    direct = engine.nearest(JIANGMEN[1], JIANGMEN[0], k=3, at=at)
    body = _nearest(client, k=3, open_at="2026-11-25T12:00:00")
    assert [r["station"]["id"] for r in body["results"]] == [h.station.id for h in direct.hits]


def test_routes_are_left_out_only_when_asked(client: TestClient) -> None:
    drawn = _nearest(client, k=3, open_at="2026-11-25T12:00:00")
    bare = _nearest(client, k=3, open_at="2026-11-25T12:00:00", geometry="false")
    assert [r["route"] for r in bare["results"]] == [None] * 3
    assert all(r["route"]["type"] == "LineString" for r in drawn["results"])

    def kept(body: dict) -> list:
        return [(r["station"]["id"], r["travel_time_s"], r["distance_m"]) for r in body["results"]]

    assert kept(bare) == kept(drawn)
    assert bare["origin"] == drawn["origin"]
    lat, lon = JIANGMEN
    r = client.get(
        "/v1/stations/nearest", params={"lat": lat, "lon": lon, "geometry": "<b>maybe</b>"}
    )
    assert r.status_code == 422
    assert set(r.json()) == {"error"}
    assert "<b>" not in r.text


def test_only_stations_open_at_the_time_are_returned(client: TestClient) -> None:
    from datetime import datetime

    body = _nearest(client, k=20, open_at="2026-11-25T03:00:00+08:00")
    assert body["results"]
    for r in body["results"]:
        assert is_open(r["station"]["properties"]["opening_hours"], datetime(2026, 11, 25, 3))
        assert r["station"]["properties"]["kind"] != "service_centre"  # office hours


def test_amenity_and_kind_filters(client: TestClient) -> None:
    body = _nearest(client, k=10, amenity=["charging", "toilet"], open_at="2026-11-25T12:00:00")
    assert body["results"]
    for r in body["results"]:
        assert {"charging", "toilet"} <= set(r["station"]["properties"]["amenities"])
    body = _nearest(client, k=10, kind="service_centre", open_at="2026-11-25T10:00:00")
    assert {r["station"]["properties"]["kind"] for r in body["results"]} == {"service_centre"}


def test_gcj02_in_and_out(client: TestClient) -> None:
    lat, lon = JIANGMEN
    glon, glat = (float(v) for v in from_wgs84(lon, lat, "gcj02"))
    wgs = _nearest(client, k=3, open_at="2026-11-25T12:00:00")
    r = client.get(
        "/v1/stations/nearest",
        params={
            "lat": glat,
            "lon": glon,
            "coord": "gcj02",
            "k": 3,
            "open_at": "2026-11-25T12:00:00",
        },
    )
    gcj = r.json()
    assert [x["station"]["id"] for x in gcj["results"]] == [
        x["station"]["id"] for x in wgs["results"]
    ]
    w_pt = wgs["results"][0]["station"]["geometry"]["coordinates"]
    g_pt = gcj["results"][0]["station"]["geometry"]["coordinates"]
    offset = GEOD.inv(*w_pt, *g_pt)[2]
    assert 500 < offset < 700  # returned in GCJ-02, ~600 m from WGS-84
    assert np.allclose(from_wgs84(*w_pt, "gcj02"), g_pt, atol=1e-6)


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"lat": "nan"}, 422, "finite"),
        ({"lat": 91}, 422, "less than or equal to 90"),
        ({"lon": "east"}, 422, "valid number"),
        ({"lat": 39.9, "lon": 116.4}, 422, "outside the service region"),
        ({"lat": 21.9, "lon": 112.6}, 422, "no road usable"),  # 台山: no roads in the test network
        ({"profile": "rocket"}, 422, "profile"),
        ({"k": 0}, 422, "k"),
        ({"k": 500}, 422, "k"),
        ({"coord": "utm"}, 422, "coord"),
        ({"open_at": "yesterday"}, 422, "open_at"),
    ],
)
def test_bad_input_gets_a_clear_422(client: TestClient, params, status, fragment) -> None:
    lat, lon = JIANGMEN
    r = client.get("/v1/stations/nearest", params={"lat": lat, "lon": lon, **params})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert fragment in err["message"] or fragment in str(err.get("details"))


def test_route_between_two_points(client: TestClient) -> None:
    r = client.get(
        "/v1/routes", params={"from": "22.58,113.08", "to": "22.61,113.05", "profile": "walk"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["travel_time_s"] == pytest.approx(body["distance_m"] / (5 / 3.6), rel=1e-3)
    assert len(body["route"]["coordinates"]) > 2


@pytest.mark.parametrize("bad", ["22.58", "a,b", "22.58,113.08,1", ""])
def test_route_with_malformed_points(client: TestClient, bad: str) -> None:
    r = client.get("/v1/routes", params={"from": bad, "to": "22.61,113.05"})
    assert r.status_code == 422
    assert "lat,lon" in r.json()["error"]["message"] or r.json()["error"]["details"]


def test_isochrones(client: TestClient) -> None:
    r = client.get(
        "/v1/isochrones", params={"lat": JIANGMEN[0], "lon": JIANGMEN[1], "minutes": "10,5"}
    )
    assert r.status_code == 200, r.text
    feats = r.json()["features"]
    assert [f["properties"]["minutes"] for f in feats] == [5, 10]
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in feats)


@pytest.mark.parametrize("minutes", ["0", "5,x", "90", "1,2,3,4,5,6,7"])
def test_isochrones_bad_minutes(client: TestClient, minutes: str) -> None:
    r = client.get(
        "/v1/isochrones", params={"lat": JIANGMEN[0], "lon": JIANGMEN[1], "minutes": minutes}
    )
    assert r.status_code == 422
    assert "minutes" in r.json()["error"]["message"]


def test_the_page_lists_stations_within_the_cut_off_in_whole_minutes(client: TestClient) -> None:
    """Beyond the cut-off nothing is listed as if near: with none within it, the nearest alone.

    At a weekday noon, when every sample station is open (at night some are closed and are
    not listed, so the count would depend on when the suite runs).
    """
    from api.routers.rider import RiderQuery, find_stations
    from geo.settings import Settings

    engine = client.app.state.platform.routing
    lat, lon = JIANGMEN
    noon = datetime(2026, 11, 25, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    roomy = find_stations(
        engine, RiderQuery(), lon, lat, Settings(rider_cutoff_min={"e_bike": 600}), at=noon
    )
    assert len(roomy["items"]) == 5
    assert roomy["beyond"] is False
    seconds = [i["travel_time_s"] for i in roomy["items"]]
    assert [i["minutes"] for i in roomy["items"]] == [max(1, round(s / 60)) for s in seconds]
    assert all(isinstance(i["minutes"], int) for i in roomy["items"])
    # a cut-off between two listed stations' times lists those before it
    i = next(i for i in range(1, 5) if seconds[i - 1] // 60 < seconds[i] // 60)
    cutoff_min = int(seconds[i] // 60)
    narrow = Settings(rider_cutoff_min={"e_bike": cutoff_min})
    some = find_stations(engine, RiderQuery(), lon, lat, narrow, at=noon)
    assert [s["id"] for s in some["items"]] == [s["id"] for s in roomy["items"][:i]]
    assert some["beyond"] is False
    assert some["cutoff_min"] == cutoff_min
    assert seconds[0] > 60  # the premise of the last case: no station within a minute
    one_minute = Settings(rider_cutoff_min={"e_bike": 1})
    none = find_stations(engine, RiderQuery(), lon, lat, one_minute, at=noon)
    assert none["beyond"] is True
    assert [s["id"] for s in none["items"]] == [roomy["items"][0]["id"]]


def test_a_drivers_link_gets_driving_times(client: TestClient) -> None:
    lat, lon = JIANGMEN
    asked = client.get("/rider/stations", params={"lat": lat, "lon": lon, "mode": "drive"}).json()
    api = _nearest(client, k=5, profile="drive")
    assert asked["profile"] == "drive"
    assert [i["id"] for i in asked["items"]] == [
        r["station"]["id"] for r in api["results"] if r["travel_time_s"] <= 45 * 60
    ]
    page = client.get("/rider", params={"mode": "drive"})
    assert 'data-code="drive" aria-pressed="true"' in page.text
    assert 'data-code="drive" aria-pressed="false" hidden' in client.get("/rider").text
    assert 'data-code="truck"' not in page.text  # generated roads say nothing of trucks


def test_trucks_are_refused_clearly_where_the_roads_say_nothing_of_them(
    client: TestClient,
) -> None:
    lat, lon = JIANGMEN
    for path in ("/v1/stations/nearest", "/v1/isochrones"):
        r = client.get(path, params={"lat": lat, "lon": lon, "profile": "truck"})
        assert r.status_code == 422, (path, r.text)
        assert "trucks" in r.json()["error"]["message"]
    # every operation that takes a profile: a clear refusal (or a page that ignores it)
    spec = client.get("/openapi.json").json()
    asked = [
        path
        for path, ops in spec["paths"].items()
        if "{" not in path
        and any(p["name"] == "profile" for p in ops.get("get", {}).get("parameters", []))
    ]
    assert len(asked) >= 5, asked
    for path in asked:
        r = client.get(path, params={"lat": lat, "lon": lon, "profile": "truck", "minutes": 10})
        assert r.status_code in (200, 400, 401, 403, 422), (path, r.status_code, r.text[:300])


def test_a_position_off_the_roads_is_searched_from_the_nearest_road_and_the_page_says_so(
    client: TestClient,
) -> None:
    from geo.errors import YizhanError

    engine = client.app.state.platform.routing
    lat0, lon0 = JIANGMEN
    off_road = None
    for i in range(-20, 21):  # a grid of points ~250 m apart around central Jiangmen
        for j in range(-20, 21):
            lat, lon = lat0 + i * 0.00225, lon0 + j * 0.0025
            try:
                _, origin = engine.locate(lon, lat, "e_bike")
            except YizhanError:
                continue
            if 300 < origin.snap_distance_m < 900:
                off_road = (lat, lon, origin.snap_distance_m)
                break
        if off_road:
            break
    assert off_road, "the test network has a place 300–900 m from any road"
    lat, lon, metres = off_road
    data = client.get("/rider/stations", params={"lat": lat, "lon": lon}).json()
    assert data["snapped_m"] == round(metres / 10) * 10
    on_road = client.get("/rider/stations", params={"lat": lat0, "lon": lon0}).json()
    assert on_road["snapped_m"] is None
    page = client.get("/rider", params={"lat": lat, "lon": lon}).text
    assert f"约 {data['snapped_m']} 米外" in page


def test_navigation_links_to_any_place_in_the_regions_apps(client: TestClient) -> None:
    lat, lon = JIANGMEN
    links = client.get("/v1/navigation", params={"lat": lat, "lon": lon, "name": "JM-1"}).json()
    assert [n["app"] for n in links["links"]] == ["amap", "baidu", "tencent"]
    glon, glat = (float(v) for v in from_wgs84(lon, lat, "gcj02"))
    assert f"to={glon:.6f}%2C{glat:.6f}%2CJM-1" in links["links"][0]["href"]
    assert links["links"][0]["label"] == "高德地图"
    english = client.get("/v1/navigation", params={"lat": lat, "lon": lon, "lang": "en"}).json()
    assert english["links"][0]["label"] == "AutoNavi (Amap)"
    assert client.get("/v1/navigation", params={"lat": 91, "lon": lon}).status_code == 422
