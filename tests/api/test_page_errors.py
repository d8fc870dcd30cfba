"""A person whose map request goes wrong gets a friendly page, never raw JSON; programs get JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}


def test_a_browser_gets_a_page_in_chinese_with_the_input_escaped(client: TestClient) -> None:
    r = client.get("/maps/stations", params={"center": "<script>alert(1)</script>"}, headers=HTML)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "请求有误" in r.text
    assert 'lang="zh-CN"' in r.text
    assert "<script>alert(1)" not in r.text
    assert "&lt;script&gt;" in r.text
    assert '{"error"' not in r.text
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_english_on_request(client: TestClient) -> None:
    r = client.get("/maps/stations", params={"zoom": 99, "lang": "en"}, headers=HTML)
    assert r.status_code == 422
    assert "Bad request" in r.text
    assert 'lang="en"' in r.text


def test_programs_still_get_the_json_envelope(client: TestClient) -> None:
    r = client.get("/maps/stations", params={"zoom": 99})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "RequestValidation"
