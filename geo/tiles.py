"""The basemap as OGC API – Tiles: its tiling scheme, its tileset, and which tiles exist.

One tileset, the basemap (roads, water, parks, railways, boundaries and names, see
:mod:`geo.db.basemap`), in one tile matrix set, ``WebMercatorQuad`` (the grid every web map
uses, from ``morecantile``). Tiles are addressed ``{tileMatrix}/{tileRow}/{tileCol}``, i.e.
zoom, y, x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import morecantile
from morecantile.models import TileMatrixSet
from sqlalchemy import Connection, Engine

from geo.db.basemap import TILE_LAYERS, basemap_bounds, basemap_tile, loaded_source
from geo.errors import NotFoundError

TMS_ID = "WebMercatorQuad"
#: tile matrices served (a street's detail is there by 16; the client overzooms beyond)
MIN_ZOOM, MAX_ZOOM = 0, 16
MVT = "application/vnd.mapbox-vector-tile"
#: OGC API – Tiles Part 1 conformance classes met
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
LAYER_TITLES = {
    "water": "Water (lakes, rivers, sea)",
    "parks": "Parks, woods and green land",
    "waterways": "Rivers, canals and streams",
    "rails": "Railways",
    "roads": "Roads of the routed network",
    "boundaries": "District and town outlines",
    "places": "District, town and place names",
}


@dataclass(frozen=True)
class TileAddress:
    """One tile of the basemap: zoom, row (y) and column (x)."""

    z: int
    row: int
    col: int


def tile_matrix_set(tms_id: str) -> TileMatrixSet:
    """The tile matrix set ``tms_id`` (only ``WebMercatorQuad`` is served)."""
    if tms_id != TMS_ID:
        msg = f"no tile matrix set {tms_id!r}: this service offers {TMS_ID}"
        raise NotFoundError(msg)
    return morecantile.tms.get(TMS_ID)


def check_tile(tms_id: str, z: int, row: int, col: int) -> TileAddress:
    """The tile's address when it exists in the tileset, else :class:`NotFoundError`."""
    tile_matrix_set(tms_id)
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        msg = f"tileMatrix must be {MIN_ZOOM} to {MAX_ZOOM}"
        raise NotFoundError(msg)
    side = 2**z
    if not (0 <= row < side and 0 <= col < side):
        msg = f"tile {row}/{col} is outside tile matrix {z} (0 to {side - 1})"
        raise NotFoundError(msg)
    return TileAddress(z, row, col)


def read_tile(db: Engine, tile: TileAddress) -> bytes:
    """The tile's Mapbox Vector Tile bytes (empty when nothing lies in it)."""
    with db.connect() as conn:
        return basemap_tile(conn, tile.z, tile.col, tile.row)


#: the tables a tile is drawn from: a change of any renews the tiles
TILE_TABLES = ("basemap_source", "districts", "towns")
SYNTHETIC_ROADS = "道路为生成数据，并非真实道路 · generated roads, not real streets"
OSM_ROADS = "© OpenStreetMap contributors (ODbL)"


def attribution(conn: Connection) -> str:
    """What the map says of its data: generated roads, or OpenStreetMap's credit."""
    source = loaded_source(conn)
    if source is None:
        return "basemap not drawn yet"
    return SYNTHETIC_ROADS if source[1] else OSM_ROADS


def region_bounds(conn: Connection) -> tuple[float, float, float, float]:
    """The served region's extent (WGS-84), the whole world when none is loaded."""
    return basemap_bounds(conn) or (-180.0, -85.0511287798066, 180.0, 85.0511287798066)


def tile_template(base: str) -> str:
    """The tiles' templated URL (OGC's variable names)."""
    return f"{base}/ogc/tiles/{TMS_ID}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"


def tilejson(
    base: str, bounds: tuple[float, float, float, float], attribution: str
) -> dict[str, Any]:
    """The tileset as TileJSON 3.0 (for MapLibre, QGIS and GDAL)."""
    west, south, east, north = bounds
    template = f"{base}/ogc/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}"
    return {
        "tilejson": "3.0.0",
        "name": "yizhan basemap",
        "attribution": attribution,
        "scheme": "xyz",
        "tiles": [template],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 12],
        "vector_layers": [
            {"id": name, "description": LAYER_TITLES[name], "fields": {}} for name in TILE_LAYERS
        ],
    }


def basemap_config(conn: Connection, lang: str) -> dict[str, Any]:
    """What a page's script needs to draw the own basemap (see ``pages/static/basemap.js``)."""
    return {
        "url": f"/ogc/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}",
        "attribution": attribution(conn),
        "lang": lang,
        "maxDataZoom": MAX_ZOOM,
    }
