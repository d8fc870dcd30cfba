"""OGC API Features: the document structure, paging, bbox — and OWSLib as a real client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import SampleFacts


def test_landing_conformance_collections(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conf = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    cols = client.get("/ogc/collections").json()["collections"]
    assert {"districts", "towns", "stations", "grids"} <= {c["id"] for c in cols}
    stations = next(c for c in cols if c["id"] == "stations")
    minx, miny, maxx, maxy = stations["extent"]["spatial"]["bbox"][0]
    assert 112 < minx < maxx < 113.3
    assert 21.5 < miny < maxy < 22.9


def test_items_paging_and_counts(client: TestClient, sample: SampleFacts) -> None:
    first = client.get("/ogc/collections/grids/items", params={"limit": 100})
    assert first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["numberMatched"] == sample.grids
    assert body["numberReturned"] == 100
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    second = client.get(nxt.replace("http://testserver", "")).json()
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in body["features"]})
    last = client.get("/ogc/collections/grids/items", params={"limit": 100, "offset": 600}).json()
    assert last["numberReturned"] == 5
    assert not [x for x in last["links"] if x["rel"] == "next"]


def test_bbox_filter_and_public_fields_only(client: TestClient) -> None:
    body = client.get(
        "/ogc/collections/stations/items", params={"bbox": "113.0,22.5,113.2,22.7", "limit": 1000}
    ).json()
    assert 0 < body["numberMatched"] < 63
    for f in body["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 113.0 <= lon <= 113.2
        assert 22.5 <= lat <= 22.7
        assert f["properties"]["synthetic"] is True
    members = client.get("/ogc/collections/grids/items", params={"limit": 5}).json()
    assert all("member" not in str(f["properties"]) for f in members["features"])


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ogc/collections/nope", 404),
        ("/ogc/collections/stations/items/999999", 404),
        # OGC API Features Part 1 (7.6): unknown or invalid parameters are 400
        ("/ogc/collections/stations/items?bbox=1,2", 400),
        ("/ogc/collections/stations/items?limit=0", 400),
    ],
)
def test_errors(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.json()["error"]["message"]


def test_owslib_reads_the_layers(live_url: str, sample: SampleFacts) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live_url + "/ogc")
    assert {"districts", "towns", "stations", "grids"} <= {
        c["id"] for c in api.collections()["collections"]
    }
    districts = api.collection_items("districts", limit=10)
    assert districts["numberMatched"] == sample.districts
    assert {f["properties"]["name"] for f in districts["features"]} >= {"蓬江区", "台山市"}
    one = api.collection_item("stations", "1")
    assert one["id"] == 1


def test_cors_allow_list(settings, engine) -> None:
    from api.app import create_app

    s = settings.model_copy(update={"cors_origins": ("https://union.example",)})
    with TestClient(create_app(s)) as c:
        ok = c.get("/ogc/collections", headers={"Origin": "https://union.example"})
        other = c.get("/ogc/collections", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://union.example"
    assert "access-control-allow-origin" not in other.headers


def test_ogc_common_parameters_and_unknown_ones(client: TestClient) -> None:
    ok = client.get("/ogc/collections/towns/items", params={"f": "json", "datetime": "2024-01-01"})
    assert ok.status_code == 200
    r = client.get("/ogc/collections/towns/items", params={"colour": "red"})
    assert r.status_code == 400


def test_polygons_are_wound_as_rfc7946_asks(client: TestClient) -> None:
    import shapely

    items = client.get("/ogc/collections/districts/items").json()
    assert items["features"]
    for f in items["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        for poly in getattr(geom, "geoms", [geom]):
            assert poly.exterior.is_ccw
            assert all(not ring.is_ccw for ring in poly.interiors)
    r = client.get("/v1/isochrones?lat=22.5801&lon=113.0801&minutes=5")
    assert r.headers["content-type"].startswith("application/geo+json")
    gaps = client.get("/v1/coverage/gaps?minutes=5&format=geojson&limit=5")
    assert gaps.headers["content-type"].startswith("application/geo+json")
    for f in r.json()["features"] + gaps.json()["features"]:
        geom = shapely.geometry.shape(f["geometry"])
        for poly in getattr(geom, "geoms", [geom]):
            assert poly.exterior.is_ccw


def test_geojson_answers_say_so(client: TestClient) -> None:
    for path in ("/v1/stations?limit=2", "/v1/stations/1", "/ogc/collections/towns/items?limit=1"):
        assert client.get(path).headers["content-type"].startswith("application/geo+json"), path


def test_unknown_codes_are_refused_with_the_allowed_ones(client: TestClient) -> None:
    r = client.get("/v1/stations/nearest?lat=22.5801&lon=113.0801&amenity=wifi2")
    assert r.status_code == 422
    assert "wifi2" in r.json()["error"]["message"]
    assert "charging" in r.json()["error"]["message"]
    assert client.get("/v1/stations?kind=castle").status_code == 422
