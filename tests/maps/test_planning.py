"""Planners' maps: shares written on the map and a table, names from the data escaped."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import box

from maps.base import base_map
from maps.planning import add_area_table, add_share_labels

HOSTILE = '<img src=x onerror="alert(1)">镇'


def _areas() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [HOSTILE, "外海街道", "无数据镇"],
            "share": [0.453, 0.91, float("nan")],
            "people": [1000.0, 2000.0, 0.0],
            "covered": [453.0, 1820.0, 0.0],
            "p95_min": [12.4, 8.0, float("nan")],
        },
        geometry=[box(113.0, 22.5, 113.1, 22.6), box(113.1, 22.5, 113.2, 22.6), box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )


def test_each_share_is_written_and_every_name_escaped() -> None:
    m, coord = base_map(tiles="none", lang="zh")
    add_share_labels(m, _areas(), coord=coord, lang="zh")
    add_area_table(m, _areas(), lang="zh")
    page = m.get_root().render()
    assert "<img src=x" not in page
    assert "&lt;img src=x" in page
    assert page.count("yizhan-share") == 2  # a town without a share gets no label
    assert "45%" in page
    assert "91%" in page
    assert "覆盖率" in page
    assert "1,820" in page  # covered people in the table


def test_the_table_lists_the_least_covered_first() -> None:
    m, _ = base_map(tiles="none", lang="en")
    add_area_table(m, _areas(), lang="en")
    page = m.get_root().render()
    assert page.index("外海街道") > page.index("&lt;img")  # 91% after 45%
