"""Hardening: headers, body limits, rate limits, login throttling, timeouts, odd input."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.app import create_app


def test_security_headers(client: TestClient) -> None:
    r = client.get("/v1/stations/1")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    m = client.get("/maps/cases")
    assert "x-frame-options" not in m.headers
    assert "frame-ancestors *" in m.headers["content-security-policy"]


def test_docs_page_uses_local_assets(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/maps/assets/swagger/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert client.get("/maps/assets/swagger/swagger-ui-bundle.js").status_code == 200


def test_oversized_bodies_get_413(settings, engine) -> None:
    s = settings.model_copy(update={"max_body_bytes": 4096})
    with TestClient(create_app(s)) as c:
        c.app.state.platform.roads.wait(120)
        big = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [113.0, 22.5]},
                }
            ]
            * 200,
        }
        r = c.post("/v1/coverage/sites", json={"k": 1, "candidates": big})
        assert r.status_code == 413
        assert "limit of 4096 bytes" in r.json()["error"]["message"]

        def chunks():
            for _ in range(10):
                yield b"x" * 1000

        streamed = c.post(
            "/v1/coverage/demand", content=chunks(), headers={"Content-Type": "text/csv"}
        )
        assert streamed.status_code == 413


def test_rate_limit_per_client(settings, engine) -> None:
    s = settings.model_copy(update={"rate_limit_per_minute": 60, "rate_limit_burst": 3})
    with TestClient(create_app(s)) as c:
        codes = [c.get("/v1/coverage/stats_nonexistent").status_code for _ in range(4)]
        assert codes[:3] != [429] * 3
        assert codes[3] == 429
        r = c.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert c.get("/health").status_code != 429  # not a rate-limited path


def test_login_attempts_back_off_per_client_without_locking_the_account(
    client: TestClient,
) -> None:
    attacker = TestClient(client.app, client=("198.51.100.66", 4000))
    owner = TestClient(client.app, client=("203.0.113.5", 4000))
    codes = [
        attacker.post("/v1/auth/token", data={"username": "admin", "password": f"x{i}"}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    waiting = attacker.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert waiting.status_code == 429  # the guessing client waits, even with the right one
    assert int(waiting.headers["retry-after"]) >= 1
    # five anonymous guesses do not lock the owner out: no attacker controls the account
    assert (
        owner.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).status_code
        == 200
    )


@pytest.mark.slow
def test_password_spraying_is_limited_per_client(client: TestClient) -> None:
    sprayer = TestClient(client.app, client=("198.51.100.67", 4000))
    codes = [
        sprayer.post(
            "/v1/auth/token", data={"username": f"user{i}", "password": "Winter2026!"}
        ).status_code
        for i in range(21)
    ]
    assert codes == [401] * 20 + [429]


def test_heavy_analysis_times_out_cleanly(settings, engine) -> None:
    s = settings.model_copy(update={"analysis_timeout_s": 0.001})
    with TestClient(create_app(s)) as c:
        c.app.state.platform.roads.wait(120)
        token = c.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).json()
        r = c.post(
            "/v1/coverage/sites",
            json={"k": 3},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
    assert r.status_code == 503
    assert r.json()["error"]["type"] == "Timeout"


@pytest.mark.parametrize("text", ["nul\x00byte", "\ud800" if False else "emoji 🚲 ok"])
def test_odd_text_never_500(client: TestClient, text: str) -> None:
    r = client.post(
        "/v1/cases", json={"category": "other", "description": text, "lon": 113.08, "lat": 22.58}
    )
    assert r.status_code in (201, 422), r.text
    if "\x00" in text:
        assert r.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/stations/nearest?lat=22.58&lon=113.08&amenities=water",
        "/v1/coverage?minutes=15&by=district&minute=10",
        "/v1/stations?kinds=service_centre",
    ],
)
def test_unknown_query_parameters_are_refused(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 422
    assert "unknown query parameter" in r.json()["error"]["message"]


def test_a_request_that_finds_every_database_connection_busy_gets_503(settings, engine) -> None:
    with TestClient(create_app(settings)) as c:
        platform = c.app.state.platform
        own = platform.db
        tight = create_engine(own.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
        platform.db = tight
        try:
            with tight.connect():  # the only connection, held elsewhere
                r = c.get("/v1/stations")
        finally:
            platform.db = own
            tight.dispose()
        assert r.status_code == 503
        assert r.headers["retry-after"] == "2"
        assert r.json()["error"]["type"] == "Busy"
        assert c.get("/v1/stations").status_code == 200
