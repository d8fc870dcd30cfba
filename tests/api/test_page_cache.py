"""Map pages come from the cache until their data change; browsers revalidate with ETags."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text


def test_same_page_same_etag_and_304(client: TestClient) -> None:
    first = client.get("/maps/stations?zoom=10")
    second = client.get("/maps/stations?zoom=10")
    assert first.status_code == second.status_code == 200
    assert first.headers["etag"] == second.headers["etag"]
    assert first.content == second.content
    again = client.get("/maps/stations?zoom=10", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    other = client.get("/maps/stations?zoom=11")
    assert other.headers["etag"] != first.headers["etag"]


def test_pages_are_sent_compressed(client: TestClient) -> None:
    r = client.get(
        "/maps/stations", headers={"Accept-Encoding": "gzip"}, extensions={"decode": False}
    )
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    raw = client.get("/maps/stations", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert r.content == raw.content  # httpx decodes; the page is the same


def test_a_data_change_by_any_writer_renews_the_page(client: TestClient, engine: Engine) -> None:
    before = client.get("/maps/stations")
    with engine.begin() as c:
        sid, name = c.execute(text("SELECT id, name FROM stations ORDER BY id LIMIT 1")).one()
        c.execute(
            text("UPDATE stations SET name = :n WHERE id = :i"), {"n": "新名字驿站", "i": sid}
        )
    try:
        after = client.get("/maps/stations", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert "\\u65b0\\u540d\\u5b57" in after.text or "新名字" in after.text
    finally:
        with engine.begin() as c:
            c.execute(text("UPDATE stations SET name = :n WHERE id = :i"), {"n": name, "i": sid})


def test_json_answers_are_compressed(client: TestClient) -> None:
    with client.stream("GET", "/v1/stations", headers={"Accept-Encoding": "gzip"}) as r:
        assert r.headers["content-encoding"] == "gzip"
        sent = sum(len(chunk) for chunk in r.iter_raw())
    plain = client.get("/v1/stations", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert sent < len(plain.content) / 3


def test_the_stations_page_with_its_assets_transfers_under_150_kb(client: TestClient) -> None:
    import re

    def sent(path: str) -> int:
        with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status_code == 200, path
            return sum(len(chunk) for chunk in r.iter_raw())

    page = client.get("/maps/stations?lang=zh").text
    assets = re.findall(r'(?:src|href)="(/maps/assets/[^"]+)"', page)
    assert assets
    total = sent("/maps/stations?lang=zh") + sum(sent(a) for a in assets)
    print(f"\n/maps/stations with its assets: {total / 1024:.1f} KB transferred (gzip)")
    assert total <= 150 * 1024
