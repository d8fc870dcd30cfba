"""Map builders keep user text inert: no HTML, no script, no template code."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from maps.base import base_map, inert_html_text, js_string
from maps.layers import add_grids, add_route, add_stations


def _station(name: str = "驿站", hours: str = "24/7", amenities: tuple[str, ...] = ()) -> dict:
    return {
        "id": 1,
        "name": name,
        "kind": "service_centre",
        "lon": 113.08,
        "lat": 22.58,
        "amenities": list(amenities),
        "opening_hours": hours,
    }


NAMES = ["{{ 7 * 7 }}", "{% if true %}yes{% endif %}", "{# c #}", "</script><b>", "`${x}`"]


@pytest.mark.parametrize("name", NAMES)
def test_template_syntax_in_names_is_never_run(name: str) -> None:
    m, coord = base_map()
    add_stations(m, [_station(name, amenities=("water",))], coord=coord, lang="zh")
    add_route(m, [[113.08, 22.58], [113.09, 22.59]], coord=coord, lang="zh", label=name)
    grids = gpd.GeoDataFrame(
        {"code": ["g1"], "town": ["t"], "member": [name]},
        geometry=[shapely.box(113.0, 22.5, 113.1, 22.6)],
        crs=4326,
    )
    add_grids(m, grids, coord=coord, lang="zh", show_members=True)
    page = m.get_root().render()
    # the text arrives as written: as an inert string literal (tooltips) and as escaped
    # markup (popups, grid tooltips) — had it been run as a template, it would have changed
    assert page.count(js_string(name)) == 2
    assert js_string(inert_html_text(name))[1:-1] in page
    assert name not in page


def test_js_string_is_a_json_string_without_markup_or_braces() -> None:
    out = js_string("a{{b}}</script>\u2028'&")
    assert out.startswith('"')
    assert out.endswith('"')
    for bad in ("{", "}", "<", ">", "'", "&", "\u2028"):
        assert bad not in out
    import json

    assert json.loads(out) == "a{{b}}</script>\u2028'&"


@pytest.mark.parametrize(
    ("lang", "words"), [("zh", ["饮水", "充电", "周一至周五 08:30–12:00"]), ("en", ["Water"])]
)
def test_station_popups_read_in_the_chosen_language(lang: str, words: list[str]) -> None:
    m, coord = base_map(lang=lang)
    station = _station(hours="Mo-Fr 08:30-12:00,14:30-17:30", amenities=("water", "charging"))
    add_stations(m, [station], coord=coord, lang=lang)
    page = m.get_root().render()
    for word in words:
        assert js_string(word)[1:-1] in page
    assert "Mo-Fr" not in page


def test_a_closed_station_says_when_it_opens() -> None:
    from datetime import datetime

    m, coord = base_map(lang="zh")
    station = _station(hours="Mo-Fr 08:30-12:00,14:30-17:30")
    lunch = datetime(2026, 11, 26, 13, 0)  # a Thursday
    add_stations(m, [station], coord=coord, lang="zh", open_now={1: False}, at=lunch)
    assert js_string("今天 14:30 开放")[1:-1] in m.get_root().render()
