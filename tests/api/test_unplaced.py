"""Stations imported with an address but no coordinates: listed for staff, placed on the map.

Placing one makes it a station at once (routing answers count it); a place outside the
service region or outside the caller's area is refused and the station keeps waiting.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.io import import_file
from tests.api.conftest import OwnDatabase, database_of_its_own

own, client, engine = database_of_its_own("unplaced")

HOSTILE = '<img src=x onerror="alert(1)">'


def _admin(client: TestClient) -> dict[str, str]:
    tok = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).json()
    return {"Authorization": f"Bearer {tok['access_token']}"}


def _import(own: OwnDatabase, tmp_path: Path) -> None:
    sheet = tmp_path / "stations.csv"
    sheet.write_text(
        "external_id,name,kind,lon,lat,address,amenities\n"
        f"JM-W1,{HOSTILE},outdoor_worker_station,,,蓬江区建设路 1 号,water\n"
        "JM-W2,second,outdoor_worker_station,,,台山市台城 2 号,water\n",
        encoding="utf-8",
    )
    s = own.settings
    with own.engine.begin() as conn:
        report = import_file(
            conn,
            "stations",
            sheet,
            station_kinds=s.station_kinds,
            amenities=s.amenities,
            categories=s.case_categories,
            metric_crs=s.metric_crs,
        )
    assert report.ok, report.errors
    assert report.unplaced == 2


def _manager_elsewhere(client: TestClient, engine: Engine, admin: dict[str, str]) -> dict:
    with engine.connect() as c:
        taishan = c.scalar(text("SELECT id FROM districts WHERE adcode = '440781'"))
    user = {"username": "taishan_mgr", "password": "long-enough-1"}
    made = client.post(
        "/v1/users", json={**user, "role": "manager", "district_id": taishan}, headers=admin
    )
    assert made.status_code == 201, made.text
    tok = client.post("/v1/auth/token", data=user).json()
    return {"Authorization": f"Bearer {tok['access_token']}"}


def test_waiting_stations_are_listed_and_placed_once(
    own: OwnDatabase, client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    _import(own, tmp_path)
    admin = _admin(client)
    assert client.get("/v1/stations/unplaced").status_code == 401
    listed = client.get("/v1/stations/unplaced", headers=admin)
    assert listed.status_code == 200, listed.text
    waiting = {s["external_id"]: s for s in listed.json()["stations"]}
    assert set(waiting) == {"JM-W1", "JM-W2"}
    assert waiting["JM-W1"]["name"] == HOSTILE  # kept as written; pages escape it
    first = waiting["JM-W1"]["id"]

    far = client.post(
        f"/v1/stations/unplaced/{first}/place", json={"lon": 116.4, "lat": 39.9}, headers=admin
    )
    assert far.status_code == 422, far.text  # outside the service region
    elsewhere = _manager_elsewhere(client, engine, admin)
    not_theirs = client.post(
        f"/v1/stations/unplaced/{first}/place",
        json={"lon": 113.0801, "lat": 22.5801},  # 蓬江区, not 台山市
        headers=elsewhere,
    )
    assert not_theirs.status_code == 403, not_theirs.text
    assert client.get("/v1/stations/unplaced", headers=admin).json()["total"] == 2

    placed = client.post(
        f"/v1/stations/unplaced/{first}/place",
        json={"lon": 113.0801, "lat": 22.5801},
        headers=admin,
    )
    assert placed.status_code == 201, placed.text
    station = placed.json()
    assert station["properties"]["name"] == HOSTILE
    assert station["properties"]["address"] == "蓬江区建设路 1 号"
    left = client.get("/v1/stations/unplaced", headers=admin).json()
    assert [s["external_id"] for s in left["stations"]] == ["JM-W2"]
    with engine.connect() as c:
        kept = c.scalar(
            text("SELECT external_id FROM stations WHERE id = :i"), {"i": station["id"]}
        )
    assert kept == "JM-W1"  # a later import of the same sheet updates this station
    near = client.get(
        "/v1/stations/nearest",
        params={"lon": 113.0801, "lat": 22.5801, "k": 1, "include_closed": "true"},
    ).json()
    assert near["results"][0]["station"]["id"] == station["id"]  # routing counts it at once

    again = client.post(
        f"/v1/stations/unplaced/{first}/place",
        json={"lon": 113.0801, "lat": 22.5801},
        headers=admin,
    )
    assert again.status_code == 404
