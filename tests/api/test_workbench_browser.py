"""A town manager's and a grid member's day on the workbench, in a real Chromium.

The manager signs in at desktop size, sees exactly the town's cases, filters the overdue ones,
reassigns one from the roster; the member, on a phone, sees it in their notifications and on
their desk, accepts it, adds a note and a photo, resolves it; the manager records the
callback (回访) and closes it; the history and the Excel export show it all. Another member
sees none of it, by page or by URL; a change without the page's CSRF token is refused; a
hostile description stays text.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from geo.settings import PROJECT_ROOT
from tests.api.conftest import (
    OwnDatabase,
    database_of_its_own,
    live_server,
    wait_until,
    workbench_page,
)

pytestmark = pytest.mark.browser

own, client, engine = database_of_its_own("workbench_day", job_wait_s=180)

PASSWORD = "long-enough-1"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
HOSTILE = '<img src=x onerror="window.__pwned=1">拖欠 <script>window.__pwned=2</script>'
#: a 1 x 1 PNG
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SHOTS = PROJECT_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="module")
def day(own: OwnDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server, the town's manager and two members, and two cases (one overdue).

    Returns of wage-arrears cases wait for a manager there (退单审核).
    """
    reviewed = own.settings.model_copy(update={"return_review": ("wage_arrears",)})
    with live_server(reviewed) as url:
        api = httpx.Client(base_url=url, timeout=30)
        token = api.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        made = [
            api.post(
                "/v1/cases",
                json={
                    "category": "wage_arrears",
                    "description": HOSTILE if i == 0 else "工地拖欠工资两个月",
                    "lon": 113.0801 + 0.001 * i,
                    "lat": 22.5801,
                    "reporter_contact": "13900000000",
                },
            ).json()
            for i in range(2)
        ]
        first = api.get(f"/v1/cases/{made[0]['id']}", headers=admin).json()
        with own.engine.begin() as c:
            town = c.scalar(text("SELECT town_id FROM cases WHERE id = :i"), {"i": first["id"]})
            other = c.scalar(
                text("SELECT id FROM grid_members WHERE town_id = :t AND id <> :m ORDER BY id"),
                {"t": town, "m": first["member"]["id"]},
            )
            c.execute(  # the first case is five days late
                text("UPDATE cases SET resolution_due = now() - interval '5 days' WHERE id = :i"),
                {"i": first["id"]},
            )
        specs = {
            "manager": {"role": "manager", "town_id": town},
            "first_member": {"role": "member", "member_id": first["member"]["id"]},
            "new_member": {"role": "member", "member_id": other},
        }
        for name, spec in specs.items():
            r = api.post(
                "/v1/users",
                json={"username": f"day_{name}", "password": PASSWORD, **spec},
                headers=admin,
            )
            assert r.status_code == 201, r.text
        tok = api.post("/v1/auth/token", data={"username": "day_manager", "password": PASSWORD})
        manager = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        yield {
            "url": url,
            "api": api,
            "manager": manager,
            "case": first,
            "other_member": other,
            "first_member": first["member"]["id"],
            "town": town,
        }
        api.close()


def _sign_in(context: Any, url: str, username: str) -> Any:
    return workbench_page(context, url, username, PASSWORD)


def _open(page: Any, case_id: int) -> None:
    page.click(f"li[data-case-id='{case_id}']")
    page.wait_for_selector(f"article[data-case-id='{case_id}'] h2", timeout=15_000)


def _status_is(page: Any, status: str) -> None:
    wait_until(page, f"document.querySelector('article.case').dataset.status === '{status}'")


def test_a_managers_and_a_members_day(browser: Any, day: dict[str, Any]) -> None:
    url, case = day["url"], day["case"]
    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    asked: dict[str, list[str]] = {"desk": [], "phone": []}
    desk.on("request", lambda r: asked["desk"].append(r.url))
    page = _sign_in(desk, url, "day_manager")
    # exactly the town's cases, as the API gives them to the manager
    listed = {
        int(x)
        for x in page.eval_on_selector_all(
            "li[data-case-id]", "ns => ns.map(n => n.dataset.caseId)"
        )
    }
    expected = (
        day["api"]
        .get("/v1/cases", params={"status": "open", "limit": 20}, headers=day["manager"])
        .json()
    )
    assert listed == {c["id"] for c in expected["cases"]}
    assert all(c["town_id"] == day["town"] for c in expected["cases"])
    page.check("input[name=overdue]")
    wait_until(page, "document.querySelectorAll('li[data-case-id]').length === 1")
    row = page.locator(f"li[data-case-id='{case['id']}']")
    assert "超期 5 天" in row.inner_text()
    assert row.locator("[data-clock=red]").count() == 1  # the deadline clock: red when late
    assert "已超 5 天" in row.locator(".clock").inner_text()
    # the desk's search: the case number as read out over the phone finds that case alone
    page.uncheck("input[name=overdue]")
    wait_until(page, "document.querySelectorAll('li[data-case-id]').length > 1")
    page.fill("input[name=q]", case["reference"].lower())
    page.press("input[name=q]", "Enter")
    wait_until(page, "document.querySelectorAll('li[data-case-id]').length === 1")
    assert page.locator(f"li[data-case-id='{case['id']}']").count() == 1
    page.screenshot(path=str(SHOTS / "workbench-desk.png"))
    _open(page, case["id"])
    # the hostile description is text, not markup
    assert "<img" in page.inner_text("article .desc")
    assert page.evaluate("window.__pwned") is None
    page.select_option("[data-role=reassign]", str(day["other_member"]))
    page.click("button[data-move=assigned]")
    wait_until(
        page,
        "document.querySelector('article.case .meta') && "
        "document.querySelector('article.case').dataset.status === 'assigned'",
    )
    page.wait_for_selector("[data-role=history] li[data-action=status]")

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    phone.on("request", lambda r: asked["phone"].append(r.url))
    member = _sign_in(phone, url, "day_new_member")
    member.click("[data-tab=notices]")
    member.wait_for_selector("[data-role=notices] li[data-kind=assigned]")
    assert case["reference"] in member.inner_text("[data-role=notices]")
    member.click("[data-tab=desk]")
    member.wait_for_selector(f"li[data-case-id='{case['id']}']")
    _open(member, case["id"])
    # the reporter is a tap away: a tel: link carrying only the number's digits
    assert member.get_attribute("article a.call", "href") == "tel:13900000000"
    member.click("button[data-move=accepted]")
    _status_is(member, "accepted")
    member.fill("[data-role=note]", "已与企业负责人通话，约定周五前支付")
    member.click("[data-role=add-note]")
    member.wait_for_selector("[data-role=history] li[data-action=note]")
    photo = PROJECT_ROOT / "artifacts" / "workbench-photo.png"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(PIXEL)
    # on a phone: straight from the camera, and big buttons for the moves
    assert member.get_attribute("[data-role=camera]", "capture") == "environment"
    member.set_input_files("[data-role=camera]", str(photo))
    member.wait_for_selector("[data-role=files] li a")
    move = member.query_selector("button[data-move=in_progress]")
    assert move is not None
    box = move.bounding_box()
    assert box is not None
    assert box["height"] >= 48
    member.click("button[data-move=in_progress]")
    _status_is(member, "in_progress")
    member.fill("[data-role=reason]", "已协调企业补发工资")  # 办结 needs the result
    member.click("button[data-move=resolved]")
    _status_is(member, "resolved")
    member.screenshot(path=str(SHOTS / "workbench-member-phone.png"))
    assert member.errors == []

    # back at the desk: the callback, then closing
    page.click("[data-role=back]")
    page.uncheck("input[name=overdue]")
    page.select_option("select[name=status]", "resolved")
    page.wait_for_selector(f"li[data-case-id='{case['id']}'][data-status=resolved]")
    _open(page, case["id"])
    page.select_option("[data-role=reached]", "true")
    page.select_option("[data-role=satisfaction]", "5")
    page.click("[data-role=save-callback]")
    page.wait_for_selector("[data-role=history] li[data-action=callback]")
    page.click("button[data-move=closed]")
    _status_is(page, "closed")
    history = page.inner_text("[data-role=history]")
    for word in ("已派单", "已签收", "办理中", "已办结", "回访", "已关闭", "约定周五前支付"):
        assert word in history, word
    page.screenshot(path=str(SHOTS / "workbench-case.png"), full_page=True)
    assert page.errors == []

    # the Excel export of the desk's list, fetched with the page's own session
    export = page.request.get(f"{url}/v1/cases/export.xlsx?status=closed")
    assert export.ok
    sheet = load_workbook(io.BytesIO(export.body())).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[case["reference"]][2] == "已关闭"
    # no change without the page's CSRF token, even with the session cookie
    forged = page.request.post(f"{url}/v1/cases/{case['id']}/notes", data={"text": "x"})
    assert forged.status == 403
    desk.close()
    # Chromium's own log of both days: every request went to the app, the maps' streets
    # included (the own basemap's tiles), at desktop and phone size
    for size, urls in asked.items():
        assert {urlparse(u).netloc for u in urls if u.startswith("http")} == {
            urlparse(url).netloc
        }, size
        assert any("/ogc/tiles/WebMercatorQuad/" in u for u in urls), size

    # the first member no longer has it: not on the desk, not by URL
    other = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    first = other.new_page()
    first.goto(f"{url}/manager")
    first.fill("input[name=username]", "day_first_member")
    first.fill("input[name=password]", PASSWORD)
    first.click("button[type=submit]")
    first.wait_for_selector("[data-role=count]:not(:empty)")
    assert first.locator(f"li[data-case-id='{case['id']}']").count() == 0
    assert first.request.get(f"{url}/v1/cases/{case['id']}").status == 404
    other.close()
    phone.close()


def test_a_wrong_password_shows_the_form_again(browser: Any, day: dict[str, Any]) -> None:
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{day['url']}/manager?lang=en")
    page.fill("input[name=username]", "day_manager")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-role=message]")
    assert "Wrong user name or password" in page.inner_text("[data-role=message]")
    assert page.locator("input[name=password]").count() == 1
    context.close()


def test_an_admin_previews_then_applies_a_batch_assignment(
    browser: Any, day: dict[str, Any], own: OwnDatabase
) -> None:
    with own.engine.begin() as c:  # three cases wait for a member again
        waiting = list(
            c.scalars(
                text(
                    "UPDATE cases SET status = 'submitted', member_id = NULL WHERE id IN "
                    "(SELECT id FROM cases WHERE status = 'assigned' ORDER BY id LIMIT 3) "
                    "RETURNING id"
                )
            )
        )
    assert waiting
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{day['url']}/manager")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin")
    page.click("button[type=submit]")
    page.click("[data-role=batch]")
    page.wait_for_selector("[data-role=batch-summary]", timeout=120_000)
    summary = page.inner_text("[data-role=batch-summary]")
    assert f"待派 {len(waiting)} 件" in summary
    proposed = {
        int(x)
        for x in page.eval_on_selector_all(
            ".proposals li[data-case-id]", "ns => ns.map(n => n.dataset.caseId)"
        )
    }
    assert proposed <= set(waiting)
    with own.engine.connect() as c:  # the preview stored nothing
        assert c.scalar(
            text("SELECT count(*) FROM cases WHERE id = ANY(:i) AND member_id IS NULL"),
            {"i": waiting},
        ) == len(waiting)
    page.click("[data-role=batch-apply]")
    wait_until(page, "!document.querySelector('[data-role=batch-apply]')", timeout_s=120)
    with own.engine.connect() as c:
        assigned = set(
            c.scalars(
                text("SELECT id FROM cases WHERE id = ANY(:i) AND status = 'assigned'"),
                {"i": waiting},
            )
        )
    assert assigned == proposed
    context.close()


def test_a_manager_sets_a_members_leave_capacity_and_skills(
    browser: Any, day: dict[str, Any]
) -> None:
    member = day["other_member"]
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = _sign_in(context, day["url"], "day_manager")
    page.click("[data-tab=roster]")
    row = page.locator(f"tr[data-member-id='{member}']")
    row.wait_for()
    row.locator("[data-role=capacity]").fill("7")
    row.locator("[data-role=leave]").check()
    row.locator("[data-role=skills] summary").click()
    for box in row.locator("[data-skill]").all():
        box.uncheck()
    row.locator("[data-skill=work_injury]").check()
    row.locator("[data-skill=mediation]").check()
    row.locator("[data-role=save-member]").click()
    page.wait_for_selector("[data-role=toast]:not([hidden])")
    roster = day["api"].get("/v1/members", headers=day["manager"]).json()["members"]
    found = next(m for m in roster if m["id"] == member)
    assert (found["capacity"], found["on_leave"], found["skills"]) == (
        7,
        True,
        ["mediation", "work_injury"],
    )
    assert page.errors == []
    context.close()


def test_a_members_return_waits_for_the_manager_who_approves_it(
    browser: Any, day: dict[str, Any]
) -> None:
    """退单审核 on a phone and at the desk: asked with a reason, approved, back in the pool."""
    url, api = day["url"], day["api"]
    made = api.post(
        "/v1/cases",
        json={
            "category": "wage_arrears",
            "description": "老板失联，工资未付",
            "lon": 113.0811,
            "lat": 22.5811,
            "reporter_contact": "13900000001",
        },
    ).json()
    case = api.get(f"/v1/cases/{made['id']}", headers=day["manager"]).json()
    if case["member"] is None or case["member"]["id"] != day["first_member"]:
        body = {"to": "assigned", "version": case["version"], "member_id": day["first_member"]}
        moved = api.post(f"/v1/cases/{case['id']}/transitions", json=body, headers=day["manager"])
        assert moved.status_code == 200, moved.text
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    member = _sign_in(phone, url, "day_first_member")
    member.wait_for_selector(f"li[data-case-id='{case['id']}']")
    _open(member, case["id"])
    member.fill("[data-role=reason]", "企业不在本网格 <b>")
    member.click("button[data-move=returned]")
    member.wait_for_selector("[data-role=return-waiting]", timeout=15_000)
    assert "退单申请已提交" in member.inner_text("[data-role=toast]")
    assert "企业不在本网格 <b>" in member.inner_text("[data-role=return-waiting]")
    assert member.locator("[data-action=approve-return]").count() == 0  # the manager's step
    _status_is(member, "assigned")  # still the member's until approved
    assert member.errors == []

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = _sign_in(desk, url, "day_manager")
    page.wait_for_selector(f"li[data-case-id='{case['id']}']")
    _open(page, case["id"])
    page.wait_for_selector("[data-action=approve-return]")
    page.click("[data-action=approve-return]")
    _status_is(page, "returned")
    page.wait_for_selector("[data-role=history] li[data-action=return_approved]")
    assert "退单已批准" in page.inner_text("[data-role=history] li[data-action=return_approved]")
    assert page.errors == []
    phone.close()
    desk.close()
