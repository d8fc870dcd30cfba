"""Map pages come from the cache until their data change; browsers revalidate with ETags."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, delete, false, text

from api.page_cache import CachedPage, PageCache, cached_page
from geo.db.feed import FOLLOWED_TABLES
from geo.db.models import Base


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


def _renewed(client: TestClient, path: str, etag: str, seconds: float = 5.0) -> Response:
    """The page once it is no longer the one with ``etag`` (the change feed takes a moment)."""
    deadline = time.monotonic() + seconds
    while (r := client.get(path, headers={"If-None-Match": etag})).status_code == 304:
        assert time.monotonic() < deadline, f"{path} was not renewed"
        time.sleep(0.02)
    return r


def _rename_first_station(engine: Engine, name: str) -> tuple[int, str]:
    with engine.begin() as c:
        sid, old = c.execute(text("SELECT id, name FROM stations ORDER BY id LIMIT 1")).one()
        c.execute(text("UPDATE stations SET name = :n WHERE id = :i"), {"n": name, "i": sid})
    return sid, old


def test_a_data_change_by_any_writer_renews_the_page(client: TestClient, engine: Engine) -> None:
    before = client.get("/maps/stations")
    sid, name = _rename_first_station(engine, "新名字驿站")  # plain SQL: no API process told
    try:
        after = _renewed(client, "/maps/stations", before.headers["etag"])
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        assert "\\u65b0\\u540d\\u5b57" in after.text or "新名字" in after.text
    finally:
        with engine.begin() as c:
            c.execute(text("UPDATE stations SET name = :n WHERE id = :i"), {"n": name, "i": sid})


def test_every_table_a_map_shows_announces_its_changes(client: TestClient, engine: Engine) -> None:
    """Any statement on a followed table, even one changing nothing, moves its version."""
    heard = client.app.state.platform.tables
    deadline = time.monotonic() + 5
    while heard.of(["stations"]) is None:
        assert time.monotonic() < deadline, "the change feed is not listening"
        time.sleep(0.02)
    for table in sorted(FOLLOWED_TABLES):
        before = heard.of([table])
        with engine.begin() as c:
            c.execute(delete(Base.metadata.tables[table]).where(false()))
        deadline = time.monotonic() + 5
        while heard.of([table]) == before:
            assert time.monotonic() < deadline, f"a change of {table} was not heard"
            time.sleep(0.02)
    assert heard.of(["users"]) is None  # not followed: pages showing it ask the database


def test_the_migrations_announce_exactly_the_followed_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        announced = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT event_object_table FROM information_schema.triggers"
                    " WHERE action_statement LIKE '%yizhan_table_changed%'"
                )
            )
        )
    assert announced == FOLLOWED_TABLES


def test_without_the_feed_pages_ask_the_database(client: TestClient, engine: Engine) -> None:
    """While the feed is not listening (its connection lost), a change renews pages at once."""
    heard = client.app.state.platform.tables
    before = client.get("/maps/stations?zoom=12")
    heard.listening(False)
    try:
        sid, name = _rename_first_station(engine, "另一个名字")
        after = client.get(
            "/maps/stations?zoom=12", headers={"If-None-Match": before.headers["etag"]}
        )
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
    finally:
        heard.listening(True)
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


def test_a_page_asked_by_many_at_once_is_rendered_once() -> None:
    """Sixteen visitors arriving together at a page not yet rendered share one rendering."""
    cache, renders, start = PageCache(), [], threading.Barrier(16)

    def render() -> CachedPage:
        renders.append(1)
        time.sleep(0.2)  # a folium page takes this long under load
        return cached_page("<html><body>map</body></html>", "'self'")

    pages: list[CachedPage] = []

    def visit() -> None:
        start.wait()
        pages.append(cache.get_or_render(("/maps/stations", "v1"), render))

    visitors = [threading.Thread(target=visit) for _ in range(16)]
    for t in visitors:
        t.start()
    for t in visitors:
        t.join()
    assert len(renders) == 1
    assert len(pages) == 16
    assert len({p.etag for p in pages}) == 1
    assert (cache.misses, cache.hits) == (1, 0)


def test_a_failed_rendering_leaves_nothing_behind() -> None:
    """A rendering that fails is not kept: the next visitor renders again."""
    cache = PageCache()

    def broken() -> CachedPage:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        cache.get_or_render("k", broken)
    page = cache.get_or_render("k", lambda: cached_page("<p>ok</p>", "'self'"))
    assert page.body == b"<p>ok</p>"
    assert cache.misses == 2


def test_a_pages_variants_share_one_analysis(client: TestClient, engine: Engine) -> None:
    """The sites page in Chinese, in English and zoomed: one site selection, until data change."""
    analyses = client.app.state.web.analyses
    misses, hits = analyses.misses, analyses.hits
    for query in ("k=2&minutes=11", "k=2&minutes=11&lang=en", "k=2&minutes=11&zoom=12"):
        r = client.get(f"/maps/sites?{query}")
        assert r.status_code == 200, r.text
    assert analyses.misses - misses == 1
    assert analyses.hits - hits == 2
    before = client.app.state.platform.tables.of(["stations"])
    with engine.begin() as c:
        c.execute(text("DELETE FROM stations WHERE false"))  # a statement: a new version
    deadline = time.monotonic() + 5
    while client.app.state.platform.tables.of(["stations"]) == before:
        assert time.monotonic() < deadline, "the change was not heard"
        time.sleep(0.02)
    assert client.get("/maps/sites?k=2&minutes=11&lang=en").status_code == 200
    assert analyses.misses - misses == 2
