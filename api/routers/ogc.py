"""OGC API — Features, Part 1 (Core, GeoJSON): the public layers for QGIS, OWSLib and friends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from geojson_pydantic import Feature
from geojson_pydantic.geometries import Geometry
from sqlalchemy import Connection

from api.deps import ReadConn, public_base
from api.geojson import GeoJSONResponse
from api.params import parse_bbox
from api.schemas.common import errors
from api.schemas.ogc import (
    CRS84,
    CollectionDoc,
    Collections,
    Conformance,
    Extent,
    Item,
    Items,
    Landing,
    Link,
    Spatial,
)
from geo import ogc
from geo.tiles import CONFORMANCE as TILES_CONFORMANCE

router = APIRouter(prefix="/ogc", tags=["ogc"])
# ``f`` (output format) is the OGC common parameter; JSON/GeoJSON is the only encoding here.
Format = Annotated[Literal["json", "geojson"] | None, Query(alias="f", description="json")]
GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
    *TILES_CONFORMANCE,
]
#: OGC answers bad parameters with 400 (Part 1, 7.6), not 422
OGC_ERRORS = errors(400, 404, common=(429, 503))


def _openapi_major_minor(request: Request) -> str:
    return ".".join(str(request.app.openapi_version).split(".")[:2])


def _base(request: Request) -> str:
    return public_base(request)


def _collection_doc(request: Request, conn: Connection, c: ogc.Collection) -> CollectionDoc:
    base = _base(request)
    bbox = ogc.extent(conn, c)
    return CollectionDoc(
        id=c.id,
        title=c.title,
        description=c.description,
        itemType="feature",
        crs=[CRS84],
        extent=Extent(spatial=Spatial(bbox=[bbox] if bbox else [], crs=CRS84)),
        links=[
            Link(href=f"{base}/ogc/collections/{c.id}", rel="self", type="application/json"),
            Link(
                href=f"{base}/ogc/collections/{c.id}/items",
                rel="items",
                type=GEOJSON,
                title=c.title,
            ),
        ],
    )


@router.get("", summary="Landing page", response_model=Landing, responses=OGC_ERRORS)
def landing(request: Request, f: Format = None) -> Landing:
    """Links to the API definition, conformance and collections."""
    base = _base(request)
    links: list[dict[str, str]] = [
        {
            "href": f"{base}/ogc",
            "rel": "self",
            "type": "application/json",
            "title": "this document",
        },
        {
            "href": f"{base}/openapi.json",
            "rel": "service-desc",
            # the definition FastAPI writes is OpenAPI 3.1 (so no claim of the oas30 class)
            "type": f"application/vnd.oai.openapi+json;version={_openapi_major_minor(request)}",
            "title": "API definition",
        },
        {
            "href": f"{base}/docs",
            "rel": "service-doc",
            "type": "text/html",
            "title": "API docs",
        },
        {"href": f"{base}/ogc/conformance", "rel": "conformance", "type": "application/json"},
        {"href": f"{base}/ogc/collections", "rel": "data", "type": "application/json"},
        {
            "href": f"{base}/ogc/tiles",
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
            "type": "application/json",
            "title": "the basemap's vector tiles",
        },
        {
            "href": f"{base}/ogc/tileMatrixSets",
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
            "type": "application/json",
        },
    ]
    return Landing(
        title="yizhan 驿站 — OGC API Features",
        description="Public layers of the union's service network (sample data: synthetic "
        "except district boundaries and the official town list).",
        links=[Link(**link) for link in links],
    )


@router.get(
    "/conformance",
    summary="Conformance classes",
    response_model=Conformance,
    responses=OGC_ERRORS,
)
def conformance(f: Format = None) -> Conformance:
    """The conformance classes implemented."""
    return Conformance(conformsTo=CONFORMANCE)


@router.get(
    "/collections",
    summary="The collections",
    response_model=Collections,
    responses=OGC_ERRORS,
)
def collections(request: Request, conn: ReadConn, f: Format = None) -> Collections:
    """Every public collection with its extent."""
    base = _base(request)
    return Collections(
        links=[Link(href=f"{base}/ogc/collections", rel="self", type="application/json")],
        collections=[_collection_doc(request, conn, c) for c in ogc.COLLECTIONS.values()],
    )


@router.get(
    "/collections/{collection_id}",
    summary="One collection",
    response_model=CollectionDoc,
    responses=OGC_ERRORS,
)
def collection(
    request: Request,
    conn: ReadConn,
    collection_id: Annotated[str, Path(max_length=40)],
    f: Format = None,
) -> CollectionDoc:
    """A collection's description."""
    return _collection_doc(request, conn, ogc.collection(collection_id))


@router.get(
    "/collections/{collection_id}/items",
    summary="Features of a collection",
    response_class=GeoJSONResponse,
    response_model=Items,
    responses=OGC_ERRORS,
)
def items(
    request: Request,
    conn: ReadConn,
    collection_id: Annotated[str, Path(max_length=40)],
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (CRS84)")] = None,
    datetime_: Annotated[
        str | None,
        Query(alias="datetime", max_length=100, description="accepted; the layers have no time"),
    ] = None,
    f: Format = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Items:
    """GeoJSON FeatureCollection with paging links (``next``/``prev``) and counts."""
    c = ogc.collection(collection_id)
    feats, total = ogc.items(conn, c, bbox=parse_bbox(bbox), limit=limit, offset=offset)
    url = f"{_base(request)}/ogc/collections/{c.id}/items"
    extra = f"&bbox={bbox}" if bbox else ""
    links: list[dict[str, str]] = [
        {"href": f"{url}?limit={limit}&offset={offset}{extra}", "rel": "self", "type": GEOJSON},
        {
            "href": f"{_base(request)}/ogc/collections/{c.id}",
            "rel": "collection",
            "type": "application/json",
        },
    ]
    if offset + len(feats) < total:
        links.append(
            {
                "href": f"{url}?limit={limit}&offset={offset + limit}{extra}",
                "rel": "next",
                "type": GEOJSON,
            }
        )
    if offset > 0:
        links.append(
            {
                "href": f"{url}?limit={limit}&offset={max(0, offset - limit)}{extra}",
                "rel": "prev",
                "type": GEOJSON,
            }
        )
    return Items(
        type="FeatureCollection",
        features=[Feature[Geometry, dict[str, Any]].model_validate(f) for f in feats],
        numberMatched=total,
        numberReturned=len(feats),
        timeStamp=datetime.now(UTC).isoformat(),
        links=[Link(**link) for link in links],
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    summary="One feature",
    response_class=GeoJSONResponse,
    response_model=Item,
    responses=OGC_ERRORS,
)
def item(
    request: Request,
    conn: ReadConn,
    collection_id: Annotated[str, Path(max_length=40)],
    feature_id: Annotated[int, Path(ge=1, le=2**62)],
    f: Format = None,
) -> Item:
    """A GeoJSON Feature with links."""
    c = ogc.collection(collection_id)
    feat = ogc.item(conn, c, feature_id)
    base = f"{_base(request)}/ogc/collections/{c.id}"
    links = [
        Link(href=f"{base}/items/{feature_id}", rel="self", type=GEOJSON),
        Link(href=base, rel="collection", type="application/json"),
    ]
    return Item.model_validate({**feat, "links": links})
