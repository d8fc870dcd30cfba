"""Planners' endpoints: coverage, gaps, sites, scenarios, uploads and exports."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tests.conftest import SampleFacts

AT = "2026-11-25T12:00:00+08:00"


def test_coverage_overall_and_by_district(client: TestClient, sample: SampleFacts) -> None:
    r = client.get("/v1/coverage", params={"minutes": 15, "by": "district", "at": AT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["overall"]["demand"] == pytest.approx(sample.population)
    assert 0 < body["overall"]["share"] < 1
    areas = {a["name"]: a for a in body["areas"]}
    assert len(areas) == sample.districts
    # the test network only has roads in 蓬江 and 江海: elsewhere nobody reaches a station
    assert areas["江海区"]["share"] > 0.5
    assert areas["台山市"]["covered"] == 0
    assert areas["台山市"]["unreachable"] == pytest.approx(areas["台山市"]["demand"])


def test_longer_limits_cover_more_and_night_covers_less(client: TestClient) -> None:
    def share(**p) -> float:
        return client.get("/v1/coverage", params={"by": "district", **p}).json()["overall"]["share"]

    assert share(minutes=5, at=AT) < share(minutes=15, at=AT) < share(minutes=30, at=AT)
    assert share(minutes=15, at="2026-11-25T03:00:00+08:00") < share(minutes=15, at=AT)


def test_coverage_by_town_as_csv(client: TestClient, sample: SampleFacts) -> None:
    r = client.get("/v1/coverage", params={"by": "town", "format": "csv", "at": AT})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.StringIO(r.content.decode("utf-8-sig")))
    assert len(table) == sample.towns
    assert {"town_code", "name", "share", "p95_time_s"} <= set(table.columns)


def test_workplace_demand(client: TestClient) -> None:
    body = client.get("/v1/coverage", params={"demand": "workplaces", "at": AT}).json()
    assert body["overall"]["demand"] == pytest.approx(630_000)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_gaps_in_three_formats(client: TestClient, fmt: str, tmp_path) -> None:
    r = client.get(
        "/v1/coverage/gaps", params={"minutes": 10, "at": AT, "format": fmt, "limit": 20}
    )
    assert r.status_code == 200, r.text
    if fmt == "geojson":
        body = r.json()
        ranks = [f["properties"]["rank"] for f in body["features"]]
        assert ranks == sorted(ranks)
        assert ranks[0] == 1
        demand = [f["properties"]["uncovered_demand"] for f in body["features"]]
        assert demand == sorted(demand, reverse=True)
        assert "synthetic" in body["data_notice"]
    elif fmt == "csv":
        assert "uncovered_demand" in r.content.decode("utf-8-sig").splitlines()[0]
    else:
        path = tmp_path / "gaps.gpkg"
        path.write_bytes(r.content)
        gdf = gpd.read_file(path)
        assert 0 < len(gdf) <= 20
        assert gdf.crs.to_epsg() == 4326


def test_sites_need_a_planner_token(client: TestClient) -> None:
    assert client.post("/v1/coverage/sites", json={"k": 2}).status_code == 401


def test_sites_improve_coverage(client: TestClient, staff_headers) -> None:
    r = client.post(
        "/v1/coverage/sites",
        json={"k": 3, "minutes": 10, "at": AT, "max_candidates": 150},
        headers=staff_headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["features"]) == 3
    s = body["summary"]
    assert s["method"] == "milp (HiGHS)"
    assert s["optimality_gap"] == pytest.approx(0, abs=1e-6)
    assert s["covered_after"] == pytest.approx(s["covered_before"] + s["value"], rel=1e-6)
    assert s["share_after"] > s["share_before"]


def test_sites_from_supplied_candidates_and_p_median(client: TestClient, staff_headers) -> None:
    cands = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [113.05 + i * 0.01, 22.62]},
                "properties": {"name": f"post office {i}"},
            }
            for i in range(6)
        ],
    }
    r = client.post(
        "/v1/coverage/sites",
        headers=staff_headers,
        json={"k": 2, "objective": "p_median", "candidates": cands, "at": AT},
    )
    assert r.status_code == 200, r.text
    s = r.json()["summary"]
    assert s["candidates"] == 6
    assert s["mean_time_after_s"] <= s["mean_time_before_s"]


@pytest.mark.parametrize(
    "body",
    [
        {"k": 0},
        {"k": 2, "minutes": -1},
        {"k": 2, "profile": "plane"},
        {"k": 2, "colour": "red"},
        {"k": 2, "candidates": {"type": "Point", "coordinates": [1, 2]}},
        {
            "k": 2,
            "candidates": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [999, 22]},
                        "properties": {},
                    }
                ],
            },
        },
    ],
)
def test_bad_site_requests(client: TestClient, staff_headers, body) -> None:
    r = client.post("/v1/coverage/sites", json=body, headers=staff_headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"]


def test_scenario_close_and_add(client: TestClient, staff_headers, sample: SampleFacts) -> None:
    near = client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08, "k": 2}).json()
    ids = [x["station"]["id"] for x in near["results"]]
    r = client.post(
        "/v1/coverage/scenarios",
        headers=staff_headers,
        json={"minutes": 10, "at": AT, "close": ids, "by": "district"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["overall"]["covered_change"] < 0
    r = client.post(
        "/v1/coverage/scenarios",
        headers=staff_headers,
        json={"minutes": 10, "at": AT, "add": [{"lon": 113.03, "lat": 22.65}]},
    )
    assert r.json()["overall"]["covered_change"] >= 0
    # nothing stored changed
    assert client.get("/v1/stations").json()["numberMatched"] == sample.stations
    bad = client.post("/v1/coverage/scenarios", headers=staff_headers, json={"close": [999999]})
    assert bad.status_code == 404


def test_upload_own_demand_points(client: TestClient) -> None:
    csv = b"id,lon,lat,riders\na,113.08,22.58,10\nb,x,22.5,3\nc,113.09,22.57,5\n"
    r = client.post(
        "/v1/coverage/demand",
        params={"weight_column": "riders", "at": AT},
        content=csv,
        headers={"Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows_accepted"] == 2
    assert body["row_errors"][0]["row"] == 2
    assert body["coverage"]["demand"] == 15
    assert (
        client.post(
            "/v1/coverage/demand", content=b"x", headers={"Content-Type": "image/png"}
        ).status_code
        == 422
    )


def test_gaps_name_one_town_each_and_stay_small(client: TestClient) -> None:
    import shapely

    body = client.get(
        "/v1/coverage/gaps", params={"minutes": 15, "at": AT, "format": "geojson", "limit": 500}
    ).json()
    # the test network covers central Jiangmen only: demand elsewhere no road reaches, so it
    # is no gap (shown apart); the central towns' gaps are many, none city-wide
    assert len(body["features"]) > 20
    covered = client.get("/v1/coverage", params={"minutes": 15, "at": AT}).json()
    assert covered["overall"]["no_road"] > 0
    for f in body["features"]:
        props = f["properties"]
        assert len(props["towns"]) == 1
        assert props["town"] == props["towns"][0]
        minx, miny, maxx, maxy = shapely.geometry.shape(f["geometry"]).bounds
        assert maxx - minx < 0.25  # about 10 km squares (plus the hexagons' edge)
        assert maxy - miny < 0.25


def test_coverage_map_by_town_with_title_and_language(client: TestClient) -> None:
    page = client.get("/maps/coverage", params={"minutes": 15, "lang": "zh"}).text
    assert page.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    assert "<title>覆盖情况 · 驿站 yizhan</title>" in page
    assert "各镇街覆盖率" in page
    assert page.count('name="viewport"') == 1
    sites = client.get("/maps/sites", params={"k": 2, "minutes": 10, "lang": "en"}).text
    assert '<html lang="en">' in sites
    assert "Covered " in sites
    assert "→" in sites


def test_coverage_and_sites_pages_carry_a_form_for_their_parameters(client: TestClient) -> None:
    import re

    page = client.get("/maps/coverage", params={"minutes": 10, "lang": "zh"}).text
    found = re.search(r'<form class="yizhan-form" method="get".*?</form>', page, re.S)
    assert found
    form = found.group(0)
    assert 'name="minutes"' in form
    assert 'value="10"' in form
    assert 'name="at"' in form
    assert '<option value="walk"' in form
    assert '<input type="hidden" name="lang" value="zh">' in form
    # submitting it is a plain GET with the page's own parameters
    assert client.get(
        "/maps/coverage?minutes=12&profile=walk&at=&lang=zh&tiles=none"
    ).status_code in (
        200,
        422,
    )
    sites = client.get("/maps/sites", params={"k": 2, "minutes": 10, "lang": "en"}).text
    assert 'name="k"' in sites
    assert 'value="2"' in sites
