"""The permission matrix: each role against each protected endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.api.conftest import on_one_connection

client, db = on_one_connection()


CASE = {
    "category": "mediation",
    "description": "调解",
    "lon": 113.0801,
    "lat": 22.5801,
    "reporter_contact": "13900000000",
}
ROLES = (
    "anonymous",
    "admin",
    "manager_here",
    "manager_elsewhere",
    "member_own",
    "member_other",
    "planner",
)


@pytest.fixture(scope="module")
def world(client: TestClient, db: Connection) -> Iterator[dict]:
    """Users of every role, and one case in 蓬江区 assigned to a known member."""
    admin = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).json()
    auth = {"Authorization": f"Bearer {admin['access_token']}"}
    case = client.post("/v1/cases", json=CASE).json()
    full = client.get(f"/v1/cases/{case['id']}", headers=auth).json()
    with db.begin_nested():
        c = db
        pengjiang = c.scalar(text("SELECT id FROM districts WHERE adcode = '440703'"))
        taishan = c.scalar(text("SELECT id FROM districts WHERE adcode = '440781'"))
        other_member = c.scalar(
            text("SELECT id FROM grid_members WHERE id <> :m ORDER BY id LIMIT 1"),
            {"m": full["member"]["id"]},
        )
    specs = {
        "manager_here": {"role": "manager", "district_id": pengjiang},
        "manager_elsewhere": {"role": "manager", "district_id": taishan},
        "member_own": {"role": "member", "member_id": full["member"]["id"]},
        "member_other": {"role": "member", "member_id": other_member},
        "planner": {"role": "planner"},
    }
    headers = {"anonymous": {}, "admin": auth}
    for name, spec in specs.items():
        r = client.post(
            "/v1/users",
            json={"username": f"u_{name}", "password": "long-enough-1", **spec},
            headers=auth,
        )
        assert r.status_code == 201, r.text
        tok = client.post(
            "/v1/auth/token", data={"username": f"u_{name}", "password": "long-enough-1"}
        )
        headers[name] = {"Authorization": f"Bearer {tok.json()['access_token']}"}
    return {"headers": headers, "case": full}


# expected status per role, in ROLES order
MATRIX = {
    ("GET", "/v1/cases/{id}"): (401, 200, 200, 404, 200, 404, 403),
    ("GET", "/v1/cases/{id}/events"): (401, 200, 200, 404, 200, 404, 403),
    ("GET", "/v1/cases/overdue"): (401, 200, 200, 200, 200, 200, 403),
    ("GET", "/v1/cases/due-soon"): (401, 200, 200, 200, 200, 200, 403),
    ("GET", "/v1/cases/stats"): (200, 200, 200, 200, 200, 200, 200),
    ("POST", "/v1/cases/escalate-overdue"): (401, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/users"): (401, 422, 403, 403, 403, 403, 403),
    ("GET", "/v1/users/me"): (401, 200, 200, 200, 200, 200, 200),
    ("POST", "/v1/coverage/scenarios"): (401, 200, 200, 200, 403, 403, 200),
    ("POST", "/v1/stations"): (401, 422, 422, 422, 403, 403, 403),
    ("GET", "/v1/coverage"): (200, 200, 200, 200, 200, 200, 200),
    ("GET", "/v1/cases/{id}/attachments"): (401, 200, 200, 404, 200, 404, 403),
    ("POST", "/v1/cases/{id}/notes"): (401, 201, 201, 404, 201, 404, 403),
    ("POST", "/v1/cases/{id}/callback"): (401, 409, 409, 404, 403, 403, 403),
    ("GET", "/v1/notifications"): (401, 200, 200, 200, 200, 200, 403),
    ("GET", "/v1/cases/export.xlsx"): (401, 200, 200, 200, 200, 200, 403),
}


@pytest.mark.parametrize(("method", "path"), list(MATRIX))
def test_permission_matrix(client: TestClient, world: dict, method: str, path: str) -> None:
    got = []
    for role in ROLES:
        url = path.replace("{id}", str(world["case"]["id"]))
        kwargs = {"headers": world["headers"][role]}
        if method == "POST":
            kwargs["json"] = {} if "users" in path or "stations" in path else None
            if "scenarios" in path:
                kwargs["json"] = {"minutes": 5}
            if path.endswith("/notes"):
                kwargs["json"] = {"text": "打过电话 <b>x</b>"}
            if path.endswith("/callback"):  # the case is not resolved: 409 for staff in scope
                kwargs["json"] = {"reached": True, "satisfaction": 4}
        got.append(client.request(method, url, **kwargs).status_code)
    assert tuple(got) == MATRIX[(method, path)], dict(zip(ROLES, got, strict=True))


def test_list_is_scoped(client: TestClient, world: dict) -> None:
    def ids(role: str) -> list[int]:
        return [
            c["id"] for c in client.get("/v1/cases", headers=world["headers"][role]).json()["cases"]
        ]

    cid = world["case"]["id"]
    assert cid in ids("admin")
    assert cid in ids("manager_here")
    assert cid in ids("member_own")
    assert cid not in ids("manager_elsewhere")
    assert cid not in ids("member_other")
    assert client.get("/v1/cases", headers=world["headers"]["planner"]).status_code == 403


def test_members_may_only_work_their_own_cases(client: TestClient, world: dict) -> None:
    cid, version = world["case"]["id"], world["case"]["version"]
    other = client.post(
        f"/v1/cases/{cid}/transitions",
        json={"to": "accepted", "version": version},
        headers=world["headers"]["member_other"],
    )
    assert other.status_code == 404
    cancel = client.post(
        f"/v1/cases/{cid}/transitions",
        json={"to": "cancelled", "version": version},
        headers=world["headers"]["member_own"],
    )
    assert cancel.status_code == 403
    ok = client.post(
        f"/v1/cases/{cid}/transitions",
        json={"to": "accepted", "version": version},
        headers=world["headers"]["member_own"],
    )
    assert ok.status_code == 200


def test_expired_and_forged_tokens(client: TestClient, settings) -> None:
    from datetime import UTC, datetime, timedelta

    import jwt

    old = jwt.encode(
        {"sub": "admin", "role": "admin", "exp": datetime.now(UTC) - timedelta(minutes=1)},
        settings.token_secret(),
        algorithm="HS256",
    )
    r = client.get("/v1/users/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401
    assert "expired" in r.json()["error"]["message"]
    forged = jwt.encode({"sub": "admin", "role": "admin"}, "not-the-key" * 4, algorithm="HS256")
    assert (
        client.get("/v1/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )


def test_the_roster_shows_each_role_its_own_people(
    client: TestClient, world: dict, db: Connection
) -> None:
    h = world["headers"]
    with db.begin_nested():
        c = db
        everyone = c.scalar(text("SELECT count(*) FROM grid_members"))
        pengjiang_towns = set(
            c.scalars(
                text(
                    "SELECT t.id FROM towns t JOIN districts d ON d.id = t.district_id "
                    "WHERE d.adcode = '440703'"
                )
            )
        )
    assert client.get("/v1/members", headers=h["admin"]).json()["total"] == everyone
    here = client.get("/v1/members", headers=h["manager_here"]).json()["members"]
    assert here
    assert {m["town_id"] for m in here} <= pengjiang_towns
    elsewhere = client.get("/v1/members", headers=h["manager_elsewhere"]).json()["members"]
    assert not {m["id"] for m in here} & {m["id"] for m in elsewhere}
    own = client.get("/v1/members", headers=h["member_own"]).json()["members"]
    assert [m["id"] for m in own] == [world["case"]["member"]["id"]]
    assert own[0]["open_cases"] >= 1  # the module's case is theirs
    assert own[0]["base"]["type"] == "Point"
    assert set(own[0]) >= {"capacity", "on_leave", "skills", "grid_id"}
    assert client.get("/v1/members", headers=h["planner"]).status_code == 403
    assert client.get("/v1/members").status_code == 401
