"""Staff intake (受理登记): an operator registers a call; it is placed, assigned and explained.

Its own database (intake writes cases); the browser test drives the workbench's form.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import PROJECT_ROOT
from tests.api.conftest import (
    OwnDatabase,
    database_of_its_own,
    live_server,
    wait_until,
    workbench_page,
)

own, client, engine = database_of_its_own("staff_intake", escalation_interval_s=0)
PASSWORD = "long-enough-1"
CALL = {
    "reporter_name": "李先生",
    "reporter_contact": "13800138000",
    "channel": "hotline",
    "category": "wage_arrears",
    "description": "工地拖欠三个月工资",
    "employer": "某某建筑公司",
}


def _bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    token = client.post("/v1/auth/token", data={"username": username, "password": password})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture(scope="module")
def admin(client: TestClient) -> dict[str, str]:
    return _bearer(client, "admin", "admin")


@pytest.fixture(scope="module")
def town(engine: Engine) -> dict[str, Any]:
    """A town inside the test network with grid members (外海街道 or the first with members)."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT t.id, t.name, t.district_id FROM towns t"
                " JOIN grid_members g ON g.town_id = t.id"
                " GROUP BY t.id ORDER BY (t.name = '外海街道') DESC, t.id LIMIT 1"
            )
        ).one()
    return dict(row._mapping)


def test_a_call_placed_by_its_town_is_assigned_there_and_keeps_what_was_said(
    client: TestClient, admin: dict, town: dict
) -> None:
    r = client.post(
        "/v1/cases/intake",
        json={**CALL, "town_id": town["id"], "address": "外海大道 12 号工地"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["reference"].startswith("JM-")
    assert case["channel"] == "hotline"
    assert case["town_id"] == town["id"]
    assert case["employer"] == "某某建筑公司"
    assert case["address"] == "外海大道 12 号工地"
    assert case["reporter_contact"] == "13800138000"
    assert case["assignment"] is not None  # explained as public intake explains it
    events = client.get(f"/v1/cases/{case['id']}/events", headers=admin).json()["events"]
    assert events[0]["actor"] == "staff:admin"


def test_a_call_picked_on_the_map_in_gcj02_is_placed_at_that_point(
    client: TestClient, admin: dict
) -> None:
    from geo.coords import from_wgs84

    glon, glat = (float(v) for v in from_wgs84(113.08, 22.58, "gcj02"))
    body = {**CALL, "lon": glon, "lat": glat, "coord": "gcj02", "channel": "walk_in"}
    case = client.post("/v1/cases/intake", json=body, headers=admin).json()
    assert case["location"]["coordinates"] == pytest.approx([113.08, 22.58], abs=1e-5)
    assert case["channel"] == "walk_in"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, 422),  # no place
        ({"town_id": 999999}, 422),
        ({"town_id": 1, "channel": "open311"}, 422),  # not a channel staff take calls by
        ({"town_id": 1, "category": "station_problem"}, 422),  # riders report those
        ({"town_id": 1, "reporter_contact": ""}, 422),
        ({"town_id": 1, "extra": 1}, 422),
    ],
)
def test_bad_calls_are_refused_and_write_nothing(
    client: TestClient, admin: dict, engine: Engine, change: dict, status: int
) -> None:
    with engine.connect() as conn:
        before = conn.scalar(text("SELECT count(*) FROM cases"))
    r = client.post("/v1/cases/intake", json={**CALL, **change}, headers=admin)
    assert r.status_code == status, r.text
    assert "error" in r.json()
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM cases")) == before


def test_only_staff_register_calls_and_per_account_not_per_address(
    client: TestClient, admin: dict, own: OwnDatabase, town: dict
) -> None:
    assert client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}).status_code == 401
    member = client.post(
        "/v1/users",
        json={"username": "in_member", "password": PASSWORD, "role": "planner"},
        headers=admin,
    )
    assert member.status_code == 201
    planner = _bearer(client, "in_member")
    refused = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=planner)
    assert refused.status_code == 403
    tight = own.settings.model_copy(
        update={"staff_intake_per_hour": 2, "intake_per_hour": 1, "escalation_interval_s": 0}
    )
    with TestClient(create_app(tight)) as c:
        headers = _bearer(c, "admin", "admin")
        codes = [
            c.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=headers)
            for _ in range(3)
        ]
        # two calls pass although anonymous intake allows this address one an hour
        assert [r.status_code for r in codes] == [201, 201, 429]
        assert "an hour from one account" in codes[-1].json()["error"]["message"]


@pytest.fixture(scope="module")
def live_url(own: OwnDatabase) -> Iterator[str]:
    with live_server(own.settings) as url:
        yield url


def _admin_at(browser: Any, live_url: str, view: str) -> tuple[Any, Any, list[str]]:
    """A desktop browser signed in to the workbench as admin, at ``/manager/{view}``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = workbench_page(context, live_url, "admin", "admin", ready=f"[data-tab={view}]")
    page.goto(f"{live_url}/manager/{view}")
    return context, page, page.errors


@pytest.mark.browser
def test_an_operator_registers_a_call_on_the_workbench_and_sees_it_assigned(
    browser: Any, live_url: str, client: TestClient, admin: dict, town: dict
) -> None:
    context, page, errors = _admin_at(browser, live_url, "intake")
    form = "form[data-role=intake]"
    page.wait_for_selector(
        f"{form} select[name=town_id] option[value='{town['id']}']", state="attached"
    )
    page.fill(f"{form} [name=reporter_name]", "王女士 <b>")
    page.fill(f"{form} [name=reporter_contact]", "13900139000")
    page.select_option(f"{form} [name=channel]", "hotline")
    page.select_option(f"{form} [name=category]", "work_injury")
    page.fill(f"{form} [name=description]", "搬运时受伤，单位不报工伤")
    page.fill(f"{form} [name=employer]", "某物流公司")
    page.select_option(f"{form} [name=town_id]", str(town["id"]))
    page.click(f"{form} [data-action=register]")
    page.wait_for_selector("[data-role=registered] .done", timeout=15_000)
    reference = page.get_attribute("[data-role=registered] .done", "data-reference")
    assert reference.startswith("JM-")
    shown = page.inner_text("[data-role=registered]")
    assert "已受理" in shown
    found = client.get("/v1/cases", params={"q": reference}, headers=admin).json()["cases"]
    assert len(found) == 1
    case = found[0]
    assert case["employer"] == "某物流公司"
    assert case["reporter_name"] == "王女士 <b>"
    assert case["town_id"] == town["id"]
    if case["member"]:
        assert case["member"]["name"] in shown  # the page says who has it
    page.click("[data-action=open-registered]")
    page.wait_for_selector(f"article[data-case-id='{case['id']}'] h2", timeout=15_000)
    # just registered: the clock is green, with the days left
    assert page.locator("article.case h2 [data-clock=green]").count() == 1
    assert "剩" in page.inner_text("article.case h2 .clock")
    # 延期申请, then its approval: the history says so
    page.fill("[data-role=extension] input[name=extension_reason]", "企业负责人出差")
    page.select_option("[data-role=extension] select[name=extension_days]", "3")
    page.click("[data-action=ask-extension]")
    page.wait_for_selector("[data-role=extension-waiting]", timeout=15_000)
    page.click("[data-action=approve-extension]")
    page.wait_for_selector("[data-role=history] li[data-action=extension_approved]", timeout=15_000)
    assert "3 天" in page.inner_text("[data-role=history] li[data-action=extension_approved]")
    # the member (or the desk) hands navigation to the case's place to the map apps
    page.wait_for_selector("[data-role=navigate] a[data-app=amap]")
    assert "uri.amap.com" in page.get_attribute("[data-role=navigate] a[data-app=amap]", "href")
    # the same caller again: the earlier case is suggested, and the new one closed as its repeat
    page.click("[data-tab=intake]")
    page.fill(f"{form} [name=reporter_contact]", "139 0013 9000")
    page.fill(f"{form} [name=reporter_name]", "王女士")  # (leaving the phone field: suggestions)
    page.wait_for_selector(f"[data-role=similar] li[data-similar-id='{case['id']}']")
    page.select_option(f"{form} [name=category]", "work_injury")
    page.fill(f"{form} [name=description]", "再次来电催办")
    page.select_option(f"{form} [name=town_id]", str(town["id"]))
    page.click(f"{form} [data-action=register]")
    repeat = f"[data-action=mark-duplicate][data-of='{case['id']}']"
    page.wait_for_selector(repeat, timeout=15_000)
    page.click(repeat)
    page.wait_for_selector("[data-role=duplicate-done]", timeout=15_000)
    assert "不予受理" in page.inner_text("[data-role=duplicate-done]")
    assert errors == []
    context.close()


def test_the_reporter_hears_at_intake_and_at_resolution_through_the_signed_outbox(
    client: TestClient, admin: dict, engine: Engine, town: dict
) -> None:
    import json

    from geo.cases.delivery import payload

    case = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    case = case.json()

    def updates() -> list[dict]:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT * FROM notifications WHERE case_id = :c AND kind = 'reporter.update'"
                    " ORDER BY id"
                ),
                {"c": case["id"]},
            )
            return [dict(r._mapping) for r in rows]

    first = updates()
    assert len(first) == 1
    assert first[0]["audience"] == "reporter"
    assert case["reference"] in first[0]["message"]
    assert "已受理" in first[0]["message"]
    assert "前办结" in first[0]["message"]
    body = json.loads(payload(first[0]))
    assert body["reporter_contact"] == "13800138000"  # only in the signed body
    assert "13800138000" not in first[0]["message"]
    # 办结 needs the result, and the reporter hears it
    version = case["version"]
    for to in ("accepted", "in_progress"):
        r = client.post(
            f"/v1/cases/{case['id']}/transitions",
            json={"to": to, "version": version},
            headers=admin,
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    bare = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "resolved", "version": version},
        headers=admin,
    )
    assert bare.status_code == 422
    assert "办理结果" in bare.json()["error"]["message"]
    done = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "resolved", "version": version, "reason": "企业已补发工资 8,000 元"},
        headers=admin,
    )
    assert done.status_code == 200, done.text
    second = updates()
    assert len(second) == 2
    assert "已办结：企业已补发工资 8,000 元" in second[1]["message"]
    # the workbench never lists the reporter's updates
    listed = client.get("/v1/notifications", headers=admin).json()["notifications"]
    assert all(n.get("kind") != "reporter.update" for n in listed)


def test_earlier_calls_are_suggested_and_a_duplicate_is_closed_linked(
    client: TestClient, admin: dict, town: dict
) -> None:
    phone = "+86 139-0000-7777"
    first = client.post(
        "/v1/cases/intake",
        json={**CALL, "reporter_contact": phone, "employer": "江门某电子厂", "town_id": town["id"]},
        headers=admin,
    ).json()
    by_phone = client.get("/v1/cases/similar", params={"phone": "13900007777"}, headers=admin)
    assert by_phone.status_code == 200, by_phone.text
    assert first["id"] in [c["id"] for c in by_phone.json()["cases"]]
    lon, lat = first["location"]["coordinates"]
    near = client.get(
        "/v1/cases/similar",
        params={"employer": " 江门某电子厂 ", "lat": lat + 0.005, "lon": lon},  # ~550 m
        headers=admin,
    ).json()["cases"]
    assert first["id"] in [c["id"] for c in near]
    far = client.get(
        "/v1/cases/similar",
        params={"employer": "江门某电子厂", "lat": lat + 0.1, "lon": lon},  # ~11 km
        headers=admin,
    ).json()["cases"]
    assert first["id"] not in [c["id"] for c in far]
    assert client.get("/v1/cases/similar", params={"phone": "13900007777"}).status_code == 401
    # the second call repeats the first: closed as its duplicate, linked both ways
    second = client.post(
        "/v1/cases/intake",
        json={**CALL, "reporter_contact": phone, "town_id": town["id"]},
        headers=admin,
    ).json()
    url = f"/v1/cases/{second['id']}/duplicate"
    assert (
        client.post(
            url, json={"of": second["id"], "version": second["version"]}, headers=admin
        ).status_code
        == 422
    )
    stale = client.post(url, json={"of": first["id"], "version": 999}, headers=admin)
    assert stale.status_code == 409
    done = client.post(url, json={"of": first["id"], "version": second["version"]}, headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "rejected"
    events = client.get(f"/v1/cases/{second['id']}/events", headers=admin).json()["events"]
    assert any(first["reference"] in (e["reason"] or "") for e in events)
    linked = client.get(f"/v1/cases/{first['id']}/events", headers=admin).json()["events"]
    assert any(
        e["action"] == "duplicate_linked" and e["data"]["duplicate"] == second["reference"]
        for e in linked
    )


def test_the_kpis_agree_with_the_case_lists_for_the_same_scope(
    client: TestClient, admin: dict, town: dict
) -> None:
    case = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    case = case.json()
    for to in ("accepted", "in_progress", "resolved"):  # resolved at once: on time
        body = {"to": to, "version": case["version"], "reason": "已处理"}
        case = client.post(f"/v1/cases/{case['id']}/transitions", json=body, headers=admin).json()
    manager_spec = {
        "username": "kpi_manager",
        "password": PASSWORD,
        "role": "manager",
        "district_id": town["district_id"],
    }
    assert client.post("/v1/users", json=manager_spec, headers=admin).status_code == 201
    for headers in (admin, _bearer(client, "kpi_manager")):
        table = client.get("/v1/cases/kpis", params={"by": "town"}, headers=headers)
        assert table.status_code == 200, table.text
        figures = table.json()
        total = figures["total"]

        def listed(headers: dict = headers, **params: str) -> int:
            answer = client.get("/v1/cases", params={"limit": 1, **params}, headers=headers)
            return answer.json()["total"]

        assert total["received"] == listed() > 0
        assert total["open_now"] == listed(status="open")
        assert total["overdue_now"] == listed(overdue="true")
        assert sum(r["received"] for r in figures["rows"]) == total["received"]
        assert sum(r["open_now"] for r in figures["rows"]) == total["open_now"]
    by_category = client.get("/v1/cases/kpis", params={"by": "category"}, headers=admin).json()
    assert "拖欠工资" in [r["label"] for r in by_category["rows"]]
    resolved = [r for r in by_category["rows"] if r["on_time_resolution"] is not None]
    assert resolved  # the case resolved at once counts as on time
    assert all(0 <= r["on_time_resolution"] <= 1 for r in resolved)
    weekly = client.get("/v1/cases/kpis", params={"by": "week"}, headers=admin).json()["rows"]
    assert sum(r["received"] for r in weekly) == total_received(client, admin)
    bad = client.get("/v1/cases/kpis", params={"by": "planet"}, headers=admin)
    assert bad.status_code == 422
    backwards = {"from": "2026-12-01T00:00:00", "to": "2026-11-01T00:00:00"}
    assert client.get("/v1/cases/kpis", params=backwards, headers=admin).status_code == 422
    assert client.get("/v1/cases/kpis").status_code == 401


def total_received(client: TestClient, admin: dict) -> int:
    return client.get("/v1/cases", params={"limit": 1}, headers=admin).json()["total"]


@pytest.mark.browser
def test_the_figures_page_shows_the_apis_kpis(
    browser: Any, live_url: str, client: TestClient, admin: dict, town: dict
) -> None:
    made = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    assert made.status_code == 201
    context, page, errors = _admin_at(browser, live_url, "kpis")
    page.wait_for_selector("[data-role=kpi-total] td", timeout=15_000)
    cells = page.eval_on_selector_all(
        "[data-role=kpi-total] td", "tds => tds.map(t => t.textContent)"
    )
    api = client.get("/v1/cases/kpis", params={"by": "town"}, headers=admin).json()["total"]
    assert cells[0] == "合计"
    assert int(cells[1]) == api["received"]
    assert int(cells[6]) == api["open_now"]
    assert int(cells[7]) == api["overdue_now"]
    page.select_option("[data-role=kpi-filters] select[name=by]", "category")
    page.wait_for_selector("[data-role=kpis] tbody tr[data-key=wage_arrears]")
    assert page.locator("[data-role=trend] .week-bar").count() >= 1
    page.screenshot(path=str(PROJECT_ROOT / "docs" / "screenshots" / "workbench-kpis.png"))
    assert errors == []
    context.close()


def test_the_excel_export_carries_the_result_satisfaction_and_time_taken(
    client: TestClient, admin: dict, town: dict
) -> None:
    import io

    from openpyxl import load_workbook

    case = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    case = case.json()
    for to in ("accepted", "in_progress", "resolved"):
        body = {"to": to, "version": case["version"], "reason": "=已补发工资"}
        case = client.post(f"/v1/cases/{case['id']}/transitions", json=body, headers=admin).json()
    called = client.post(
        f"/v1/cases/{case['id']}/callback", json={"reached": True, "satisfaction": 4}, headers=admin
    )
    assert called.status_code == 201, called.text
    r = client.get("/v1/cases/export.xlsx", params={"q": case["reference"]}, headers=admin)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["编号"] == case["reference"]
    assert row["办结时间"]
    assert row["用时（天）"] == 0
    assert row["办理结果"] == "'=已补发工资"  # a formula stays text
    assert row["满意度"] == 4
    assert row["涉及单位"] == "某某建筑公司"


def test_an_extension_is_asked_for_then_approved_or_refused_and_the_deadline_moves(
    client: TestClient, admin: dict, town: dict
) -> None:
    from datetime import datetime, timedelta

    case = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    case = case.json()
    url = f"/v1/cases/{case['id']}/extensions"
    assert client.post(url, json={"days": 0, "reason": "x"}, headers=admin).status_code == 422
    assert client.post(url, json={"days": 3, "reason": ""}, headers=admin).status_code == 422
    none_waiting = {"approve": True, "version": case["version"]}
    assert client.post(f"{url}/decision", json=none_waiting, headers=admin).status_code == 409
    asked = client.post(url, json={"days": 3, "reason": "企业负责人出差"}, headers=admin)
    assert asked.status_code == 201, asked.text
    again = client.post(url, json={"days": 2, "reason": "再等等"}, headers=admin)
    assert again.status_code == 409  # one request waits at a time
    stale = client.post(f"{url}/decision", json={"approve": True, "version": 999}, headers=admin)
    assert stale.status_code == 409
    version = asked.json()["version"]
    done = client.post(f"{url}/decision", json={"approve": True, "version": version}, headers=admin)
    assert done.status_code == 200, done.text
    before = datetime.fromisoformat(case["resolution_due"])
    after = datetime.fromisoformat(done.json()["resolution_due"])
    assert after - before == timedelta(days=3)
    # a second request, refused: the deadline stays
    client.post(url, json={"days": 5, "reason": "还需协调"}, headers=admin)
    version = done.json()["version"]
    refused = client.post(
        f"{url}/decision",
        json={"approve": False, "version": version, "note": "期限内办结"},
        headers=admin,
    )
    assert refused.status_code == 200
    assert refused.json()["resolution_due"] == done.json()["resolution_due"]
    actions = [
        e["action"]
        for e in client.get(f"/v1/cases/{case['id']}/events", headers=admin).json()["events"]
    ]
    assert actions.count("extension_requested") == 2
    assert "extension_approved" in actions
    assert "extension_refused" in actions


def test_the_live_stream_says_hello_then_tells_of_a_case_change(
    live_url: str, client: TestClient, admin: dict, town: dict
) -> None:
    import threading

    import httpx

    assert httpx.get(f"{live_url}/v1/live", timeout=5).status_code == 401
    heard: list[str] = []
    hello = threading.Event()
    changed = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{live_url}/v1/live", headers=admin, timeout=20) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                heard.append(line)
                if line == "event: hello":
                    hello.set()
                if line == "event: cases":
                    changed.set()
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert hello.wait(10), heard
    made = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    assert made.status_code == 201
    assert changed.wait(10), heard  # the change feed told the stream
    assert not any(CALL["reporter_contact"] in line for line in heard)  # no case data in events


@pytest.mark.browser
def test_the_desk_shows_a_new_case_without_a_reload(
    browser: Any, live_url: str, client: TestClient, admin: dict, town: dict
) -> None:
    context, page, errors = _admin_at(browser, live_url, "intake")
    page.click("[data-tab=desk]")
    wait_until(page, "document.body.dataset.live === 'open'")
    made = client.post("/v1/cases/intake", json={**CALL, "town_id": town["id"]}, headers=admin)
    case_id = made.json()["id"]
    page.wait_for_selector(f"li[data-case-id='{case_id}']", timeout=15_000)  # no reload
    assert errors == []
    context.close()
