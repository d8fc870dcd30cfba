"""Map builders, one by one: what each draws, in which coordinate system, in which language."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely

from geo.coords import from_wgs84
from geo.vocabulary import CoordSystem
from maps.base import base_map, render_page
from maps.layers import (
    add_boundaries,
    add_case_density,
    add_gaps,
    add_grids,
    add_layer_control,
    add_reach,
    add_route,
    add_sites,
    add_stations,
)

LON, LAT = 113.08, 22.58
SQUARE = shapely.box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)


def _html(m) -> str:
    return render_page(m, lang="zh", title="test")


def _has(html: str, text: str) -> bool:
    """Whether ``text`` is on the page, as is or as the inert JSON string the maps write."""
    return text in html or json.dumps(text)[1:-1] in html


def _station(i: int, kind: str = "service_centre", **extra) -> dict:
    row = {"id": i, "name": f"驿站{i}", "kind": kind, "lon": LON + i / 1000, "lat": LAT}
    return row | {"amenities": ["water"], "opening_hours": "Mo-Fr 09:00-17:00"} | extra


def test_stations_one_marker_each_with_their_words_and_state() -> None:
    m, coord = base_map(lang="zh")
    stations = [_station(1), _station(2, "outdoor_worker_station", synthetic=True)]
    add_stations(m, stations, coord=coord, lang="zh", open_now={1: True, 2: False}, cluster=False)
    html = _html(m)
    assert html.count("yizhan-station") == 2
    assert _has(html, "职工服务中心")  # the kind in words, not the code
    assert _has(html, "饮水")
    assert _has(html, "驿站2")
    assert "synthetic" in html  # generated stations say so


def test_stations_in_english() -> None:
    m, coord = base_map(lang="en")
    add_stations(m, [_station(1)], coord=coord, lang="en", cluster=False)
    html = render_page(m, lang="en", title="test")
    assert _has(html, "Worker-service centre")
    assert _has(html, "Water")


def test_gaode_tiles_shift_every_overlay_to_gcj02() -> None:
    m, coord = base_map(tiles="gaode")
    assert coord == CoordSystem.GCJ02
    add_route(m, [(LON, LAT), (LON + 0.01, LAT)], coord=coord, lang="zh")
    glon, glat = (round(float(v), 6) for v in from_wgs84(LON, LAT, CoordSystem.GCJ02))
    html = _html(m)
    assert f"[{glat}, {glon}]" in html
    assert f"[{LAT}, {LON}]" not in html


def test_route_draws_one_line_with_a_start() -> None:
    m, coord = base_map()
    add_route(m, [(LON, LAT), (LON + 0.01, LAT + 0.01)], coord=coord, lang="zh", label="3 分钟")
    html = _html(m)
    assert html.count("yizhan-route") == 1
    assert _has(html, "3 分钟")


def test_boundaries_and_towns_are_named_layers() -> None:
    m, coord = base_map()
    districts = gpd.GeoDataFrame({"name": ["蓬江区"]}, geometry=[SQUARE], crs=4326)
    towns = gpd.GeoDataFrame({"name": ["白沙街道"]}, geometry=[SQUARE.buffer(-0.002)], crs=4326)
    add_boundaries(m, districts, towns, coord=coord, lang="zh")
    add_layer_control(m)
    html = _html(m)
    assert _has(html, "蓬江区")
    assert _has(html, "白沙街道")
    assert "L.control.layers" in html


def test_reach_draws_the_largest_first_with_a_legend() -> None:
    m, coord = base_map()
    add_reach(m, [(5, SQUARE.buffer(-0.005)), (15, SQUARE)], coord=coord, lang="zh")
    html = _html(m)
    assert html.index('"minutes": 15') < html.index('"minutes": 5')


def test_gaps_are_ranked_and_classed() -> None:
    m, coord = base_map()
    gaps = gpd.GeoDataFrame(
        {"rank": [1, 2], "uncovered_demand": [150_000.0, 500.0], "town": ["甲", "乙"]},
        geometry=[SQUARE, SQUARE.buffer(-0.005)],
        crs=4326,
    )
    add_gaps(m, gaps, coord=coord, lang="zh")
    html = _html(m)
    assert "150,000" in html
    assert "≥ 100,000" in html  # the legend's top class


def test_sites_are_numbered() -> None:
    m, coord = base_map()
    sites = [{"rank": 1, "lon": LON, "lat": LAT, "added_demand": 1200.0}]
    add_sites(m, sites, coord=coord, lang="zh", summary="k = 1")
    html = _html(m)
    assert "yizhan-site" in html
    assert "\\u003e1\\u003c/div" in html  # the number in the marker, written inert
    assert _has(html, "+1,200")


@pytest.mark.parametrize("show", [True, False])
def test_grid_member_names_only_when_allowed(show: bool) -> None:
    m, coord = base_map()
    grids = gpd.GeoDataFrame(
        {"code": ["G-1"], "town": ["白沙街道"], "member": ["张三"]}, geometry=[SQUARE], crs=4326
    )
    add_grids(m, grids, coord=coord, lang="zh", show_members=show)
    assert _has(_html(m), "张三") is show


def test_case_density_hides_small_counts() -> None:
    m, coord = base_map()
    grids = gpd.GeoDataFrame(
        {"code": ["G-1", "G-2"], "cases": [12, None]},
        geometry=[SQUARE, SQUARE.buffer(-0.005)],
        crs=4326,
    )
    add_case_density(m, grids, coord=coord, lang="zh")
    html = _html(m)
    assert '"label": "12"' in html
    assert html.count('"label": "12"') == 1
    assert '"label": null' not in html  # the hidden count is labelled, never shown
