"""Stations API: listing and reading in public; staff create, change and close."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SampleFacts

NEW = {
    "name": "测试驿站",
    "kind": "rider_home",
    "lon": 113.0801,
    "lat": 22.5801,
    "amenities": ["water", "charging"],
    "opening_hours": "24/7",
}
pytestmark = pytest.mark.usefixtures("cleanup_api_stations")


def _count(client: TestClient) -> int:
    return client.get("/v1/stations").json()["numberMatched"]


def test_list_is_geojson_with_every_station(client: TestClient, sample: SampleFacts) -> None:
    body = client.get("/v1/stations").json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == sample.stations
    assert all(f["properties"]["synthetic"] for f in body["features"])


def test_filters(client: TestClient, sample: SampleFacts) -> None:
    centres = client.get("/v1/stations", params={"kind": "service_centre"}).json()
    assert centres["numberMatched"] == sample.service_centres
    charging = client.get("/v1/stations", params={"amenity": "charging"}).json()["features"]
    assert charging
    assert all("charging" in f["properties"]["amenities"] for f in charging)
    bbox = client.get("/v1/stations", params={"bbox": "113.0,22.5,113.2,22.7"}).json()["features"]
    assert bbox
    assert all(113.0 <= f["geometry"]["coordinates"][0] <= 113.2 for f in bbox)
    town = client.get("/v1/stations", params={"town": "440784001000"}).json()["features"]
    assert town
    assert {f["properties"]["town_name"] for f in town} == {"沙坪街道"}


@pytest.mark.parametrize(
    ("bbox", "ok"), [("1,2,3", False), ("113.2,22.5,113.0,22.7", False), ("a,b,c,d", False)]
)
def test_bad_bbox(client: TestClient, bbox: str, ok: bool) -> None:
    r = client.get("/v1/stations", params={"bbox": bbox})
    assert r.status_code == 422
    assert "bbox" in r.json()["error"]["message"]


def test_read_one_and_unknown_ids(client: TestClient) -> None:
    assert client.get("/v1/stations/1").json()["id"] == 1
    r = client.get("/v1/stations/999999")
    assert r.status_code == 404
    assert "station 999999 not found" in r.json()["error"]["message"]
    assert client.get("/v1/stations/abc").status_code == 422


def test_writes_need_a_valid_token(client: TestClient, sample: SampleFacts) -> None:
    assert client.post("/v1/stations", json=NEW).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    r = client.post("/v1/stations", json=NEW, headers=bad)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    wrong = client.post("/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401
    assert _count(client) == sample.stations


def test_created_station_is_routed_to_at_once(client: TestClient, staff_headers) -> None:
    r = client.post("/v1/stations", json=NEW, headers=staff_headers)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert r.json()["properties"]["synthetic"] is False
    assert r.json()["properties"]["town_name"]
    near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08, "k": 1}).json()
    assert near["results"][0]["station"]["id"] == new_id
    closed = client.post(f"/v1/stations/{new_id}/close", headers=staff_headers)
    assert closed.json()["properties"]["status"] == "closed"
    near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08, "k": 3}).json()
    assert new_id not in [x["station"]["id"] for x in near["results"]]


def test_gcj02_create_is_stored_in_wgs84(client: TestClient, staff_headers) -> None:
    from geo.coords import from_wgs84

    glon, glat = (float(v) for v in from_wgs84(113.0801, 22.5801, "gcj02"))
    r = client.post(
        "/v1/stations",
        json={**NEW, "lon": glon, "lat": glat, "coord": "gcj02"},
        headers=staff_headers,
    )
    assert r.status_code == 201
    assert r.json()["geometry"]["coordinates"] == pytest.approx([113.0801, 22.5801], abs=1e-7)


def test_stale_version_is_a_conflict(client: TestClient, staff_headers) -> None:
    sid = client.post("/v1/stations", json=NEW, headers=staff_headers).json()["id"]
    first = client.patch(
        f"/v1/stations/{sid}", json={"name": "改名一", "version": 1}, headers=staff_headers
    )
    assert first.status_code == 200
    assert first.json()["properties"]["version"] == 2
    late = client.patch(
        f"/v1/stations/{sid}", json={"name": "改名二", "version": 1}, headers=staff_headers
    )
    assert late.status_code == 409
    assert "changed by someone else" in late.json()["error"]["message"]
    assert client.get(f"/v1/stations/{sid}").json()["properties"]["name"] == "改名一"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"lon": 116.4, "lat": 39.9}, "outside the service region"),
        ({"kind": "spaceport"}, "unknown station kind"),
        ({"amenities": ["sauna"]}, "unknown amenities"),
        ({"opening_hours": "whenever"}, "opening_hours"),
        ({"lat": "nan"}, "finite"),
        ({"lat": 95}, "less than or equal to 90"),
        ({"name": ""}, "at least 1 character"),
        ({"colour": "red"}, "Extra inputs"),
    ],
)
def test_bad_station_is_refused_and_nothing_stored(
    client: TestClient, staff_headers, change, fragment, sample: SampleFacts
) -> None:
    r = client.post("/v1/stations", json={**NEW, **change}, headers=staff_headers)
    assert r.status_code == 422, r.text
    assert fragment in r.json()["error"]["message"] or fragment in str(
        r.json()["error"].get("details")
    )
    assert _count(client) == sample.stations


def test_broken_json_body(client: TestClient, staff_headers) -> None:
    r = client.post(
        "/v1/stations",
        content=b'{"name": "x", ',
        headers={**staff_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "RequestValidation"
