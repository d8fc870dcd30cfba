"""Station photos: staff upload them (type, content and size checked); riders see them."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, text


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def station_id(client: TestClient, engine: Engine, staff_headers: dict) -> int:
    with engine.connect() as c:
        sid = int(c.scalar(text("SELECT min(id) FROM stations")))
    yield sid
    client.delete(f"/v1/stations/{sid}/photo", headers=staff_headers)


def test_staff_upload_a_photo_and_riders_see_it(
    client: TestClient, staff_headers: dict, station_id: int
) -> None:
    png = _image("PNG")
    r = client.put(
        f"/v1/stations/{station_id}/photo",
        content=png,
        headers={**staff_headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 200, r.text
    got = client.get(f"/v1/stations/{station_id}/photo")
    assert got.content == png
    assert got.headers["content-type"] == "image/png"
    assert "max-age" in got.headers["cache-control"]
    station = client.get(f"/v1/stations/{station_id}").json()
    lon, lat = station["geometry"]["coordinates"]
    page = client.get(f"/rider?lat={lat}&lon={lon}").text
    assert f"/v1/stations/{station_id}/photo?v=" in page
    assert (
        client.delete(f"/v1/stations/{station_id}/photo", headers=staff_headers).status_code == 204
    )
    assert client.get(f"/v1/stations/{station_id}/photo").status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"<svg onload=alert(1)>", "image/svg+xml", "must be one of"),
        (b"not an image at all", "image/png", "content is not image/png"),
        (_image("JPEG"), "image/png", "content is not image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png", "cannot be read"),
        (_image("PNG", (5000, 10)), "image/png", "at most 4096"),
        (b"", "image/jpeg", "empty"),
    ],
)
def test_bad_photos_are_refused_with_the_reason(
    client: TestClient,
    staff_headers: dict,
    station_id: int,
    body: bytes,
    content_type: str,
    words: str,
) -> None:
    r = client.put(
        f"/v1/stations/{station_id}/photo",
        content=body,
        headers={**staff_headers, "Content-Type": content_type},
    )
    assert r.status_code == 422
    assert words in r.json()["error"]["message"]
    assert client.get(f"/v1/stations/{station_id}/photo").status_code == 404


def test_photos_over_the_size_limit_are_refused(
    client: TestClient, staff_headers: dict, station_id: int, settings
) -> None:
    big = _image("PNG", (10, 10)) + b"\0" * settings.photo_max_bytes
    r = client.put(
        f"/v1/stations/{station_id}/photo",
        content=big,
        headers={**staff_headers, "Content-Type": "image/png"},
    )
    assert r.status_code in (413, 422)


def test_only_staff_may_upload(client: TestClient, station_id: int) -> None:
    r = client.put(
        f"/v1/stations/{station_id}/photo",
        content=_image("PNG"),
        headers={"Content-Type": "image/png"},
    )
    assert r.status_code == 401


def test_a_manager_cannot_set_the_photo_of_a_station_elsewhere(
    client: TestClient, engine: Engine, staff_headers: dict, station_id: int
) -> None:
    with engine.connect() as c:
        elsewhere = c.scalar(
            text(
                "SELECT d.id FROM districts d WHERE d.id <> (SELECT t.district_id FROM stations s "
                "JOIN towns t ON t.id = s.town_id WHERE s.id = :s) ORDER BY d.id LIMIT 1"
            ),
            {"s": station_id},
        )
    made = client.post(
        "/v1/users",
        json={
            "username": "photo_mgr",
            "password": "long-enough-1",
            "role": "manager",
            "district_id": elsewhere,
        },
        headers=staff_headers,
    )
    assert made.status_code == 201
    try:
        token = client.post(
            "/v1/auth/token", data={"username": "photo_mgr", "password": "long-enough-1"}
        ).json()["access_token"]
        r = client.put(
            f"/v1/stations/{station_id}/photo",
            content=_image("PNG"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "image/png"},
        )
        assert r.status_code == 403
    finally:
        client.delete("/v1/users/photo_mgr", headers=staff_headers)
