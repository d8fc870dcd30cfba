"""The basemap as OGC API – Tiles: documents, tiles GDAL opens, generalisation, caching, errors."""

from __future__ import annotations

import time
from pathlib import Path

import morecantile
import pyogrio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import Settings
from geo.tiles import MVT, TILE_TABLES, TMS_ID, TileAddress

WMQ = morecantile.tms.get(TMS_ID)
#: central Jiangmen (蓬江区), where the test network's streets are densest
CENTRE = (113.08, 22.58)


@pytest.fixture(scope="module")
def drawn(client: TestClient) -> TestClient:
    """The app once its basemap is in the database (drawn in the background after the graph)."""
    platform = client.app.state.platform
    deadline = time.monotonic() + 300
    while platform.basemap_status in ("absent", "loading") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert platform.basemap_status == "ok"
    return client


def _tile_url(
    z: int, lon: float = CENTRE[0], lat: float = CENTRE[1]
) -> tuple[str, morecantile.Tile]:
    t = WMQ.tile(lon, lat, z)
    return f"/ogc/tiles/{TMS_ID}/{t.z}/{t.y}/{t.x}", t


def _layers(body: bytes, t: morecantile.Tile, tmp_path: Path) -> dict[str, object]:
    """The tile read by GDAL's MVT driver (a ``z/x/y.pbf`` path tells it where the tile lies)."""
    path = tmp_path / str(t.z) / str(t.x) / f"{t.y}.pbf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    names = [name for name, _ in pyogrio.list_layers(path)]
    return {name: pyogrio.read_dataframe(path, layer=name) for name in names}


def test_tiling_scheme_and_tileset_documents(drawn: TestClient) -> None:
    listed = drawn.get("/ogc/tileMatrixSets").json()["tileMatrixSets"]
    assert [t["id"] for t in listed] == [TMS_ID]
    definition = drawn.get(f"/ogc/tileMatrixSets/{TMS_ID}").json()
    assert morecantile.TileMatrixSet.model_validate(definition).id == TMS_ID  # a real TMS 2.0
    tilesets = drawn.get("/ogc/tiles").json()["tilesets"]
    links = tilesets[0]["links"]
    item = next(link for link in links if link["rel"] == "item")
    assert item["templated"] is True
    assert item["type"] == MVT
    assert item["href"].endswith(f"/ogc/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}")
    assert "生成" in tilesets[0]["description"]  # the test network is generated, and says so
    meta = drawn.get(f"/ogc/tiles/{TMS_ID}").json()
    assert {layer["id"] for layer in meta["layers"]} >= {"roads", "water", "places"}
    west, south = meta["boundingBox"]["lowerLeft"]
    assert 111 < west < 113  # the service region, not the world
    assert 21 < south < 23
    tilejson = drawn.get(f"/ogc/tiles/{TMS_ID}", params={"f": "tilejson"}).json()
    assert tilejson["tilejson"] == "3.0.0"
    assert tilejson["tiles"][0].endswith("/{z}/{y}/{x}")
    conformance = drawn.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in conformance
    rels = {link["rel"] for link in drawn.get("/ogc").json()["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector" in rels


def test_a_street_tile_opens_in_gdal_with_named_roads_where_it_lies(
    drawn: TestClient, tmp_path: Path
) -> None:
    url, t = _tile_url(15)
    answer = drawn.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == MVT
    layers = _layers(answer.content, t, tmp_path)
    roads = layers["roads"]
    assert len(roads) > 5
    assert {"class", "name", "oneway", "bridge", "tunnel"} <= set(roads.columns)
    assert roads["name"].notna().any()  # street names for labels
    assert not set(roads["name"].dropna()) & {"nan", "None", ""}  # and no made-up ones
    bounds = WMQ.xy_bounds(t)
    margin = (bounds.right - bounds.left) * 0.05
    minx, miny, maxx, maxy = roads.total_bounds  # GDAL placed it: EPSG:3857 metres
    assert bounds.left - margin <= minx < maxx <= bounds.right + margin
    assert bounds.bottom - margin <= miny < maxy <= bounds.top + margin


def test_far_out_tiles_hold_only_main_roads(drawn: TestClient, tmp_path: Path) -> None:
    url, t = _tile_url(10)
    far = _layers(drawn.get(url).content, t, tmp_path)
    main_roads = {"motorway", "trunk", "primary", "secondary"}
    assert set(far["roads"]["class"].str.removesuffix("_link")) <= main_roads
    assert "boundaries" in far
    near_url, near_t = _tile_url(15)
    near = _layers(drawn.get(near_url).content, near_t, tmp_path / "near")
    assert "residential" in set(near["roads"]["class"])


def test_tiles_are_compressed_kept_and_revalidated(drawn: TestClient) -> None:
    url, _ = _tile_url(14)
    first = drawn.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert "max-age" in first.headers["cache-control"]
    etag = first.headers["etag"]
    again = drawn.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    plain = drawn.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == first.content


def test_a_change_of_the_areas_renews_the_tiles(
    drawn: TestClient, engine: Engine, tmp_path: Path
) -> None:
    url, t = _tile_url(12)
    before = drawn.get(url)
    names = set(_layers(before.content, t, tmp_path / "a")["places"]["name"])
    with engine.begin() as conn:
        town = conn.execute(
            text("SELECT code, short_name FROM towns WHERE short_name = ANY(:n) LIMIT 1"),
            {"n": list(names)},
        ).one()
        conn.execute(
            text("UPDATE towns SET short_name = '<b>改名</b>' WHERE code = :c"), {"c": town.code}
        )
    try:
        deadline = time.monotonic() + 10
        after = drawn.get(url)
        while after.headers["etag"] == before.headers["etag"] and time.monotonic() < deadline:
            time.sleep(0.1)
            after = drawn.get(url)
        renamed = set(_layers(after.content, t, tmp_path / "b")["places"]["name"])
        assert "<b>改名</b>" in renamed
        assert town.short_name not in renamed
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE towns SET short_name = :s WHERE code = :c"),
                {"s": town.short_name, "c": town.code},
            )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/ogc/tiles/{TMS_ID}/17/0/0", 404),  # beyond the deepest tile matrix
        (f"/ogc/tiles/{TMS_ID}/3/8/0", 404),  # row outside matrix 3
        (f"/ogc/tiles/{TMS_ID}/3/0/99", 404),
        ("/ogc/tiles/WorldCRS84Quad/3/0/0", 404),
        ("/ogc/tileMatrixSets/NoSuchGrid", 404),
        (f"/ogc/tiles/{TMS_ID}/x/0/0", 400),
        (f"/ogc/tiles/{TMS_ID}/3/-1/0", 400),
        (f"/ogc/tiles/{TMS_ID}?f=png", 400),
        (f"/ogc/tiles/{TMS_ID}/3/0/0?evil=1", 400),
    ],
)
def test_bad_tile_addresses_are_clear_errors(drawn: TestClient, path: str, status: int) -> None:
    answer = drawn.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"]["message"]


def test_kept_tiles_answer_the_same_on_the_fast_path(drawn: TestClient) -> None:
    url, t = _tile_url(13, 113.05, 22.6)
    web = drawn.app.state.web
    made = drawn.get(url, headers={"Accept-Encoding": "gzip"})  # by the operation
    key = (TileAddress(t.z, t.y, t.x), drawn.app.state.platform.tables_version(TILE_TABLES))
    assert web.tiles.peek(key) is not None  # now kept: the next answers come from memory
    for encoding in ("gzip", "identity"):
        kept = drawn.get(url, headers={"Accept-Encoding": encoding})
        assert kept.status_code == 200
        assert kept.content == made.content
        for header in ("etag", "cache-control", "vary", "content-type"):
            assert kept.headers[header] == made.headers[header]
        assert kept.headers.get("content-encoding") == ("gzip" if encoding == "gzip" else None)
    again = drawn.get(url, headers={"If-None-Match": made.headers["etag"]})
    assert again.status_code == 304


def test_a_deployment_may_choose_an_online_base_layer(settings: Settings) -> None:
    """``YIZHAN_MAP_TILES=gaode``: pages start on AutoNavi; a link may still ask for the own."""
    online = settings.model_copy(update={"map_tiles": "gaode"})
    with TestClient(create_app(online)) as client:
        page = client.get("/maps/stations").text
        assert "autonavi.com" in page
        assert "yizhanBasemap(" not in page
        own = client.get("/maps/stations", params={"tiles": "own"}).text
        assert "yizhanBasemap(" in own
        assert "autonavi.com" not in own
