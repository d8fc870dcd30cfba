"""The workbench's case work over the API: returns, callback, notes, attachments, roster,
notifications and their webhook delivery, the Excel export, and the session cookie's CSRF rule.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from geo.cases.delivery import deliver_due
from tests.api.conftest import database_of_its_own, sign_in

own, client, engine = database_of_its_own("workbench_api")

CASE = {
    "category": "wage_arrears",
    "description": '=HYPERLINK("http://evil") 工资拖欠',
    "lon": 113.0801,
    "lat": 22.5801,
    "reporter_contact": "13900000000",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PASSWORD = "long-enough-1"


def _headers(client: TestClient, username: str) -> dict[str, str]:
    tok = client.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert tok.status_code == 200, tok.text
    return {"Authorization": f"Bearer {tok.json()['access_token']}"}


@pytest.fixture(scope="module")
def people(client: TestClient, engine: Engine) -> dict[str, dict[str, str]]:
    """The admin, the town's manager, the case's member and another member."""
    admin = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"}).json()
    auth = {"Authorization": f"Bearer {admin['access_token']}"}
    case = client.post("/v1/cases", json=CASE).json()
    full = client.get(f"/v1/cases/{case['id']}", headers=auth).json()
    with engine.connect() as c:
        town = c.scalar(text("SELECT town_id FROM cases WHERE id = :i"), {"i": case["id"]})
        other = c.scalar(
            text("SELECT id FROM grid_members WHERE town_id = :t AND id <> :m ORDER BY id"),
            {"t": town, "m": full["member"]["id"]},
        )
    specs = {
        "manager": {"role": "manager", "town_id": town},
        "member": {"role": "member", "member_id": full["member"]["id"]},
        "other": {"role": "member", "member_id": other},
    }
    for name, spec in specs.items():
        r = client.post(
            "/v1/users", json={"username": f"wb_{name}", "password": PASSWORD, **spec}, headers=auth
        )
        assert r.status_code == 201, r.text
    out = {name: _headers(client, f"wb_{name}") for name in specs}
    out["admin"] = auth
    out["ids"] = {"case": case["id"], "member": full["member"]["id"], "other": other}  # type: ignore[assignment]
    return out


def _case(client: TestClient, people: dict, **changes: object) -> dict:
    """A new case, given to the fixture's member (whoever the rules first chose)."""
    made = client.post("/v1/cases", json={**CASE, **changes}).json()
    case = client.get(f"/v1/cases/{made['id']}", headers=people["manager"]).json()
    if case["member_id"] == people["ids"]["member"]:
        return case
    return _move(client, people["manager"], case, "assigned", member_id=people["ids"]["member"])


def _move(client: TestClient, headers: dict, case: dict, to: str, **extra: object) -> dict:
    r = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": to, "version": case["version"], **extra},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_a_member_returns_a_case_with_a_reason_and_the_managers_hear(
    client: TestClient, people: dict
) -> None:
    case = _case(client, people)
    no_reason = client.post(
        f"/v1/cases/{case['id']}/transitions",
        json={"to": "returned", "version": case["version"]},
        headers=people["member"],
    )
    assert no_reason.status_code == 422
    back = _move(client, people["member"], case, "returned", reason="不在我的网格")
    assert back["status"] == "returned"
    assert back["member"] is None
    mine = client.get("/v1/notifications", headers=people["manager"]).json()
    told = [n for n in mine["notifications"] if n["case_id"] == case["id"]]
    assert told[0]["kind"] == "returned"
    assert "不在我的网格" in told[0]["message"]
    assert told[0]["message_en"].startswith(f"Case {case['reference']}")
    # reassigned from the roster: the new member hears of it
    again = _move(client, people["manager"], back, "assigned", member_id=people["ids"]["other"])
    assert again["member"]["id"] == people["ids"]["other"]
    theirs = client.get("/v1/notifications", headers=people["other"]).json()
    assert any(
        n["case_id"] == case["id"] and n["kind"] == "assigned" for n in theirs["notifications"]
    )
    assert theirs["unread"] >= 1
    ids = [n["id"] for n in theirs["notifications"]]
    assert client.post("/v1/notifications/read", json={"ids": ids}, headers=people["other"]).json()[
        "changed"
    ] == len(ids)
    assert client.get("/v1/notifications", headers=people["other"]).json()["unread"] == 0
    # another person's ids change nothing
    assert client.post(
        "/v1/notifications/read", json={"ids": ids}, headers=people["member"]
    ).json() == {"changed": 0}


@pytest.fixture
def returns_reviewed(client: TestClient) -> Iterator[None]:
    """The app's settings for one test: wage-arrears returns wait for a manager."""
    before = client.app.state.settings
    client.app.state.settings = before.model_copy(update={"return_review": ("wage_arrears",)})
    yield
    client.app.state.settings = before


def test_the_unions_own_deadlines_set_a_new_cases_clocks(client: TestClient, people: dict) -> None:
    """YIZHAN_CASE_DEADLINES: 6 hours to accept, 10 days to resolve wage arrears here."""
    before = client.app.state.settings
    client.app.state.settings = before.model_copy(
        update={"case_deadlines": {"wage_arrears": (6.0, 10.0)}}
    )
    try:
        case = _case(client, people)
    finally:
        client.app.state.settings = before
    created = datetime.fromisoformat(case["created_at"])
    assert datetime.fromisoformat(case["first_contact_due"]) - created == timedelta(hours=6)
    assert datetime.fromisoformat(case["resolution_due"]) - created == timedelta(days=10)
    usual = _case(client, people)  # the built-in table again: 24 hours, 30 days
    created = datetime.fromisoformat(usual["created_at"])
    assert datetime.fromisoformat(usual["first_contact_due"]) - created == timedelta(hours=24)


@pytest.mark.usefixtures("returns_reviewed")
def test_a_return_under_review_waits_for_a_manager_who_refuses_or_approves(
    client: TestClient, people: dict
) -> None:
    """退单审核: the member asks; the case stays theirs until a manager decides."""
    member, manager = people["member"], people["manager"]
    case = _case(client, people)
    url = f"/v1/cases/{case['id']}"
    move = {"to": "returned", "version": case["version"], "reason": "不在我的网格"}
    direct = client.post(f"{url}/transitions", json=move, headers=member)
    assert direct.status_code == 409
    assert direct.json()["error"]["code"] == "return_review"
    asked = client.post(f"{url}/returns", json={"reason": "不在我的网格"}, headers=member)
    assert asked.status_code == 201, asked.text
    assert asked.json()["status"] == case["status"]
    assert asked.json()["member"]["id"] == people["ids"]["member"]  # still the member's
    twice = client.post(f"{url}/returns", json={"reason": "再问一次"}, headers=member)
    assert twice.status_code == 409
    heard = client.get("/v1/notifications", headers=manager).json()["notifications"]
    assert any(n["case_id"] == case["id"] and n["kind"] == "return_requested" for n in heard)
    decision = {"approve": False, "version": asked.json()["version"], "note": "请先联系企业"}
    assert client.post(f"{url}/returns/decision", json=decision, headers=member).status_code == 403
    refused = client.post(f"{url}/returns/decision", json=decision, headers=manager)
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == case["status"]
    told = client.get("/v1/notifications", headers=member).json()["notifications"]
    mine = [n for n in told if n["case_id"] == case["id"] and n["kind"] == "return_refused"]
    assert "请先联系企业" in mine[0]["message"]
    again = client.post(f"{url}/returns", json={"reason": "企业已搬离本镇"}, headers=member)
    assert again.status_code == 201
    stale = {"approve": True, "version": again.json()["version"] - 1}
    assert client.post(f"{url}/returns/decision", json=stale, headers=manager).status_code == 409
    approve = {"approve": True, "version": again.json()["version"]}
    approved = client.post(f"{url}/returns/decision", json=approve, headers=manager)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "returned"
    assert approved.json()["member"] is None
    history = client.get(f"{url}/events", headers=manager).json()["events"]
    actions = [e["action"] for e in history]
    assert actions.count("return_requested") == 2
    assert "return_refused" in actions
    assert "return_approved" in actions
    status = [e for e in history if e.get("to_status") == "returned"]
    assert status[-1]["reason"] == "企业已搬离本镇"  # the member's reason stays the return's
    assert client.post(f"{url}/returns/decision", json=approve, headers=manager).status_code == 409
    # a category not under review is returned at once, as before
    settings = client.app.state.settings
    client.app.state.settings = settings.model_copy(update={"return_review": ("work_injury",)})
    other = _case(client, people)
    back = _move(client, member, other, "returned", reason="不在我的网格")
    assert back["status"] == "returned"


def test_notes_and_callback_join_the_history_and_closing_needs_the_callback(
    client: TestClient, people: dict
) -> None:
    case = _case(client, people)
    note = client.post(
        f"/v1/cases/{case['id']}/notes", json={"text": "已电话联系企业"}, headers=people["member"]
    )
    assert note.status_code == 201
    for target in ("accepted", "in_progress", "resolved"):
        result = {"reason": "已协调企业补发工资"} if target == "resolved" else {}
        case = _move(client, people["member"], case, target, **result)
    bad = client.post(
        f"/v1/cases/{case['id']}/callback", json={"reached": True}, headers=people["manager"]
    )
    assert bad.status_code == 422  # reached, so a satisfaction is needed
    assert (
        client.post(
            f"/v1/cases/{case['id']}/callback",
            json={"reached": True, "satisfaction": 4, "note": "满意"},
            headers=people["member"],
        ).status_code
        == 403
    )  # the callback is the managers' step
    ok = client.post(
        f"/v1/cases/{case['id']}/callback",
        json={"reached": True, "satisfaction": 4, "note": "满意"},
        headers=people["manager"],
    )
    assert ok.status_code == 201
    closed = _move(client, people["manager"], case, "closed")
    assert closed["status"] == "closed"
    events = client.get(f"/v1/cases/{case['id']}/events", headers=people["manager"]).json()
    actions = [e["action"] for e in events["events"]]
    assert "note" in actions
    assert "callback" in actions
    callback = next(e for e in events["events"] if e["action"] == "callback")
    assert callback["data"] == {"reached": True, "satisfaction": 4}


def test_the_desk_hears_why_in_its_own_words_and_a_stale_change_is_named(
    client: TestClient, people: dict
) -> None:
    """A refusal says its real reason in Chinese (not a generic lead before English words)."""
    case = _case(client, people)
    for target in ("accepted", "in_progress", "resolved"):
        result = {"reason": "已协调企业补发工资"} if target == "resolved" else {}
        case = _move(client, people["member"], case, target, **result)
    url = f"/v1/cases/{case['id']}/transitions"
    body = {"to": "closed", "version": case["version"]}
    zh = {**people["manager"], "Accept-Language": "zh-CN"}
    refused = client.post(url, json=body, headers=zh)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["message"] == "关闭案件前请先完成对诉求人的回访"
    assert "callback" in error["detail"]  # the English stays for the IT staff
    english = client.post(url, json=body, headers=people["manager"]).json()["error"]
    assert "callback" in english["message"]
    assert "detail" not in english
    stale = client.post(url, json={**body, "version": case["version"] - 1}, headers=zh)
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale"
    assert stale.json()["error"]["message"] == "案件刚被他人修改，请刷新后重试"
    illegal = client.post(url, json={"to": "assigned", "version": case["version"]}, headers=zh)
    assert illegal.json()["error"]["message"] == "「已办结」的案件不能改为「已派单」"


def test_a_form_field_the_request_got_wrong_is_named_in_chinese(
    client: TestClient, people: dict
) -> None:
    case = _case(client, people)
    zh = {**people["member"], "Accept-Language": "zh-CN"}
    url = f"/v1/cases/{case['id']}/extensions"
    long = client.post(url, json={"days": 3, "reason": "长" * 1001}, headers=zh).json()["error"]
    assert long["message"] == "理由不能超过 1000 个字"
    assert "reason" in long["detail"]
    days = client.post(url, json={"days": 99, "reason": "出差"}, headers=zh).json()["error"]
    assert days["message"] == "延期天数不能大于 30"
    missing = client.post(url, json={"days": 3}, headers=zh).json()["error"]
    assert missing["message"] == "理由必须填写"
    english = client.post(url, json={"days": 3}, headers=people["member"]).json()["error"]
    assert english["message"].startswith("body.reason")  # a program's words, unchanged


def test_every_refusal_the_desk_can_meet_has_chinese_words() -> None:
    """Each domain error of case work and station fixes says its reason in Chinese (``zh=``)."""
    import ast

    from geo.settings import PROJECT_ROOT

    geo = PROJECT_ROOT / "geo"
    missing = []
    for path in [*sorted((geo / "cases").glob("*.py")), geo / "stations.py", geo / "hours.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", "")
                if name.endswith("Error") and not any(k.arg == "zh" for k in node.exc.keywords):
                    missing.append(f"{path.name}:{node.lineno} {name}")
    assert not missing, missing
    assert len(list((PROJECT_ROOT / "geo" / "cases").glob("*.py"))) > 5


def test_attachments_are_checked_by_content_and_kept_private(
    client: TestClient, people: dict
) -> None:
    cid = people["ids"]["case"]
    url = f"/v1/cases/{cid}/attachments"
    named = {**people["member"], "X-Filename": quote("现场.png"), "Content-Type": "image/png"}
    up = client.post(url, content=PNG, headers=named)
    assert up.status_code == 201, up.text
    body = up.json()
    assert body["media_type"] == "image/png"
    assert body["size"] == len(PNG)
    fake = client.post(url, content=b"<script>alert(1)</script>", headers=named)
    assert fake.status_code == 422
    big = client.post(url, content=b"%PDF-" + b"0" * 5_000_001, headers=named)
    assert big.status_code == 413
    pdf = client.post(url, content=b"%PDF-1.4 " + b"0" * 2_500_000, headers=named)
    assert pdf.status_code == 201  # over the API's 2 MB body limit: attachments may be larger
    assert pdf.json()["media_type"] == "application/pdf"
    got = client.get(body["url"], headers=people["manager"])
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "attachment" in got.headers["content-disposition"]
    assert client.get(body["url"], headers=people["other"]).status_code == 404
    assert client.get(body["url"]).status_code == 401
    listed = client.get(url, headers=people["manager"]).json()["attachments"]
    assert [a["name"] for a in listed] == ["现场.png", "现场.png"]


def test_attachments_have_a_quota_and_are_removed_by_their_uploader_or_a_manager(
    client: TestClient, people: dict
) -> None:
    from geo.cases import followup

    case = _case(client, people)
    url = f"/v1/cases/{case['id']}/attachments"
    named = {**people["member"], "X-Filename": "photo.png", "Content-Type": "image/png"}
    made = [client.post(url, content=PNG, headers=named) for _ in range(followup.CASE_ATTACHMENTS)]
    assert {r.status_code for r in made} == {201}
    over = client.post(url, content=PNG, headers=named)
    assert over.status_code == 409, over.text
    first = made[0].json()
    # another member in scope may not remove it; its uploader and a manager may
    assert client.delete(first["url"], headers=people["other"]).status_code == 404  # not theirs
    assert client.delete(first["url"], headers=people["member"]).status_code == 204
    assert client.delete(made[1].json()["url"], headers=people["manager"]).status_code == 204
    assert client.delete(first["url"], headers=people["member"]).status_code == 404
    assert client.post(url, content=PNG, headers=named).status_code == 201  # room again
    history = client.get(f"/v1/cases/{case['id']}/events", headers=people["manager"]).json()
    removed = [e for e in history["events"] if e["action"] == "attachment_removed"]
    assert [e["actor"] for e in removed] == ["wb_member", "wb_manager"]


def test_a_daily_upload_quota_per_account(client: TestClient, people: dict, monkeypatch) -> None:
    from geo.cases import followup

    monkeypatch.setattr(followup, "DAILY_UPLOAD_BYTES", 3_000_000)
    case = _case(client, people)
    url = f"/v1/cases/{case['id']}/attachments"
    named = {**people["manager"], "X-Filename": "scan.pdf", "Content-Type": "application/pdf"}
    pdf = b"%PDF-1.4 " + b"0" * 1_400_000
    codes = [client.post(url, content=pdf, headers=named).status_code for _ in range(3)]
    assert codes == [201, 201, 429]


def test_managers_set_leave_capacity_and_skills_in_their_area(
    client: TestClient, people: dict, engine: Engine
) -> None:
    member = people["ids"]["other"]
    r = client.patch(
        f"/v1/members/{member}",
        json={"on_leave": True, "capacity": 12, "skills": ["wage_arrears", "mediation"]},
        headers=people["manager"],
    )
    assert r.status_code == 200, r.text
    roster = client.get("/v1/members", headers=people["manager"]).json()["members"]
    row = next(m for m in roster if m["id"] == member)
    assert (row["on_leave"], row["capacity"], row["skills"]) == (
        True,
        12,
        ["mediation", "wage_arrears"],
    )
    assert (
        client.patch(
            f"/v1/members/{member}", json={"skills": ["astrology"]}, headers=people["manager"]
        ).status_code
        == 422
    )
    assert (
        client.patch(
            f"/v1/members/{member}", json={"on_leave": False}, headers=people["member"]
        ).status_code
        == 403
    )
    with engine.connect() as c:
        far = c.scalar(
            text(
                "SELECT m.id FROM grid_members m JOIN towns t ON t.id = m.town_id "
                "WHERE m.town_id <> (SELECT town_id FROM grid_members WHERE id = :m) LIMIT 1"
            ),
            {"m": member},
        )
    assert (
        client.patch(
            f"/v1/members/{far}", json={"on_leave": True}, headers=people["manager"]
        ).status_code
        == 403
    )
    client.patch(f"/v1/members/{member}", json={"on_leave": False}, headers=people["manager"])


def test_the_excel_export_has_chinese_columns_and_inert_text(
    client: TestClient, people: dict
) -> None:
    r = client.get("/v1/cases/export.xlsx", params={"status": "open"}, headers=people["manager"])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编号", "类别", "状态", "区县"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows
    assert {row[1] for row in rows} <= {"拖欠工资"}
    described = [row[header.index("描述")] for row in rows]
    assert all(d.startswith("'=") for d in described)  # a formula stays text
    unknown = client.get(
        "/v1/cases/export.xlsx", params={"status": "nonsense"}, headers=people["manager"]
    )
    assert unknown.status_code == 422
    assert "open" in unknown.json()["error"]["message"]


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that fails its first request, then records every delivery."""

    fail_next: ClassVar[bool] = True
    got: ClassVar[list[tuple[dict, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_next:
            _Receiver.fail_next = False
            self.send_response(503)
        else:
            _Receiver.got.append((dict(self.headers), body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_are_signed_and_retried_until_delivered(
    client: TestClient, people: dict, engine: Engine, receiver: str
) -> None:
    from datetime import UTC, datetime, timedelta

    case = _case(client, people)
    with engine.begin() as c:  # only the return's notification is due
        c.execute(text("UPDATE notifications SET delivered_at = now() WHERE delivered_at IS NULL"))
    _move(client, people["member"], case, "returned", reason="地址有误")
    secret = "s3cret-for-the-gateway"
    now = datetime.now(UTC)
    assert deliver_due(engine, [receiver], secret, now=now) == (0, 1)  # the receiver was down
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT attempts, last_error, next_attempt_at FROM notifications "
                "WHERE case_id = :i AND kind = 'returned'"
            ),
            {"i": case["id"]},
        ).one()
    assert row.attempts == 1
    assert "503" in row.last_error
    assert row.next_attempt_at > now
    assert deliver_due(engine, [receiver], secret, now=now) == (0, 0)  # not due yet
    assert deliver_due(engine, [receiver], secret, now=now + timedelta(minutes=1)) == (1, 0)
    headers, body = _Receiver.got[-1]
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Yizhan-Signature"] == expected
    assert headers["X-Yizhan-Event"] == "returned"
    payload = json.loads(body)
    assert payload["reference"] == case["reference"]
    assert "地址有误" in payload["message"]


def test_the_reporter_update_reaches_the_gateway_signed_at_intake_and_resolution(
    client: TestClient, people: dict, engine: Engine, receiver: str
) -> None:
    _Receiver.fail_next = False
    with engine.begin() as c:  # only this case's notices are due
        c.execute(text("UPDATE notifications SET delivered_at = now() WHERE delivered_at IS NULL"))
    case = _case(client, people)
    secret = "s3cret-for-the-gateway"

    def updates() -> list[dict]:
        found = []
        for headers, body in _Receiver.got:
            if headers["X-Yizhan-Event"] != "reporter.update":
                continue
            signed = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert headers["X-Yizhan-Signature"] == signed
            payload = json.loads(body)
            if payload["reference"] == case["reference"]:
                found.append(payload)
        return found

    deliver_due(engine, [receiver], secret)
    received = updates()
    assert len(received) == 1
    assert received[0]["reporter_contact"] == "13900000000"  # only in the signed body
    assert "已受理" in received[0]["message"]
    for to in ("accepted", "in_progress"):
        case = _move(client, people["member"], case, to)
    _move(client, people["member"], case, "resolved", reason="企业已补发工资")
    deliver_due(engine, [receiver], secret)
    both = updates()
    assert len(both) == 2
    assert "已办结：企业已补发工资" in both[1]["message"]


@pytest.fixture
def silent_receiver() -> Iterator[str]:
    """A webhook receiver that takes the connection and never answers."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.slow
def test_a_silent_webhook_receiver_never_holds_up_the_workbench(
    client: TestClient, people: dict, engine: Engine, silent_receiver: str
) -> None:
    import time

    case = _case(client, people)
    with engine.begin() as c:  # only the return's notification is due
        c.execute(text("UPDATE notifications SET delivered_at = now() WHERE delivered_at IS NULL"))
    _move(client, people["member"], case, "returned", reason="电话打不通")
    mine = client.get("/v1/notifications", headers=people["manager"]).json()["notifications"]
    ids = [n["id"] for n in mine if n["case_id"] == case["id"]]
    assert ids
    outcome: list[tuple[int, int]] = []
    delivery = threading.Thread(
        target=lambda: outcome.append(deliver_due(engine, [silent_receiver], "s", timeout_s=3.0))
    )
    delivery.start()
    time.sleep(0.5)  # the deliverer is waiting for the silent receiver now
    started = time.monotonic()
    read = client.post("/v1/notifications/read", json={"ids": ids}, headers=people["manager"])
    took = time.monotonic() - started
    delivery.join(30)
    assert read.status_code == 200, read.text
    assert took < 1.5, f"marking a notification read waited {took:.1f} s for the delivery"
    assert outcome == [(0, 1)]  # the silent receiver's delivery failed, to be retried
    with engine.connect() as c:
        error = c.scalar(text("SELECT last_error FROM notifications WHERE id = :i"), {"i": ids[0]})
    assert "Timeout" in error


def test_a_case_assigned_at_intake_tells_its_member_and_the_town_managers(
    client: TestClient, people: dict, engine: Engine
) -> None:
    made = client.post("/v1/cases", json=CASE).json()
    case = client.get(f"/v1/cases/{made['id']}", headers=people["admin"]).json()
    assert case["status"] == "assigned", case
    with engine.connect() as c:
        told = c.execute(
            text("SELECT audience, member_id, town_id, kind FROM notifications WHERE case_id = :i"),
            {"i": case["id"]},
        ).all()
    assert ("member", case["member_id"], None, "assigned") in told
    assert any(t.audience == "managers" and t.kind == "received" for t in told)
    managers = client.get("/v1/notifications", headers=people["manager"]).json()["notifications"]
    assert any(n["case_id"] == case["id"] and n["kind"] == "received" for n in managers)


def test_the_session_cookie_needs_the_csrf_token_to_change_anything(
    client: TestClient, people: dict
) -> None:
    browser = TestClient(client.app)  # a browser of its own: its cookie jar keeps the session
    page = sign_in(browser, "wb_manager", PASSWORD)
    assert page.status_code == 303
    cookie = page.headers["set-cookie"].lower()
    assert "yizhan_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert browser.get("/v1/cases").status_code == 200  # reading needs no token
    cid = people["ids"]["case"]
    forged = browser.post(f"/v1/cases/{cid}/notes", json={"text": "forged"})
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["error"]["message"]
    wrong = browser.post(
        f"/v1/cases/{cid}/notes", json={"text": "forged"}, headers={"X-CSRF-Token": "0" * 40}
    )
    assert wrong.status_code == 403
    token = browser.get("/manager/session").json()["csrf"]
    ok = browser.post(
        f"/v1/cases/{cid}/notes", json={"text": "from the page"}, headers={"X-CSRF-Token": token}
    )
    assert ok.status_code == 201
    bad = sign_in(TestClient(client.app), "wb_manager", "wrong")
    assert bad.status_code == 401
    assert "用户名或密码错误" in bad.text  # the form again, never JSON


def test_the_list_sorts_by_deadline_and_refuses_unknown_orders(
    client: TestClient, people: dict
) -> None:
    due = client.get("/v1/cases", params={"sort": "due"}, headers=people["manager"]).json()
    times = [c["resolution_due"] for c in due["cases"]]
    assert len(times) > 1
    assert times == sorted(times)
    newest = client.get("/v1/cases", headers=people["manager"]).json()
    created = [c["created_at"] for c in newest["cases"]]
    assert created == sorted(created, reverse=True)
    bad = client.get("/v1/cases", params={"sort": "random"}, headers=people["manager"])
    assert bad.status_code == 422


def test_overdue_cases_are_escalated_and_both_member_and_managers_hear(
    client: TestClient, people: dict, engine: Engine
) -> None:
    case = _case(client, people)
    with engine.begin() as c:
        c.execute(
            text("UPDATE cases SET resolution_due = now() - interval '1 day' WHERE id = :i"),
            {"i": case["id"]},
        )
    done = client.post("/v1/cases/escalate-overdue", headers=people["admin"])
    assert case["id"] in done.json()["escalated"]
    for who in ("member", "manager"):
        mine = client.get("/v1/notifications", headers=people[who]).json()["notifications"]
        told = [n for n in mine if n["case_id"] == case["id"] and n["kind"] == "overdue"]
        assert told, who
        assert "已超期" in told[0]["message"]
