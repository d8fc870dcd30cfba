"""The province: labelled city samples over the real outlines, coverage on a Dask cluster.

CI runs three small cities (珠海, 中山, 深圳) through ``yizhan province`` on a real
``LocalCluster`` of two worker processes; the whole province runs in
``benchmarks/bench_province.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from cli.main import main
from geo.province.run import projected_wall_time
from geo.province.sample import (
    PEOPLE_PER_KM2,
    PROVINCE_STATIONS,
    generate_stations,
    generate_towns,
    province_cities,
    read_cities,
)
from geo.settings import PROJECT_ROOT
from tests.api.conftest import wait_until

REGION = PROJECT_ROOT / "data" / "jiangmen"
SMALL = ("440400", "442000", "440300")


def test_the_provinces_stations_are_shared_out_in_full() -> None:
    cities = read_cities(REGION / "real" / "guangdong_cities_wgs84.geojson")
    assert len(cities) == 21
    assert sum(c.stations for c in cities) == PROVINCE_STATIONS
    largest = max(cities, key=lambda c: c.outline.area)
    assert largest.name == "清远市"
    assert largest.stations == max(c.stations for c in cities)
    assert {c.crs for c in cities} == {"EPSG:32649", "EPSG:32650"}  # east of 114°E: zone 50


def test_a_city_sample_is_reproducible_labelled_and_adds_up() -> None:
    (zhuhai,) = province_cities(REGION, ["珠海市"])
    towns = generate_towns(zhuhai, seed=7)
    again = generate_towns(zhuhai, seed=7)
    pd.testing.assert_frame_equal(pd.DataFrame(towns), pd.DataFrame(again))
    assert towns["synthetic"].all()
    assert towns["name"].str.contains("示例").all()
    area = towns.to_crs(zhuhai.crs).area.sum() / 1e6
    assert towns["population"].sum() == pytest.approx(area * PEOPLE_PER_KM2, rel=0.01)
    stations = generate_stations(zhuhai, towns, seed=7)
    assert len(stations) == zhuhai.stations
    assert all("示例" in s.name and s.extra["synthetic"] for s in stations)
    outline = gpd.GeoSeries([zhuhai.outline], crs=4326).to_crs(zhuhai.crs).buffer(1.0).iloc[0]
    points = gpd.GeoSeries(
        gpd.points_from_xy([s.lon for s in stations], [s.lat for s in stations]), crs=4326
    ).to_crs(zhuhai.crs)
    assert points.within(outline).all()
    assert generate_towns(zhuhai, seed=8)["population"].tolist() != towns["population"].tolist()


def test_unknown_cities_are_refused_by_name() -> None:
    from geo.errors import ValidationError

    with pytest.raises(ValidationError, match="北京市"):
        province_cities(REGION, ["北京市"])
    assert main(["province", "--cities", "北京市"]) == 1


def test_projected_wall_time_packs_the_largest_first() -> None:
    assert projected_wall_time([10, 1, 1, 1], 1) == 13
    assert projected_wall_time([10, 1, 1, 1], 2) == 10
    # each next-largest city goes to the first free worker, as Dask hands tasks out: 5+4 | 5+3+3
    assert projected_wall_time([5, 5, 4, 3, 3], 2) == 11


@pytest.fixture(scope="module")
def province_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        code = main(["province", "--cities", ",".join(SMALL), "--workers", "2", "--out", str(out)])
    assert code == 0, said.getvalue()
    (out / "said.txt").write_text(said.getvalue(), encoding="utf-8")
    return out


@pytest.mark.slow
def test_three_cities_run_as_one_dask_graph(province_run: Path) -> None:
    table = pd.read_csv(province_run / "cities.csv", dtype={"adcode": str})
    assert sorted(table["adcode"]) == sorted(SMALL)
    cities = {c.adcode: c for c in province_cities(REGION, SMALL)}
    assert table.set_index("adcode")["stations"].to_dict() == {
        a: c.stations for a, c in cities.items()
    }
    assert ((table["share"] > 0) & (table["share"] < 1)).all()
    assert set(table["data"]) == {"synthetic sample"}  # each row says what its figure is made of
    # and the run says where a city's own figure is
    assert "/v1/coverage" in (province_run / "said.txt").read_text(encoding="utf-8")
    assert (table["covered"] <= table["population"]).all()
    assert (table["seconds"] > 0).all()
    assert (table["worker_rss_mb"] > 0).all()
    gaps = gpd.read_file(province_run / "gaps.geojson")
    assert len(gaps) > 0
    assert gaps["uncovered_demand"].is_monotonic_decreasing
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert set(gaps["adcode"].astype(str)) <= set(SMALL)
    assert gaps.geometry.is_valid.all()


@pytest.mark.slow
@pytest.mark.browser
def test_the_province_map_opens_offline_at_phone_size(province_run: Path, browser: object) -> None:
    html = (province_run / "province.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    assert "/maps/assets/" not in html  # Leaflet inline: the file opens anywhere, offline
    assert "示例数据" in html
    assert "此处数字不同" in html  # the map says why a city's figure is not the service's
    context = browser.new_context(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page = context.new_page()
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if r.url.startswith("http") else None)
    page.goto((province_run / "province.html").as_uri())
    wait_until(page, "document.querySelectorAll('path.leaflet-interactive').length > 3")
    names = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays span'))"
        ".map(e => e.textContent.trim())"
    )
    assert any("各市覆盖率" in n for n in names), names
    assert foreign == []
    context.close()
    payload = json.loads((province_run / "gaps.geojson").read_text())
    assert payload["type"] == "FeatureCollection"
