"""Hostile text in every field a map shows, rendered in real Chromium: nothing may run.

Each payload calls ``__pwn(n)`` if it ever executes; the page hook records the calls. Every
tooltip and popup is opened (where a name reaches the DOM), then the test asserts that no
payload ran, that the console stayed clean (a blocked inline handler would be logged there —
escaping must hold even without the Content-Security-Policy) and that the markers are drawn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.api.conftest import wait_until

pytestmark = pytest.mark.browser

PAYLOADS = [
    'x"><img src=x onerror=__pwn(1)>',
    "</script><script>__pwn(2)</script>",
    "${__pwn(3)}",
    "`+__pwn(4)+`",
    'O`Neil\'s "stop" \\',
    "javascript:__pwn(6)//",
    "a\u2028b\u2029c');__pwn(7);//",
    "<svg/onload=__pwn(8)>",
    "{{ __pwn(9) }}",
]
ORIGIN = (113.0801, 22.5801)  # lon, lat in 蓬江区
HOOK = "window.__pwned = []; window.__pwn = function (n) { window.__pwned.push(n); };"
OPEN_ALL = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map);
  const map = window[key];
  let opened = 0;
  map.eachLayer(l => {
    try {
      if (l.getTooltip && l.getTooltip()) {
        if (l.eachLayer) {  // a GeoJSON group: its tooltip opens for the child hovered
          l.eachLayer(s => {
            const at = s.getBounds ? s.getBounds().getCenter() : s.getLatLng();
            s.fire('mouseover', {latlng: at}, true);
            opened++;
          });
        } else { l.openTooltip(); opened++; }
      }
      if (l.getPopup && l.getPopup()) { l.openPopup(); opened++; }
    } catch (e) { /* a layer inside a cluster has no position of its own */ }
  });
  return opened;
}"""


@pytest.fixture(scope="module")
def hostile(live_url: str, engine: Engine) -> Iterator[dict[str, Any]]:
    """Stations named with each payload (through the API), members and workplaces too."""
    token = httpx.post(
        f"{live_url}/v1/auth/token", data={"username": "admin", "password": "admin"}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ids = []
    for i, payload in enumerate(PAYLOADS):
        body = {
            "name": payload,
            "kind": "outdoor_worker_station",
            "address": payload,
            "amenities": ["water"],
            "lon": ORIGIN[0] + 0.0012 * (i % 3 - 1),
            "lat": ORIGIN[1] + 0.0012 * (i // 3 - 1),
        }
        r = httpx.post(f"{live_url}/v1/stations", json=body, headers=auth)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    with engine.begin() as c:
        members = c.execute(
            text("SELECT id, name FROM grid_members ORDER BY id LIMIT :n"), {"n": len(PAYLOADS)}
        ).all()
        places = c.execute(
            text(
                "SELECT id, name FROM workplaces "
                "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:x, :y), 4326) LIMIT :n"
            ),
            {"x": ORIGIN[0], "y": ORIGIN[1], "n": len(PAYLOADS)},
        ).all()
        for (mid, _), (wid, _), payload in zip(members, places, PAYLOADS, strict=True):
            c.execute(
                text("UPDATE grid_members SET name = :p WHERE id = :i"), {"p": payload, "i": mid}
            )
            c.execute(
                text("UPDATE workplaces SET name = :p WHERE id = :i"), {"p": payload, "i": wid}
            )
    yield {"auth": auth}
    for sid in ids:  # closed: the live server's engine stops offering them
        httpx.post(f"{live_url}/v1/stations/{sid}/close", headers=auth)
    with engine.begin() as c:
        for mid, name in members:
            c.execute(
                text("UPDATE grid_members SET name = :p WHERE id = :i"), {"p": name, "i": mid}
            )
        for wid, name in places:
            c.execute(text("UPDATE workplaces SET name = :p WHERE id = :i"), {"p": name, "i": wid})
        c.execute(text("DELETE FROM stations WHERE id = ANY(:ids)"), {"ids": ids})


def _visit(browser: Any, url: str, *, size: tuple[int, int], headers: dict | None = None) -> dict:
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]},
        is_mobile=size[0] < 500,
        extra_http_headers=headers or {},
    )
    page = context.new_page()
    page.add_init_script(HOOK)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else 0)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto(url, wait_until="networkidle")
    opened = page.evaluate(OPEN_ALL)
    page.wait_for_timeout(300)
    result = {
        "pwned": page.evaluate("window.__pwned"),
        "problems": problems,
        "opened": opened,
        "stations": page.locator("path.yizhan-station").count(),
        "routes": page.locator("path.yizhan-route").count(),
        "text": page.inner_text("body"),
    }
    context.close()
    return result


@pytest.mark.parametrize("size", [(390, 844), (1280, 800)], ids=["phone", "desktop"])
def test_stations_map_with_hostile_names(browser, live_url, hostile, size) -> None:
    lat, lon = ORIGIN[1], ORIGIN[0]
    url = f"{live_url}/maps/stations?center={lat},{lon}&zoom=17&layers=workplaces,towns"
    got = _visit(browser, url, size=size)
    assert got["pwned"] == []
    assert got["problems"] == []
    assert got["stations"] >= len(PAYLOADS) // 2  # the markers still draw
    assert got["opened"] >= len(PAYLOADS)


def test_route_map_with_hostile_names(browser, live_url, hostile) -> None:
    url = f"{live_url}/maps/route?lat={ORIGIN[1]}&lon={ORIGIN[0]}&k=8"
    got = _visit(browser, url, size=(390, 844))
    assert got["pwned"] == []
    assert got["problems"] == []
    assert got["routes"] == 8, got
    assert got["stations"] == 8
    assert "O`Neil" in got["text"]  # the open tooltip or popup shows the name as text


def test_grids_map_with_hostile_member_names(browser, live_url, hostile) -> None:
    url = f"{live_url}/maps/grids?zoom=12"
    got = _visit(browser, url, size=(1280, 800), headers=hostile["auth"])
    assert got["pwned"] == []
    assert got["problems"] == []
    assert got["opened"] > 100  # every grid's tooltip was opened


def test_map_pages_forbid_inline_handlers_and_foreign_scripts(live_url, hostile) -> None:
    import base64
    import hashlib
    import re

    r = httpx.get(f"{live_url}/maps/stations")
    csp = r.headers["content-security-policy"]
    script_src = next(p for p in csp.split("; ") if p.startswith("script-src")).split()
    assert "'unsafe-inline'" not in script_src
    assert "*" not in script_src
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert inline
    for body in inline:  # exactly the scripts the renderer wrote may run
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    assert len(script_src) == 2 + len(set(inline))


def test_riders_page_with_hostile_names(browser, live_url, hostile) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        geolocation={"latitude": ORIGIN[1], "longitude": ORIGIN[0]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.add_init_script(HOOK)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    # server-rendered first (position in the link), then drawn by the script (a chip)
    page.goto(f"{live_url}/rider?lat={ORIGIN[1]}&lon={ORIGIN[0]}")
    page.wait_for_selector("#list[data-ready='true']")
    page.click("[data-chip='amenity'][data-code='water']")
    wait_until(
        page,
        "document.querySelector(\"[data-code='water']\").getAttribute('aria-pressed') === 'true'"
        " && document.querySelector('#list').dataset.ready === 'true'",
    )
    for summary in page.query_selector_all("summary"):
        summary.click()
    names = page.eval_on_selector_all("#list .name", "ns => ns.map(n => n.textContent)")
    assert set(names) <= set(PAYLOADS)
    assert len(names) == 5
    assert page.evaluate("window.__pwned") == []
    assert problems == []
    context.close()
