"""OGC API – Tiles documents of the basemap, built as the models the routes declare.

The tiling scheme list, the tileset list and the tileset's metadata, with their links; what
they describe (the tiling scheme, zooms, layers, the region's extent) comes from
:mod:`geo.tiles`.
"""

from __future__ import annotations

import morecantile

from api.schemas.ogc import CRS84
from api.schemas.tiles import (
    TileLink,
    TileMatrixSetRef,
    TileMatrixSets,
    Tileset,
    TilesetLayer,
    TilesetRef,
    Tilesets,
)
from geo.tiles import (
    LAYER_TITLES,
    MAX_ZOOM,
    MIN_ZOOM,
    MVT,
    TILE_LAYERS,
    TILING_SCHEME,
    TMS_ID,
    tile_template,
)

TITLE = "yizhan basemap"
WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
JSON = "application/json"


def tile_matrix_sets_doc(base: str) -> TileMatrixSets:
    """The list of tiling schemes (one)."""
    tms = morecantile.tms.get(TMS_ID)
    link = TileLink(href=f"{base}/ogc/tileMatrixSets/{TMS_ID}", rel="self", type=JSON, title=TMS_ID)
    ref = TileMatrixSetRef(id=TMS_ID, title=tms.title or TMS_ID, uri=str(tms.uri), links=[link])
    return TileMatrixSets(tileMatrixSets=[ref])


def tileset_links(base: str) -> list[TileLink]:
    """Links of the basemap tileset: itself, its tiling scheme, its tiles and its TileJSON."""
    return [
        TileLink(href=f"{base}/ogc/tiles/{TMS_ID}", rel="self", type=JSON),
        TileLink(
            href=f"{base}/ogc/tileMatrixSets/{TMS_ID}",
            rel=TILING_SCHEME,
            type=JSON,
            title="WebMercatorQuad",
        ),
        TileLink(
            href=tile_template(base), rel="item", type=MVT, templated=True, title="basemap tiles"
        ),
        TileLink(
            href=f"{base}/ogc/tiles/{TMS_ID}?f=tilejson",
            rel="alternate",
            type=JSON,
            title="TileJSON",
        ),
    ]


def tilesets_doc(base: str, attribution: str) -> Tilesets:
    """The dataset's tilesets (one: the basemap)."""
    basemap = TilesetRef(
        title=TITLE,
        description=attribution,
        dataType="vector",
        crs=WEB_MERCATOR,
        tileMatrixSetURI=str(morecantile.tms.get(TMS_ID).uri),
        links=tileset_links(base),
    )
    return Tilesets(
        tilesets=[basemap], links=[TileLink(href=f"{base}/ogc/tiles", rel="self", type=JSON)]
    )


def tileset_doc(base: str, bounds: tuple[float, float, float, float], attribution: str) -> Tileset:
    """The tileset's metadata (OGC API – Tiles ``tileset``)."""
    west, south, east, north = bounds
    return Tileset(
        title=TITLE,
        description=attribution,
        dataType="vector",
        crs=WEB_MERCATOR,
        tileMatrixSetURI=str(morecantile.tms.get(TMS_ID).uri),
        boundingBox={"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84},
        centerPoint={"coordinates": [(west + east) / 2, (south + north) / 2], "tileMatrix": "12"},
        tileMatrixSetLimits=[
            {
                "tileMatrix": str(z),
                "minTileRow": 0,
                "maxTileRow": 2**z - 1,
                "minTileCol": 0,
                "maxTileCol": 2**z - 1,
            }
            for z in range(MIN_ZOOM, MAX_ZOOM + 1)
        ],
        layers=[
            TilesetLayer(id=name, title=LAYER_TITLES[name], dataType="vector")
            for name in TILE_LAYERS
        ],
        links=tileset_links(base),
    )
