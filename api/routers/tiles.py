"""OGC API – Tiles: the basemap's vector tiles, its tileset and its tiling scheme, under ``/ogc``.

Tiles are cut by PostGIS on first request and kept in memory by the version of the tables
they are drawn from (the change feed moves it), compressed once, with an ``ETag``: a browser
that has a tile gets ``304``, and a change of the network or the areas renews every tile.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from morecantile.models import TileMatrixSet

from api.deps import PlatformDep, ReadConn, Web, public_base
from api.schemas.common import errors
from api.schemas.tiles import TileMatrixSets, Tileset, Tilesets
from api.tile_docs import tile_matrix_sets_doc, tileset_doc, tilesets_doc
from geo import tiles
from geo.platform import Platform
from pages.assets import accepts_gzip, gzip_bytes

router = APIRouter(prefix="/ogc", tags=["tiles"])
TILE_ERRORS = errors(400, 404, common=(429, 503))
TileFormat = Annotated[
    Literal["json", "tilejson"] | None,
    Query(alias="f", description="json (OGC tileset) or tilejson (TileJSON 3.0)"),
]
TmsId = Annotated[str, Path(description="tile matrix set: WebMercatorQuad", max_length=40)]
#: browsers keep a tile this long before asking again (with its ETag: 304 when unchanged)
TILE_MAX_AGE_S = 300


@dataclass(frozen=True)
class CachedTile:
    """A tile ready to serve: plain and gzip bytes, and its ETag."""

    body: bytes
    gzipped: bytes
    etag: str

    @property
    def size(self) -> int:
        """Bytes held."""
        return len(self.body) + len(self.gzipped) + 64


def _cached_tile(body: bytes) -> CachedTile:
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    return CachedTile(body, gzip_bytes(body), etag)


@router.get(
    "/tileMatrixSets",
    summary="Tile matrix sets",
    response_model=TileMatrixSets,
    responses=TILE_ERRORS,
)
def tile_matrix_sets(request: Request) -> TileMatrixSets:
    """The tiling schemes of this service (one: WebMercatorQuad)."""
    return tile_matrix_sets_doc(public_base(request))


@router.get(
    "/tileMatrixSets/{tileMatrixSetId}",
    summary="A tile matrix set's definition",
    response_model=TileMatrixSet,
    response_model_exclude_none=True,
    responses=TILE_ERRORS,
)
def tile_matrix_set(tms_id: Annotated[TmsId, Path(alias="tileMatrixSetId")]) -> TileMatrixSet:
    """The definition of a tiling scheme (OGC Two Dimensional Tile Matrix Set 2.0)."""
    return tiles.tile_matrix_set(tms_id)


@router.get("/tiles", summary="Tilesets", response_model=Tilesets, responses=TILE_ERRORS)
def tilesets(request: Request, conn: ReadConn) -> Tilesets:
    """The dataset's tilesets (one: the basemap in WebMercatorQuad)."""
    return tilesets_doc(public_base(request), tiles.attribution(conn))


@router.get(
    "/tiles/{tileMatrixSetId}",
    summary="The basemap tileset (or its TileJSON)",
    response_model=Tileset,
    responses=TILE_ERRORS,
)
def tileset(
    request: Request,
    conn: ReadConn,
    tms_id: Annotated[TmsId, Path(alias="tileMatrixSetId")],
    f: TileFormat = None,
) -> Tileset | JSONResponse:
    """The tileset's metadata: layers, extent, links; ``f=tilejson`` for TileJSON 3.0."""
    tiles.tile_matrix_set(tms_id)
    base, bounds = public_base(request), tiles.region_bounds(conn)
    if f == "tilejson":
        return JSONResponse(tiles.tilejson(base, bounds, tiles.attribution(conn)))
    return tileset_doc(base, bounds, tiles.attribution(conn))


@router.get(
    "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="A basemap tile (Mapbox Vector Tile)",
    response_class=Response,
    responses={
        200: {"content": {tiles.MVT: {}}, "description": "the tile (empty when blank)"},
        304: {"description": "the browser's copy is current"},
        **TILE_ERRORS,
    },
)
def tile(
    request: Request,
    platform: PlatformDep,
    web: Web,
    tms_id: Annotated[TmsId, Path(alias="tileMatrixSetId")],
    z: Annotated[int, Path(alias="tileMatrix", ge=0, le=30)],
    row: Annotated[int, Path(alias="tileRow", ge=0)],
    col: Annotated[int, Path(alias="tileCol", ge=0)],
) -> Response:
    """One tile: roads, water, parks, railways, outlines and names at this zoom."""
    address = tiles.check_tile(tms_id, z, row, col)
    kept = web.tiles.get_or_make(
        tile_key(platform, address), lambda: _cached_tile(tiles.read_tile(platform.db, address))
    )
    status, headers, body = tile_answer(
        kept, request.headers.get("if-none-match", ""), request.headers.get("accept-encoding", "")
    )
    return Response(body, status_code=status, headers=headers)


def tile_key(platform: Platform, address: tiles.TileAddress) -> Hashable:
    """Where a tile is kept: its address and the version of the tables it is drawn from."""
    return (address, platform.tables_version(tiles.TILE_TABLES))


def tile_answer(
    kept: CachedTile, if_none_match: str, accept_encoding: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body for a kept tile: 304 when the browser has it, gzip if accepted."""
    headers = {
        "ETag": kept.etag,
        "Cache-Control": f"public, max-age={TILE_MAX_AGE_S}",
        "Vary": "Accept-Encoding",
    }
    if kept.etag in if_none_match:
        return 304, headers, b""
    headers["Content-Type"] = tiles.MVT
    if accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        return 200, headers, kept.gzipped
    return 200, headers, kept.body
