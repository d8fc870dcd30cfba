"""Reliability III: many signed-in requests at once never wait on each other for a connection;
sessions end when they should (logout, account deleted and its name reused).
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import OwnDatabase, database_of_its_own, live_server, sign_in

pytestmark = pytest.mark.server

own, client, engine = database_of_its_own("reliability")

CASE = {
    "category": "wage_arrears",
    "description": "工资拖欠 (reliability test)",
    "lon": 113.0801,
    "lat": 22.5801,
    "reporter_contact": "13900000001",
}
PASSWORD = "long-enough-1"


def _bearer(http: httpx.Client | TestClient, username: str, password: str) -> dict[str, str]:
    tok = http.post("/v1/auth/token", data={"username": username, "password": password})
    assert tok.status_code == 200, tok.text
    return {"Authorization": f"Bearer {tok.json()['access_token']}"}


@pytest.fixture(scope="module")
def live(own: OwnDatabase) -> Iterator[str]:
    with live_server(own.settings) as url:
        yield url


def test_fifty_signed_in_requests_at_once_all_answer_within_seconds(live: str) -> None:
    """Notes, transitions, case reads: each uses one connection (its caller resolved on it).

    Before, a request held a connection while resolving its caller on another: ten at once
    took the whole pool and each waited 30 s for a second one (then 503).
    """
    with httpx.Client(base_url=live, timeout=60) as http:
        admin = _bearer(http, "admin", "admin")
        cases = [http.post("/v1/cases", json=CASE).json()["id"] for _ in range(10)]
        moved = [http.post("/v1/cases", json=CASE).json()["id"] for _ in range(13)]
        versions = [http.get(f"/v1/cases/{c}", headers=admin).json()["version"] for c in moved]

    def signed_in(i: int) -> int:
        with httpx.Client(base_url=live, timeout=60) as c:
            case = cases[i % len(cases)]
            if i % 4 == 0:
                note = {"text": f"note {i}"}
                return c.post(f"/v1/cases/{case}/notes", json=note, headers=admin).status_code
            if i % 4 == 1:
                return c.get(f"/v1/cases/{case}", headers=admin).status_code
            if i % 4 == 2:
                move = {"to": "accepted", "version": versions[i // 4]}
                url = f"/v1/cases/{moved[i // 4]}/transitions"
                return c.post(url, json=move, headers=admin).status_code
            return c.get("/v1/users/me", headers=admin).status_code

    def anonymous(i: int) -> int:
        with httpx.Client(base_url=live, timeout=60) as c:
            if i % 2:
                return c.post("/v1/cases", json=CASE).status_code
            near = {"lon": 113.08, "lat": 22.58, "k": 3}
            return c.get("/v1/stations/nearest", params=near).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(60) as pool:
        staff = [pool.submit(signed_in, i) for i in range(50)]
        public = [pool.submit(anonymous, i) for i in range(10)]
        codes = [f.result() for f in staff]
        public_codes = [f.result() for f in public]
    took = time.monotonic() - started
    assert all(code in (200, 201) for code in codes), codes
    assert all(code in (200, 201) for code in public_codes), public_codes
    assert took < 15, f"60 requests took {took:.1f} s"


def test_logout_ends_the_session_for_every_copy_of_its_token(client: TestClient) -> None:
    admin = _bearer(client, "admin", "admin")
    made = client.post(
        "/v1/users",
        json={"username": "rel_out", "password": PASSWORD, "role": "planner"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    first, second = _bearer(client, "rel_out", PASSWORD), _bearer(client, "rel_out", PASSWORD)
    assert client.get("/v1/users/me", headers=first).status_code == 200
    assert client.post("/v1/auth/logout", headers=first).status_code == 204
    assert client.get("/v1/users/me", headers=first).status_code == 401
    assert client.post("/v1/auth/logout", headers=first).status_code == 401
    # another session of the same account goes on
    assert client.get("/v1/users/me", headers=second).status_code == 200


def test_the_workbench_logout_ends_the_cookie_session(client: TestClient) -> None:
    with TestClient(client.app) as browser:
        browser.cookies.clear()
        signed = sign_in(browser, "admin", "admin")
        assert signed.status_code == 303
        cookie = browser.cookies.get("yizhan_session")
        assert cookie
        csrf = browser.get("/manager/session").json()["csrf"]
        browser.post("/manager/logout", data={"csrf": csrf}, follow_redirects=False)
    with TestClient(client.app) as thief:  # the old cookie, kept by someone
        thief.cookies.set("yizhan_session", cookie)
        assert thief.get("/manager/session").status_code == 401
        assert thief.get("/v1/users/me").status_code == 401


def test_a_deleted_accounts_token_never_works_for_a_new_account_of_its_name(
    client: TestClient,
) -> None:
    admin = _bearer(client, "admin", "admin")
    spec = {"username": "rel_again", "password": PASSWORD, "role": "planner"}
    assert client.post("/v1/users", json=spec, headers=admin).status_code == 201
    old = _bearer(client, "rel_again", PASSWORD)
    assert client.delete("/v1/users/rel_again", headers=admin).status_code == 204
    assert client.post("/v1/users", json=spec, headers=admin).status_code == 201
    assert client.get("/v1/users/me", headers=old).status_code == 401
    assert (
        client.get("/v1/users/me", headers=_bearer(client, "rel_again", PASSWORD)).status_code
        == 200
    )


@pytest.mark.parametrize(
    "password",
    ["short-pw-1", "Password1234", "123456789012345", "rel_policy-is-me", "aaaaaaaaaaaaaaaa"],
)
def test_weak_passwords_are_refused_for_every_account(client: TestClient, password: str) -> None:
    admin = _bearer(client, "admin", "admin")
    spec = {"username": "rel_policy", "password": password, "role": "planner"}
    refused = client.post("/v1/users", json=spec, headers=admin)
    assert refused.status_code == 422, refused.text


def test_wrong_current_passwords_are_throttled_like_logins(client: TestClient) -> None:
    admin = _bearer(client, "admin", "admin")
    spec = {"username": "rel_guess", "password": PASSWORD, "role": "planner"}
    assert client.post("/v1/users", json=spec, headers=admin).status_code == 201
    mine = _bearer(client, "rel_guess", PASSWORD)
    codes = [
        client.post(
            "/v1/users/me/password",
            json={"current_password": f"guess-number-{i}", "new_password": "a-new-passphrase-9"},
            headers=mine,
        ).status_code
        for i in range(8)
    ]
    assert codes[0] == 401
    assert codes[-1] == 429, codes


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_made_up_demand_names_are_refused_before_any_work_and_memory_stays_flat(
    client: TestClient,
) -> None:
    admin = _bearer(client, "admin", "admin")
    url = "/ogc/processes/coverage-scenario/execution"
    client.post(url, json={"inputs": {"demand": "warmup"}}, headers=admin)
    before = _rss_bytes()
    for i in range(300):
        r = client.post(url, json={"inputs": {"demand": f"made-up-{i}"}}, headers=admin)
        assert r.status_code == 400, r.text
        assert "inputs.demand" in r.json()["error"]["message"]
    grown = _rss_bytes() - before
    assert grown < 60 * 2**20, f"the API grew by {grown / 2**20:.0f} MB"
    assert set(client.app.state.platform._coverage) <= {"population", "workplaces"}


@pytest.mark.parametrize(
    "body",
    [
        {"inputs": None},
        {"inputs": []},
        {"inputs": "k=3"},
        {"inputs": 3},
        {"inputs": {"k": "three"}},
        {"inputs": {"k": None}},
        {"inputs": {"k": 3, "minutes": -1}},
        {"inputs": {"k": 3, "unknown": 1}},
        {"inputs": {"k": 3, "profile": "rocket"}},
        {"inputs": {"k": [3]}},
        {"inputs": {"k": 10**30}},
        {"inputs": {"k": 3, "method": {"a": 1}}},
    ],
)
def test_malformed_ogc_inputs_are_a_400_naming_the_field(client: TestClient, body: dict) -> None:
    admin = _bearer(client, "admin", "admin")
    r = client.post("/ogc/processes/site-selection/execution", json=body, headers=admin)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["message"].startswith("inputs")


@pytest.mark.parametrize("depth", [1_000, 50_000])
def test_deeply_nested_json_is_refused_at_the_edge(client: TestClient, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = '{"type": "FeatureCollection", "features": ' + nested + "}"
    r = client.post(
        "/v1/coverage/demand", content=body, headers={"Content-Type": "application/geo+json"}
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["type"] == "InvalidJSON"
    # a bracket inside a string is no nesting: the body is parsed and its field refused
    admin = _bearer(client, "admin", "admin")
    flat = {"inputs": {"k": 3, "profile": "[" * 5000}}
    r = client.post("/ogc/processes/site-selection/execution", json=flat, headers=admin)
    assert r.status_code == 400
    assert r.json()["error"]["message"].startswith("inputs.profile")


def test_a_control_character_in_a_report_does_not_break_the_excel_export(
    client: TestClient,
) -> None:
    from openpyxl import load_workbook

    hostile = {**CASE, "description": "工资\x07拖欠\x1b[31m =1+1"}
    made = client.post("/v1/cases", json=hostile)
    assert made.status_code == 201, made.text
    admin = _bearer(client, "admin", "admin")
    r = client.get("/v1/cases/export.xlsx", headers=admin)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any("工资拖欠" in t for t in texts)


def test_a_sign_in_posted_from_elsewhere_is_refused(client: TestClient) -> None:
    """Login CSRF: another site cannot sign a visitor into the attacker's account."""
    with TestClient(client.app) as victim:
        bare = victim.post(
            "/manager/login",
            data={"username": "admin", "password": "admin"},
            follow_redirects=False,
        )
        assert bare.status_code == 403
        assert "yizhan_session" not in victim.cookies
        with TestClient(client.app) as attacker:
            form = attacker.get("/manager").text
        token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        victim.get("/manager")  # the victim's own form cookie, not the attacker's
        forged = victim.post(
            "/manager/login",
            data={"username": "admin", "password": "admin", "csrf": token},
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert sign_in(victim, "admin", "admin").status_code == 303


@pytest.mark.parametrize("path", ["/manager", "/manager?lang=en"])
def test_staff_pages_are_never_framed(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
