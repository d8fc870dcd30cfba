"""The desk's search: the case number, a reporter's phone, words of the description or notes —
within the caller's scope, combined with the other filters, and never written to the logs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from tests.api.conftest import on_one_connection

client, db = on_one_connection()


PASSWORD = "long-enough-1"
PHONE = "13912345678"


def _case(client: TestClient, description: str, phone: str) -> dict:
    made = client.post(
        "/v1/cases",
        json={
            "category": "wage_arrears",
            "description": description,
            "lon": 113.0801,
            "lat": 22.5801,
            "reporter_contact": phone,
        },
    )
    assert made.status_code == 201, made.text
    return made.json()


@pytest.fixture(scope="module")
def world(client: TestClient, db: Connection) -> dict:
    tok = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).json()
    admin = {"Authorization": f"Bearer {tok['access_token']}"}
    wages = _case(client, "某制衣厂拖欠三个月工资，约 20 人", PHONE)
    injury = _case(client, "工地受伤后老板不认工伤 100%_\\ 符号", "13800000000")
    note = client.post(
        f"/v1/cases/{injury['id']}/notes", json={"text": "已联系劳动监察大队"}, headers=admin
    )
    assert note.status_code == 201, note.text
    with db.begin_nested():
        c = db
        taishan = c.scalar(text("SELECT id FROM districts WHERE adcode = '440781'"))
    user = {"username": "far_manager", "password": PASSWORD}
    made = client.post(
        "/v1/users", json={**user, "role": "manager", "district_id": taishan}, headers=admin
    )
    assert made.status_code == 201, made.text
    far = client.post("/v1/auth/token", data=user).json()
    return {
        "admin": admin,
        "far": {"Authorization": f"Bearer {far['access_token']}"},
        "wages": wages,
        "injury": injury,
    }


def _found(client: TestClient, headers: dict, **params: str) -> set[str]:
    got = client.get("/v1/cases", params=params, headers=headers)
    assert got.status_code == 200, got.text
    return {c["reference"] for c in got.json()["cases"]}


def test_search_by_number_phone_words_and_notes(client: TestClient, world: dict) -> None:
    admin, wages, injury = world["admin"], world["wages"]["reference"], world["injury"]["reference"]
    assert _found(client, admin, q=wages) == {wages}
    assert _found(client, admin, q=wages.lower()) == {wages}  # as typed from a slip of paper
    assert _found(client, admin, q=PHONE) == {wages}
    assert _found(client, admin, q="拖欠") >= {wages}
    assert injury not in _found(client, admin, q="拖欠")
    assert _found(client, admin, q="劳动监察") == {injury}  # words of a note
    assert _found(client, admin, q="100%_\\") == {injury}  # wildcards are plain characters
    assert _found(client, admin, q="%") == {injury}
    assert _found(client, admin, q="拖欠", status="closed") == set()  # with the other filters


def test_search_keeps_the_callers_scope(client: TestClient, world: dict) -> None:
    assert _found(client, world["far"], q=PHONE) == set()  # another district's reporter
    assert client.get("/v1/cases", params={"q": PHONE}).status_code == 401


def test_a_search_never_reaches_the_logs(
    client: TestClient, world: dict, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="yizhan.access"):
        client.get("/v1/cases", params={"q": PHONE, "status": "open"}, headers=world["admin"])
    lines = [r.getMessage() for r in caplog.records if r.name == "yizhan.access"]
    assert any("/v1/cases" in line and "q=~" in line for line in lines), lines
    assert not any(PHONE in line for line in lines)


def test_an_overlong_search_is_a_clear_422(client: TestClient, world: dict) -> None:
    got = client.get("/v1/cases", params={"q": "x" * 101}, headers=world["admin"])
    assert got.status_code == 422
    assert "q" in got.text
