"""Stations: list, read, and (for staff) create, change, close, and place those waiting."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from api.auth import Staff
from api.deps import AppSettings, PlatformDep, ReadConn, WriteConn, get_platform
from api.geojson import GeoJSONResponse, Location, station_feature
from api.params import CoordQuery, check_codes, parse_bbox
from api.schemas.common import errors
from api.schemas.stations import (
    Placing,
    StationCollection,
    StationFeature,
    UnplacedList,
    UnplacedStation,
)
from geo.photos import Photo, check_photo, read_photo, remove_photo, store_photo
from geo.stations import (
    StationFilter,
    StationInput,
    create_station,
    get_station,
    list_stations,
    place_station,
    unplaced_stations,
    update_station,
)
from geo.users import UserInfo
from geo.vocabulary import PHOTO_TYPES, CoordSystem, StationStatus

router = APIRouter(prefix="/v1/stations", tags=["stations"])
StationId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class StationBase(BaseModel):
    """Fields staff may set on a station."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    kind: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=500)
    amenities: list[str] | None = Field(None, max_length=30)
    opening_hours: str | None = Field(None, max_length=255)
    status: str | None = Field(None, max_length=10)
    phone: str | None = Field(None, max_length=40)
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    coord: CoordSystem = CoordSystem.WGS84


class StationCreate(StationBase):
    """A new station: name, kind and location are required."""

    name: str = Field(..., min_length=1, max_length=200)
    kind: str = Field(..., max_length=40)
    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)


class StationUpdate(StationBase):
    """A change: only the fields sent are changed; ``version`` guards against lost updates."""

    version: int | None = Field(None, ge=1)


def _input(body: StationBase) -> StationInput:
    lon, lat = body.lon, body.lat
    if lon is not None and lat is not None:
        lon, lat = Location(lon, lat, body.coord).wgs84()
    return StationInput(
        name=body.name,
        kind=body.kind,
        lon=lon,
        lat=lat,
        address=body.address,
        amenities=body.amenities,
        opening_hours=body.opening_hours,
        status=body.status,
        phone=body.phone,
    )


def _stored(request: Request, conn: Connection, row: dict[str, Any]) -> StationFeature:
    """Commit the change, tell the platform (routing answers follow at once), answer it."""
    conn.commit()
    get_platform(request).station_changed(row)
    return station_feature(row, CoordSystem.WGS84)


@router.get(
    "",
    summary="Stations as GeoJSON",
    response_class=GeoJSONResponse,
    response_model=StationCollection,
    responses=errors(),
)
def list_(
    conn: ReadConn,
    settings: AppSettings,
    platform: PlatformDep,
    kind: Annotated[list[str], Query()] = [],  # noqa: B006
    amenity: Annotated[list[str], Query()] = [],  # noqa: B006
    status: Annotated[list[str], Query()] = [],  # noqa: B006
    town: Annotated[str | None, Query(max_length=12, description="12-digit town code")] = None,
    bbox: Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS-84)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    coord: CoordQuery = CoordSystem.WGS84,
) -> StationCollection:
    """A FeatureCollection of stations matching the filters."""
    flt = StationFilter(
        kinds=check_codes(kind, settings.station_kinds, "kind"),
        amenities=check_codes(amenity, settings.amenities, "amenity"),
        statuses=check_codes(status, StationStatus.codes(), "status"),
        town_code=town,
        bbox=parse_bbox(bbox),
        limit=limit,
        offset=offset,
    )
    rows, total = list_stations(conn, flt)
    return StationCollection(
        type="FeatureCollection",
        features=[station_feature(r, coord) for r in rows],
        numberMatched=total,
        numberReturned=len(rows),
        data_notice=platform.data_notice,
    )


@router.get(
    "/unplaced",
    summary="Stations waiting for a position (staff)",
    response_model=UnplacedList,
    responses=errors(401, 403),
)
def unplaced(conn: ReadConn, _: Staff) -> UnplacedList:
    """Imported with an address but no coordinates: place each on the map to make it a station."""
    rows = unplaced_stations(conn)
    return UnplacedList(stations=[UnplacedStation(**r) for r in rows], total=len(rows))


@router.post(
    "/unplaced/{unplaced_id}/place",
    status_code=201,
    summary="Place a waiting station on the map (staff)",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(401, 403, 404, 409, 413),
)
def place(
    request: Request,
    conn: WriteConn,
    unplaced_id: StationId,
    body: Placing,
    who: Staff,
    settings: AppSettings,
) -> StationFeature:
    """It becomes a station there (routing answers count it at once); managers: in their area."""
    lon, lat = Location(body.lon, body.lat, body.coord).wgs84()
    row = place_station(
        conn,
        unplaced_id,
        lon,
        lat,
        kinds=settings.station_kinds,
        amenities=settings.amenities,
        area=who.area,
    )
    return _stored(request, conn, row)


@router.get(
    "/{station_id}",
    summary="One station",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(404),
)
def read(
    conn: ReadConn, station_id: StationId, coord: CoordQuery = CoordSystem.WGS84
) -> StationFeature:
    """A station as a GeoJSON Feature."""
    return station_feature(get_station(conn, station_id), coord)


@router.post(
    "",
    status_code=201,
    summary="Add a station (staff)",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(401, 403, 409, 413),
)
def create(
    request: Request, conn: WriteConn, body: StationCreate, who: Staff, settings: AppSettings
) -> StationFeature:
    """Create a station; it counts in routing answers at once. Managers: in their area."""
    row = create_station(
        conn,
        _input(body),
        kinds=settings.station_kinds,
        amenities=settings.amenities,
        area=who.area,
    )
    return _stored(request, conn, row)


@router.patch(
    "/{station_id}",
    summary="Change a station (staff)",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(401, 403, 404, 409, 413),
)
def patch(
    request: Request,
    conn: WriteConn,
    station_id: StationId,
    body: StationUpdate,
    who: Staff,
    settings: AppSettings,
    if_match: Annotated[str | None, Header(description="the version you read")] = None,
) -> StationFeature:
    """Change the fields sent; a stale ``version`` (or ``If-Match``) gets 409."""
    version = body.version
    if version is None and if_match:
        version = int(if_match.strip('W/"')) if if_match.strip('W/"').isdigit() else -1
    row = update_station(
        conn,
        station_id,
        _input(body),
        expected_version=version,
        kinds=settings.station_kinds,
        amenities=settings.amenities,
        area=who.area,
    )
    return _stored(request, conn, row)


@router.post(
    "/{station_id}/close",
    summary="Close a station (staff)",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(401, 403, 404, 409),
)
def close(
    request: Request, conn: WriteConn, station_id: StationId, who: Staff, settings: AppSettings
) -> StationFeature:
    """Mark a station closed; it is no longer offered to riders."""
    row = update_station(
        conn,
        station_id,
        StationInput(status="closed"),
        expected_version=None,
        kinds=settings.station_kinds,
        amenities=settings.amenities,
        area=who.area,
    )
    return _stored(request, conn, row)


@router.put(
    "/{station_id}/photo",
    summary="Set a station's photo (staff)",
    response_class=GeoJSONResponse,
    response_model=StationFeature,
    responses=errors(401, 403, 404, 413),
)
async def put_photo(
    request: Request,
    conn: WriteConn,
    station_id: StationId,
    who: Staff,
    settings: AppSettings,
    content_type: Annotated[str, Header(description="image/jpeg, image/png or image/webp")],
) -> StationFeature:
    """The request body is the image itself; it is checked by its content and size."""
    photo = check_photo(await request.body(), content_type, max_bytes=settings.photo_max_bytes)
    return await run_in_threadpool(_store_photo, request, conn, station_id, photo, who)


def _store_photo(
    request: Request, conn: Connection, station_id: int, photo: Photo, who: UserInfo
) -> StationFeature:
    get_station(conn, station_id)
    store_photo(conn, station_id, photo, area=who.area)
    return _stored(request, conn, get_station(conn, station_id))


@router.delete(
    "/{station_id}/photo",
    status_code=204,
    summary="Remove a station's photo (staff)",
    responses=errors(401, 403, 404),
)
def delete_photo(request: Request, conn: WriteConn, station_id: StationId, who: Staff) -> Response:
    """The station shows no photo afterwards."""
    remove_photo(conn, station_id, area=who.area)
    _stored(request, conn, get_station(conn, station_id))
    return Response(status_code=204)


@router.get(
    "/{station_id}/photo",
    summary="A station's photo",
    response_class=Response,
    responses={
        **errors(404),
        200: {
            "description": "The image",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
        },
    },
)
def photo(conn: ReadConn, station_id: StationId) -> Response:
    """The image, cached by browsers for a day (its hash is its ETag)."""
    found = read_photo(conn, station_id)
    headers = {"ETag": f'"{found.sha256}"', "Cache-Control": "public, max-age=86400"}
    return Response(found.data, media_type=found.content_type, headers=headers)
