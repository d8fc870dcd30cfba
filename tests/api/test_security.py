"""Security II: each attack that once worked, tried again — each must now fail.

Scope on writes, revoked tokens, production start-up refusals, login back-off, forwarded
headers, Host injection, intake abuse, privacy in logs and odd input that used to give 500.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text

from api.app import create_app
from cli.server import server_config
from geo.cases.lifecycle import OPEN_STATUSES
from geo.db.cases import members
from geo.db.connection import database_url
from geo.errors import SetupError
from geo.settings import Settings
from geo.users import change_user, development_password_accounts
from tests.api.conftest import OwnDatabase, database_of_its_own

own, client, engine = database_of_its_own("security")

CASE = {"category": "mediation", "description": "调解", "lon": 113.0801, "lat": 22.5801}
PASSWORD = "long-enough-1"

#: a production secret key as `openssl rand -base64` makes one
RANDOM_KEY = "q7Rk2fX9vLp0sT4wYb1nE5mZc8HdJ3gUaW6"


def _bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
def places(engine: Engine) -> dict[str, int]:
    """Ids of districts, a station in each and grid members on both sides of a boundary."""
    with engine.connect() as c:
        row = {}
        for name, adcode in (("pengjiang", "440703"), ("taishan", "440781")):
            row[name] = c.scalar(text("SELECT id FROM districts WHERE adcode = :a"), {"a": adcode})
            row[f"{name}_station"] = c.scalar(
                text(
                    "SELECT s.id FROM stations s JOIN towns t ON t.id = s.town_id "
                    "WHERE t.district_id = :d ORDER BY s.id LIMIT 1"
                ),
                {"d": row[name]},
            )
            row[f"{name}_member"] = c.scalar(
                text(
                    "SELECT m.id FROM grid_members m JOIN towns t ON t.id = m.town_id "
                    "WHERE t.district_id = :d ORDER BY m.id LIMIT 1"
                ),
                {"d": row[name]},
            )
    return row


@pytest.fixture(scope="module")
def managers(
    client: TestClient, engine: Engine, places: dict[str, int]
) -> Iterator[dict[str, dict[str, str]]]:
    """Bearer headers of an admin, a Pengjiang manager and a Taishan manager."""
    admin = _bearer(client, "admin", "admin")
    for name in ("pengjiang", "taishan"):
        r = client.post(
            "/v1/users",
            json={
                "username": f"sec_{name}",
                "password": PASSWORD,
                "role": "manager",
                "district_id": places[name],
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
    return {
        "admin": admin,
        "pengjiang": _bearer(client, "sec_pengjiang"),
        "taishan": _bearer(client, "sec_taishan"),
    }


# --- 2. scope on writes -------------------------------------------------------------------


def test_manager_cannot_assign_a_case_to_a_member_of_another_district(
    client: TestClient, managers: dict, places: dict
) -> None:
    case = client.post("/v1/cases", json=CASE).json()
    staff = client.get(f"/v1/cases/{case['id']}", headers=managers["pengjiang"]).json()
    outside = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "assigned", "version": staff["version"], "member_id": places["taishan_member"]},
        headers=managers["pengjiang"],
    )
    assert outside.status_code == 403
    assert "outside the area" in outside.json()["error"]["message"]
    inside = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={
            "to": "assigned",
            "version": staff["version"],
            "member_id": places["pengjiang_member"],
        },
        headers=managers["pengjiang"],
    )
    assert inside.status_code == 200, inside.text
    assert inside.json()["member"]["id"] == places["pengjiang_member"]


def test_manager_cannot_change_or_close_a_station_of_another_district(
    client: TestClient, managers: dict, places: dict
) -> None:
    sid = places["pengjiang_station"]
    before = client.get(f"/v1/stations/{sid}").json()["properties"]
    patch = client.patch(
        f"/v1/stations/{sid}", json={"name": "taken over"}, headers=managers["taishan"]
    )
    assert patch.status_code == 403
    close = client.post(f"/v1/stations/{sid}/close", headers=managers["taishan"])
    assert close.status_code == 403
    after = client.get(f"/v1/stations/{sid}").json()["properties"]
    assert (after["name"], after["status"]) == (before["name"], before["status"])


def test_manager_cannot_create_or_move_a_station_outside_their_area(
    client: TestClient, managers: dict, places: dict
) -> None:
    body = {"name": "越界驿站", "kind": "service_centre", "lon": 113.0801, "lat": 22.5801}
    assert client.post("/v1/stations", json=body, headers=managers["taishan"]).status_code == 403
    taishan_station = client.get(f"/v1/stations/{places['taishan_station']}").json()
    move = client.patch(
        f"/v1/stations/{places['taishan_station']}",
        json={"lon": 113.0801, "lat": 22.5801},
        headers=managers["taishan"],
    )
    assert move.status_code == 403
    still = client.get(f"/v1/stations/{places['taishan_station']}").json()
    assert still["geometry"] == taishan_station["geometry"]


def test_grid_map_names_members_only_in_the_managers_area(
    client: TestClient, engine: Engine, managers: dict, places: dict
) -> None:
    with engine.connect() as c:
        names = dict(
            c.execute(
                text("SELECT id, name FROM grid_members WHERE id = ANY(:ids)"),
                {"ids": [places["pengjiang_member"], places["taishan_member"]]},
            ).all()
        )

    def shown(name: str, page: str) -> bool:  # names travel as JSON strings in the page
        return json.dumps(name)[1:-1] in page or name in page

    page = client.get("/maps/grids", headers=managers["taishan"]).text
    assert shown(names[places["taishan_member"]], page)
    assert not shown(names[places["pengjiang_member"]], page)
    assert not shown(names[places["taishan_member"]], client.get("/maps/grids").text)


# --- 3. tokens end with the account's changes ---------------------------------------------


def test_tokens_stop_when_the_account_changes(client: TestClient, managers: dict) -> None:
    admin = managers["admin"]
    made = client.post(
        "/v1/users",
        json={"username": "sec_planner", "password": PASSWORD, "role": "planner"},
        headers=admin,
    )
    assert made.status_code == 201
    steps = [
        ({"active": False}, None),
        ({"active": True}, PASSWORD),
        ({"role": "manager", "district_id": 1}, PASSWORD),
        ({"password": "another-pass-2"}, "another-pass-2"),
    ]
    token: dict[str, str] | None = _bearer(client, "sec_planner")
    for change, password in steps:
        if token is not None:
            assert client.get("/v1/users/me", headers=token).status_code == 200
        r = client.patch("/v1/users/sec_planner", json=change, headers=admin)
        assert r.status_code == 200, r.text
        if token is not None:
            revoked = client.get("/v1/users/me", headers=token)
            assert revoked.status_code == 401, change
            assert "revoked" in revoked.json()["error"]["message"]
        if password is None:
            refused = client.post(
                "/v1/auth/token", data={"username": "sec_planner", "password": PASSWORD}
            )
            assert refused.status_code == 401  # a deactivated account cannot log in
            token = None
            continue
        token = _bearer(client, "sec_planner", password)
    assert token is not None
    assert client.get("/v1/users/me", headers=token).json()["role"] == "manager"
    own = client.post(
        "/v1/users/me/password",
        json={"current_password": "another-pass-2", "new_password": "third-pass-333"},
        headers=token,
    )
    assert own.status_code == 200
    assert client.get("/v1/users/me", headers=token).status_code == 401
    token = _bearer(client, "sec_planner", "third-pass-333")
    assert client.delete("/v1/users/sec_planner", headers=admin).status_code == 204
    assert client.get("/v1/users/me", headers=token).status_code == 401


def test_development_default_passwords_are_refused_for_accounts(
    client: TestClient, managers: dict
) -> None:
    for password, why in (("password", "at least 12"), ("Password1234!", "common password")):
        r = client.post(
            "/v1/users",
            json={"username": "sec_weak", "password": password, "role": "planner"},
            headers=managers["admin"],
        )
        assert r.status_code == 422
        assert why in r.json()["error"]["message"]


@pytest.mark.slow
def test_users_command_deactivates_an_account(
    client: TestClient, managers: dict, own: OwnDatabase
) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "YIZHAN_DATABASE_NAME": own.settings.database_name}
    yizhan = str(Path(sys.executable).parent / "yizhan")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [yizhan, "users", *args], capture_output=True, text=True, env=env, timeout=120
        )

    made = run("create", "sec_cli", "--role", "planner", "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    token = _bearer(client, "sec_cli")
    assert client.get("/v1/users/me", headers=token).status_code == 200
    assert run("deactivate", "sec_cli").returncode == 0
    assert client.get("/v1/users/me", headers=token).status_code == 401
    reset = run("reset-password", "sec_cli")
    assert reset.returncode == 0
    assert "new password for sec_cli: " in reset.stdout
    assert "sec_cli" in run("list").stdout


# --- 4. no development password in production -----------------------------------------------


def test_production_refuses_to_start_with_the_development_admin(
    own: OwnDatabase,
) -> None:
    prod = own.settings.model_copy(
        update={
            "mode": "production",
            "database_url": database_url(own.settings),
            "secret_key": SecretStr(RANDOM_KEY),
            "admin_password": SecretStr("a-strong-passphrase-1"),
            "escalation_interval_s": 0,
        }
    )
    with pytest.raises(SetupError, match="development default"), TestClient(create_app(prod)):
        pass


def test_a_reset_password_clears_the_development_flag(conn) -> None:
    assert development_password_accounts(conn) == ["admin"]
    change_user(conn, "admin", password="a-strong-passphrase-1")
    assert development_password_accounts(conn) == []


@pytest.mark.parametrize(
    ("update", "words"),
    [
        ({"secret_key": "short-key"}, "at least 32 random bytes"),
        ({"secret_key": "a" * 32}, "at least 32 random bytes"),
        ({"secret_key": "abcd" * 10}, "at least 32 random bytes"),
        ({"admin_password": "Password1234"}, "common password"),
        ({"admin_password": "12345678901234"}, "common password"),
        ({"admin_password": "short-1"}, "at least 12 characters"),
        ({"admin_password": "changethis"}, "well-known default"),
        ({"admin_password": "admin-is-my-name"}, "contains the user name"),
    ],
)
def test_production_needs_a_long_key_and_a_strong_admin_password(
    update: dict[str, str], words: str
) -> None:
    from pydantic import ValidationError

    base = {
        "mode": "production",
        "database_url": "postgresql://x@h/d",
        "secret_key": RANDOM_KEY,
        "admin_password": "a-long-passphrase",
    }
    with pytest.raises(ValidationError, match=words):
        Settings(**{**base, **update})


# --- 6. forwarded headers only from trusted proxies ------------------------------------------


@pytest.fixture
def serve() -> Iterator[object]:
    """Start apps on loopback with the production uvicorn configuration."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Settings) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(settings)
        server = uvicorn.Server(
            server_config(app, settings, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{url}/health", timeout=2)  # not rate-limited
                return url
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def _statuses_with_spoofed_addresses(url: str, n: int) -> list[int]:
    return [
        httpx.get(
            f"{url}/v1/cases/stats", headers={"X-Forwarded-For": f"10.9.{i}.{i}"}, timeout=10
        ).status_code
        for i in range(n)
    ]


def test_forwarded_for_does_not_reset_the_rate_limit(serve, own: OwnDatabase) -> None:
    limited = own.settings.model_copy(
        update={"rate_limit_per_minute": 1, "rate_limit_burst": 3, "escalation_interval_s": 0}
    )
    url = serve(limited)
    assert _statuses_with_spoofed_addresses(url, 5) == [200, 200, 200, 429, 429]
    # a listed proxy is believed: then each forwarded address has its own bucket
    trusting = limited.model_copy(update={"trusted_proxies": ("127.0.0.1",)})
    url2 = serve(trusting)
    assert _statuses_with_spoofed_addresses(url2, 8) == [200] * 8


# --- 8. links never follow a foreign Host --------------------------------------------------


def test_unknown_host_headers_are_refused(client: TestClient) -> None:
    r = client.get("/ogc/collections", headers={"Host": "evil.example"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "InvalidHost"
    assert r.headers["x-content-type-options"] == "nosniff"
    ok = client.get("/ogc/collections", headers={"Host": "localhost:8000"}).json()
    assert all(link["href"].startswith("http://localhost:8000/") for link in ok["links"])


def test_links_use_the_public_url(own: OwnDatabase) -> None:
    s = own.settings.model_copy(
        update={"public_url": "https://yizhan.union.example/api", "escalation_interval_s": 0}
    )
    with TestClient(create_app(s), base_url="http://127.0.0.1:8000") as c:
        body = c.get("/ogc/collections").json()
        assert c.get("/ogc", headers={"Host": "yizhan.union.example"}).status_code == 200
    hrefs = [link["href"] for link in body["links"]]
    assert hrefs
    assert all(h.startswith("https://yizhan.union.example/api/ogc") for h in hrefs)


# --- 9. intake abuse -------------------------------------------------------------------------


def test_anonymous_intake_is_limited_per_client(own: OwnDatabase) -> None:
    s = own.settings.model_copy(update={"intake_per_hour": 3, "escalation_interval_s": 0})
    with TestClient(create_app(s)) as c:
        flood = [c.post("/v1/cases", json={**CASE, "description": f"x{i}"}) for i in range(5)]
        codes = [r.status_code for r in flood]
        assert codes[:3] == [201, 201, 201]
        assert codes[3:] == [429, 429]
        assert "an hour" in flood[-1].json()["error"]["message"]
        other = TestClient(c.app, client=("203.0.113.9", 1))
        assert other.post("/v1/cases", json=CASE).status_code == 201
        assert c.get("/v1/cases/stats").status_code == 200  # reading is not intake


def test_manager_rejects_spam_and_frees_the_members_capacity(
    client: TestClient, engine: Engine, managers: dict
) -> None:
    case = client.post("/v1/cases", json={**CASE, "description": "广告广告"}).json()
    staff = client.get(f"/v1/cases/{case['id']}", headers=managers["pengjiang"]).json()
    member, town = staff["member"]["id"], staff["town_id"]

    def open_cases() -> int:
        with engine.connect() as c:
            return next(
                m["open_cases"]
                for m in members(c, OPEN_STATUSES, town_id=town)
                if m["id"] == member
            )

    before = open_cases()
    no_reason = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "rejected", "version": staff["version"]},
        headers=managers["pengjiang"],
    )
    assert no_reason.status_code == 422
    r = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "rejected", "version": staff["version"], "reason": "spam"},
        headers=managers["pengjiang"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected"
    assert open_cases() == before - 1


# --- 10. privacy in logs ---------------------------------------------------------------------


def test_access_log_has_coarse_coordinates_and_a_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="yizhan.access"):
        r = client.get(
            "/v1/stations/nearest?lat=22.581234&lon=113.081234",
            headers={"X-Request-ID": "rider-check-1"},
        )
    assert r.headers["x-request-id"] == "rider-check-1"
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "yizhan.access"]
    line = next(li for li in lines if "/v1/stations/nearest" in li)
    assert "lat=22.58&lon=113.08" in line
    assert "22.581234" not in line
    assert "113.081234" not in line
    assert line.startswith("rider-check-1 GET")
    assert f" {r.status_code} " in line
    fresh = client.get("/health", headers={"X-Request-ID": "<bad id>"})
    assert fresh.headers["x-request-id"] != "<bad id>"


# --- 7. odd input gives 4xx JSON, never 500 --------------------------------------------------

ODD_GETS = [
    "/v1/stations/nearest?lat=22.58&lon=113.08&open_at=0001-01-01T00:00:00%2B14:00",
    "/v1/stations/nearest?lat=22.58&lon=113.08&open_at=9999-12-31T23:59:59-14:00",
    "/v1/coverage?at=0001-01-01T00:00:00%2B14:00",
    "/v1/coverage/gaps?at=9999-12-31T23:59:59-14:00",
    "/maps/coverage?at=0001-01-01T00:00:00%2B14:00",
    "/maps/stations?center=nan,nan",
    "/maps/stations?center=inf,113",
    "/maps/coverage?minutes=nan",
    "/maps/coverage?minutes=5,nan",
]


@pytest.mark.parametrize("path", ODD_GETS)
def test_odd_query_values_are_refused_cleanly(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert "error" in r.json()


def test_odd_time_in_a_site_request_is_refused(client: TestClient, managers: dict) -> None:
    r = client.post(
        "/v1/coverage/sites",
        json={"k": 1, "at": "0001-01-01T00:00:00+14:00"},
        headers=managers["admin"],
    )
    assert r.status_code == 422, r.text


def test_deeply_nested_json_is_refused_cleanly(client: TestClient) -> None:
    body = "[" * 50_000 + "]" * 50_000
    r = client.post("/v1/cases", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert "error" in r.json()


def test_an_unhandled_error_keeps_the_envelope_and_headers(own: OwnDatabase) -> None:
    app = create_app(own.settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    c = TestClient(app, raise_server_exceptions=False)
    r = c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {
        "error": {"type": "Internal", "message": "the server could not answer this request"}
    }
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "a bug" not in r.text


def test_riders_station_feedback_is_limited_per_client(own: OwnDatabase) -> None:
    s = own.settings.model_copy(update={"feedback_per_hour": 3, "escalation_interval_s": 0})
    with TestClient(create_app(s)) as c:
        flood = [c.post("/v1/stations/1/confirmations") for _ in range(5)]
        assert [r.status_code for r in flood] == [201, 201, 201, 429, 429]
        assert "an hour" in flood[-1].json()["error"]["message"]
        other = TestClient(c.app, client=("203.0.113.9", 1))
        assert other.post("/v1/stations/1/reports", json={"problem": "moved"}).status_code == 201
        assert c.get("/v1/stations/1").status_code == 200  # reading is not limited
