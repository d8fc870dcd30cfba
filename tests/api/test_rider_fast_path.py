"""The riders' lean way to the nearest stations: what it takes, and that it answers as before.

Plainly valid queries are answered by :class:`api.rider_fast_path.NearestFastPath`; anything
else goes on to the FastAPI operation. A query that means the same but is written in a way the
lean reading leaves to FastAPI (``include_closed=no``, a latitude with many decimals) must get
the same answer, byte for byte.
"""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from api.nearest_query import NearestQuery, strict
from api.rider_fast_path import NearestFastPath
from geo.settings import DEFAULT_AMENITIES, DEFAULT_STATION_KINDS
from geo.vocabulary import CoordSystem, Profile
from tests.conftest import run_coroutine

AT = "2026-11-25T12:00:00+08:00"
AT_QUERY = AT.replace("+", "%2B")


def _plain(query: str) -> NearestQuery | None:
    return strict(query.encode(), DEFAULT_AMENITIES, DEFAULT_STATION_KINDS)


def test_a_riders_usual_query_is_read_plainly() -> None:
    q = _plain(
        f"lat=22.58&lon=113.08&k=5&profile=walk&coord=gcj02&amenity=water&open_at={AT_QUERY}"
    )
    assert q is not None
    assert (q.lat, q.lon, q.k, q.profile, q.coord) == (
        22.58,
        113.08,
        5,
        Profile.WALK,
        CoordSystem.GCJ02,
    )
    assert q.amenity == ("water",)
    assert q.open_at is not None
    assert q.open_at.utcoffset() is not None


@pytest.mark.parametrize(
    "query",
    [
        "lat=22.58",  # no longitude
        "lat=22.58&lon=113.08&k=0",
        "lat=22.58&lon=113.08&k=21",
        "lat=91&lon=113.08",
        "lat=nan&lon=113.08",
        "lat=1e1&lon=113.08",
        "lat=22.58&lon=113.08&lat=22.6",  # twice
        "lat=22.58&lon=113.08&profile=rocket",
        "lat=22.58&lon=113.08&amenity=<script>",
        "lat=22.58&lon=113.08&include_closed=yes",
        "lat=22.58&lon=113.08&geometry=maybe",
        "lat=22.58&lon=113.08&open_at=noon",
        "lat=22.58&lon=113.08&limit=3",  # not a parameter of the operation
        "lat=22.58&lon=113.08&k=%EF%BC%93",  # a full-width digit
        "lat=22.58&&lon=113.08",
    ],
)
def test_anything_unusual_is_left_to_the_operation(query: str) -> None:
    assert _plain(query) is None


@pytest.mark.parametrize(
    ("lean", "left_to_fastapi"),
    [
        ("include_closed=false", "include_closed=no"),
        ("geometry=false", "geometry=no"),
        ("lat=22.58", "lat=22.5800000000000000"),
        ("coord=gcj02&lat=22.58", "coord=gcj02&lat=22.5800000000000000"),
    ],
)
def test_both_ways_give_the_same_answer(
    client: TestClient, lean: str, left_to_fastapi: str
) -> None:
    base = f"lon=113.08&k=3&amenity=water&open_at={AT_QUERY}"
    if "lat=" not in lean:
        lean, left_to_fastapi = f"{lean}&lat=22.58", f"{left_to_fastapi}&lat=22.58"
    assert _plain(f"{base}&{lean}") is not None
    assert _plain(f"{base}&{left_to_fastapi}") is None
    a = client.get(f"/v1/stations/nearest?{base}&{lean}")
    b = client.get(f"/v1/stations/nearest?{base}&{left_to_fastapi}")
    assert a.status_code == b.status_code == 200
    assert a.content == b.content
    assert a.headers["content-type"] == b.headers["content-type"] == "application/json"


def test_the_lean_answer_keeps_every_protection(client: TestClient) -> None:
    r = client.get(
        "/v1/stations/nearest",
        params={"lat": 22.58, "lon": 113.08, "k": 3, "open_at": AT},
        headers={"Accept-Encoding": "gzip"},
    )
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-request-id"]
    assert r.headers["content-encoding"] == "gzip"
    raw = client.get(
        "/v1/stations/nearest",
        params={"lat": 22.58, "lon": 113.08, "k": 3, "open_at": AT},
        headers={"Accept-Encoding": "identity"},
    )
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_refusals_keep_their_one_error_format(client: TestClient) -> None:
    r = client.get("/v1/stations/nearest", params={"lat": 0.0, "lon": 0.0})  # far outside
    assert r.status_code == 422
    assert set(r.json()) == {"error"}


def _through(client: TestClient, query: str) -> tuple[list[dict], bool]:
    """Run the lean path alone over the app's state; whether it passed the request on."""
    passed_on = []

    async def operation(scope: dict, receive: object, send: object) -> None:
        passed_on.append(scope["path"])

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/stations/nearest",
        "query_string": query.encode(),
        "headers": [],
        "app": client.app,
    }
    run_coroutine(lambda: NearestFastPath(operation)(scope, receive, send))
    return sent, bool(passed_on)


def test_a_plain_query_is_answered_without_the_operation(client: TestClient) -> None:
    sent, passed_on = _through(client, f"lat=22.58&lon=113.08&k=3&open_at={AT_QUERY}")
    assert not passed_on
    assert sent[0]["status"] == 200
    expected = client.get(f"/v1/stations/nearest?lat=22.58&lon=113.08&k=3&open_at={AT_QUERY}")
    assert sent[1]["body"] == expected.content
    # a point the engine refuses is passed on, for the operation's own error
    _, passed_on = _through(client, "lat=0.0&lon=0.0")
    assert passed_on
