"""OGC API Features: the document structure, paging, bbox — and OWSLib as a real client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


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


def test_items_paging_and_counts(client: TestClient) -> None:
    first = client.get("/ogc/collections/grids/items", params={"limit": 100})
    assert first.headers["content-type"].startswith("application/geo+json")
    body = first.json()
    assert body["numberMatched"] == 605
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
        ("/ogc/collections/stations/items?bbox=1,2", 422),
        ("/ogc/collections/stations/items?limit=0", 422),
    ],
)
def test_errors(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status
    assert r.json()["error"]["message"]


def test_owslib_reads_the_layers(live_url: str) -> None:
    from owslib.ogcapi.features import Features

    api = Features(live_url + "/ogc")
    assert {"districts", "towns", "stations", "grids"} <= {
        c["id"] for c in api.collections()["collections"]
    }
    districts = api.collection_items("districts", limit=10)
    assert districts["numberMatched"] == 7
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
    assert r.status_code == 422
