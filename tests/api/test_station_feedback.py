"""Riders' word on stations: a report becomes a case on the area managers' desk; counts show.

Its own database (reports write cases); a real PostGIS, the real intake and placement.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from geo.settings import PROJECT_ROOT
from tests.api.conftest import (
    OwnDatabase,
    database_of_its_own,
    live_server,
    wait_until,
    workbench_page,
)

own, client, engine = database_of_its_own("feedback", escalation_interval_s=0)
PASSWORD = "long-enough-1"


@pytest.fixture(scope="module")
def admin(client: TestClient) -> dict[str, str]:
    token = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@pytest.fixture(scope="module")
def station(client: TestClient) -> dict:
    """A station with amenities, inside the test network's area."""
    near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08, "k": 1})
    return near.json()["results"][0]["station"]


def _manager(client: TestClient, admin: dict, name: str, district_id: int) -> dict[str, str]:
    spec = {"username": name, "password": PASSWORD, "role": "manager", "district_id": district_id}
    assert client.post("/v1/users", json=spec, headers=admin).status_code == 201
    token = client.post("/v1/auth/token", data={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_a_report_is_a_case_on_the_area_managers_desk_and_repeats_join_it(
    client: TestClient, admin: dict, station: dict, engine: Engine
) -> None:
    sid = station["id"]
    amenity = station["properties"]["amenities"][0]
    body = {"problem": "amenity_broken", "amenity": amenity, "text": "饮水机坏了 <b>x</b>"}
    first = client.post(f"/v1/stations/{sid}/reports", json=body)
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["joined"] is False
    assert made["reports"] == 1
    case = made["case"]
    assert case["category"] == "station_problem"
    assert case["station_id"] == sid
    staff = client.get(f"/v1/cases/{case['id']}", headers=admin).json()
    assert staff["location"]["coordinates"] == pytest.approx(station["geometry"]["coordinates"])
    assert "饮水机坏了 <b>x</b>" in staff["description"]  # kept as typed, escaped where shown
    assert station["properties"]["name"] in staff["description"]
    # the managers of the station's district have it on their desk; another district's do not
    manager = _manager(client, admin, "fb_here", staff["district_id"])
    desk = client.get("/v1/cases", params={"category": "station_problem"}, headers=manager).json()[
        "cases"
    ]
    assert [c["id"] for c in desk] == [case["id"]]
    assert desk[0]["station_id"] == sid
    with engine.connect() as conn:
        districts = list(conn.scalars(text("SELECT id FROM districts ORDER BY id")))
    elsewhere = _manager(
        client, admin, "fb_there", next(d for d in districts if d != staff["district_id"])
    )
    assert (
        client.get("/v1/cases", params={"category": "station_problem"}, headers=elsewhere).json()[
            "cases"
        ]
        == []
    )
    # the same problem again within a day joins the open case; another problem is another case
    again = client.post(f"/v1/stations/{sid}/reports", json={"problem": "amenity_broken"}).json()
    assert again["joined"] is True
    assert again["case"]["id"] == case["id"]
    assert again["reports"] == 2
    history = client.get(f"/v1/cases/{case['id']}/events", headers=admin).json()["events"]
    assert "reported_again" in [e["action"] for e in history]
    closed = client.post(f"/v1/stations/{sid}/reports", json={"problem": "closed_when_open"})
    assert closed.json()["case"]["id"] != case["id"]
    assert closed.json()["joined"] is False
    props = client.get(f"/v1/stations/{sid}").json()["properties"]
    assert props["problem_reports_7d"] == 3


def test_confirmations_are_counted_with_the_time_of_the_last(
    client: TestClient, station: dict
) -> None:
    sid = station["id"]
    before = client.get(f"/v1/stations/{sid}").json()["properties"]["confirmations_7d"]
    r = client.post(f"/v1/stations/{sid}/confirmations")
    assert r.status_code == 201, r.text
    assert r.json()["confirmations_7d"] == before + 1
    assert r.json()["last_confirmed_at"] is not None
    props = client.get(f"/v1/stations/{sid}").json()["properties"]
    assert props["confirmations_7d"] == before + 1
    assert props["last_confirmed_at"] == r.json()["last_confirmed_at"]


def test_planners_read_the_counts_per_station_as_json_and_csv(
    client: TestClient, admin: dict, station: dict
) -> None:
    assert client.get("/v1/stations/feedback").status_code == 401
    table = client.get("/v1/stations/feedback", headers=admin).json()["stations"]
    assert table[0]["station_id"] == station["id"]  # the most reported first
    assert table[0]["problem_reports_7d"] >= 3
    assert len(table) == len(client.get("/v1/stations", params={"limit": 1000}).json()["features"])
    csv = client.get("/v1/stations/feedback", params={"format": "csv"}, headers=admin)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("problem_reports_7d,")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"problem": "broken"}, 422),
        ({"problem": "amenity_broken", "amenity": "jacuzzi"}, 422),
        ({"problem": "other", "text": "x" * 1001}, 422),
        ({"problem": "other", "extra": 1}, 422),
        ({}, 422),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(
    client: TestClient, station: dict, body: dict, status: int
) -> None:
    sid = station["id"]
    before = client.get(f"/v1/stations/{sid}").json()["properties"]["problem_reports_7d"]
    r = client.post(f"/v1/stations/{sid}/reports", json=body)
    assert r.status_code == status, r.text
    assert "error" in r.json()
    after = client.get(f"/v1/stations/{sid}").json()["properties"]["problem_reports_7d"]
    assert after == before


def test_an_unknown_station_is_404(client: TestClient) -> None:
    assert client.post("/v1/stations/999999/reports", json={"problem": "moved"}).status_code == 404
    assert client.post("/v1/stations/999999/confirmations").status_code == 404


@pytest.fixture(scope="module")
def live_url(own: OwnDatabase) -> Iterator[str]:
    with live_server(own.settings) as url:
        yield url


HOSTILE = "<img src=x onerror=\"document.title='pwned'\">饮水机不出水"


@pytest.mark.browser
def test_a_rider_reports_from_the_card_and_the_card_then_counts_it(
    browser: Any, live_url: str, client: TestClient, admin: dict
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 22.5801, "longitude": 113.0801},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_url}/rider")
    page.wait_for_selector("#list[data-ready='true'] > li.station", timeout=15_000)
    card = page.query_selector("#list > li.station:nth-child(2)")
    assert card is not None
    sid = int(card.get_attribute("data-station-id"))
    amenities = [a.get_attribute("data-amenity") for a in card.query_selector_all("[data-amenity]")]
    card.query_selector("[data-action='report']").click()
    card.wait_for_selector("form.report-form")
    card.query_selector("input[value='amenity_broken']").check()
    assert card.query_selector("label.amenity-pick").is_visible()
    card.query_selector("select[name='amenity']").select_option(amenities[-1])
    card.query_selector("textarea[name='text']").fill(HOSTILE)
    photo = PROJECT_ROOT / "artifacts" / "rider" / "report-photo.png"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(PIXEL)
    card.query_selector("input[name='photo']").set_input_files(str(photo))
    card.query_selector("form.report-form .send").click()
    card.wait_for_selector("form.report-form[data-sent]")
    card.wait_for_selector("form.report-form[data-photo='sent']")
    reference = card.query_selector("form.report-form").get_attribute("data-sent")
    assert reference.startswith("JM-")
    assert reference in card.inner_text()
    assert "本周 1 条问题反馈" in card.inner_text()
    card.query_selector("[data-action='confirm']").click()
    confirm = f"[data-station-id='{sid}'] .confirm"
    wait_until(page, f"document.querySelector(\"{confirm}\").textContent.includes('谢谢')")
    # the case is on the desk, linked to the station, with the rider's words as typed
    found = client.get("/v1/cases", params={"category": "station_problem"}, headers=admin).json()[
        "cases"
    ]
    case = next(c for c in found if c["reference"] == reference)
    assert case["station_id"] == sid
    assert HOSTILE in case["description"]
    files = client.get(f"/v1/cases/{case['id']}/attachments", headers=admin).json()["attachments"]
    assert [f["media_type"] for f in files] == ["image/jpeg"]  # shrunk to a JPEG on the phone
    # a new visit shows the counts from the server
    page.reload()
    page.wait_for_selector(f"[data-station-id='{sid}'] .word .reports")
    word = page.inner_text(f"[data-station-id='{sid}'] .word")
    assert "本周 1 条问题反馈" in word
    assert "有骑手确认开放" in word
    assert page.title() != "pwned"
    assert errors == []
    page.screenshot(path=str(PROJECT_ROOT / "artifacts" / "rider" / "rider-phone-report.png"))
    context.close()


@pytest.mark.browser
def test_the_area_manager_fixes_the_station_from_the_case(
    browser: Any, live_url: str, client: TestClient, admin: dict, station: dict
) -> None:
    sid = station["id"]
    made = client.post(f"/v1/stations/{sid}/reports", json={"problem": "closed_when_open"})
    case = made.json()["case"]
    district = client.get(f"/v1/cases/{case['id']}", headers=admin).json()["district_id"]
    _manager(client, admin, "fb_desk", district)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    ready = f"li[data-case-id='{case['id']}']"
    page = workbench_page(context, live_url, "fb_desk", PASSWORD, ready=ready)
    errors = page.errors
    page.click(f"li[data-case-id='{case['id']}']")
    fix = f".station-fix[data-station-id='{sid}']"
    page.wait_for_selector(f"{fix} input[name=opening_hours]", timeout=15_000)
    before = client.get(f"/v1/stations/{sid}").json()["properties"]
    assert page.input_value(f"{fix} input[name=opening_hours]") == before["opening_hours"]
    page.fill(f"{fix} input[name=opening_hours]", "Mo-Su 06:00-22:00")
    dropped = before["amenities"][0]
    page.uncheck(f"{fix} input[name=amenity][value='{dropped}']")
    page.click(f"{fix} [data-action=save-station]")
    wait_until(page, "document.body.innerText.includes('驿站信息已更新')")
    after = client.get(f"/v1/stations/{sid}").json()["properties"]
    assert after["opening_hours"] == "Mo-Su 06:00-22:00"
    assert dropped not in after["amenities"]
    assert set(after["amenities"]) == set(before["amenities"]) - {dropped}
    assert errors == []
    context.close()


PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def test_a_report_takes_one_photo_with_its_key_onto_the_case(
    client: TestClient, admin: dict, station: dict
) -> None:
    sid = station["id"]
    made = client.post(f"/v1/stations/{sid}/reports", json={"problem": "moved"}).json()
    url = f"/v1/stations/{sid}/reports/{made['report_id']}/photo"
    png = {"Content-Type": "image/png"}
    wrong = client.put(url, content=PIXEL, headers={**png, "X-Report-Key": "not-the-key"})
    assert wrong.status_code == 404
    text = client.put(url, content=b"hello", headers={**png, "X-Report-Key": made["photo_key"]})
    assert text.status_code == 422  # not a photo (and the key is not spent by it)
    done = client.put(url, content=PIXEL, headers={**png, "X-Report-Key": made["photo_key"]})
    assert done.status_code == 201, done.text
    assert done.json()["case_reference"] == made["case"]["reference"]
    again = client.put(url, content=PIXEL, headers={**png, "X-Report-Key": made["photo_key"]})
    assert again.status_code == 404  # a key works once
    files = client.get(f"/v1/cases/{made['case']['id']}/attachments", headers=admin).json()
    assert [f["media_type"] for f in files["attachments"]] == ["image/png"]
