"""Stations in the database: listing, reading, creating, changing and closing them.

Every write is validated first (kind, amenities, opening hours, a valid point inside the
service region) so that a bad request gets a precise message; the database enforces the
geometry rules again. Updates use optimistic versioning: a stale ``version`` is a conflict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from geo.access import Area, require_area
from geo.db import imports
from geo.db import stations as db
from geo.db.areas import area_at, station_area
from geo.errors import ConflictError, NotFoundError, ValidationError
from geo.hours import parse_opening_hours
from geo.routing.engine import StationRecord
from geo.validation import translate_db_error, validate_lon_lat
from geo.vocabulary import StationStatus


@dataclass(frozen=True)
class StationFilter:
    """Filters of :func:`list_stations` (all optional)."""

    kinds: Sequence[str] = ()
    amenities: Sequence[str] = ()
    town_code: str | None = None
    statuses: Sequence[str] = ()
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 1000
    offset: int = 0


@dataclass(frozen=True)
class StationInput:
    """Fields of a new station, or of a change (``None`` leaves a field as it is)."""

    name: str | None = None
    kind: str | None = None
    lon: float | None = None
    lat: float | None = None
    address: str | None = None
    amenities: Sequence[str] | None = None
    opening_hours: str | None = None
    status: str | None = None
    phone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def list_stations(conn: Connection, filters: StationFilter) -> tuple[list[dict[str, Any]], int]:
    """Stations matching ``filters`` (ordered by id) and how many match in all."""
    return db.select_stations(
        conn,
        kinds=filters.kinds,
        amenities=filters.amenities,
        town_code=filters.town_code,
        statuses=filters.statuses,
        bbox=filters.bbox,
        limit=filters.limit,
        offset=filters.offset,
    )


def get_station(conn: Connection, station_id: int) -> dict[str, Any]:
    """One station by id."""
    row = db.station_row(conn, station_id)
    if row is None:
        msg = f"station {station_id} not found"
        raise NotFoundError(msg, zh=f"找不到驿站 {station_id}")
    return row


def _validate(data: StationInput, *, kinds: Sequence[str], amenities: Sequence[str]) -> None:
    if data.kind is not None and data.kind not in kinds:
        msg = f"unknown station kind {data.kind!r}; known kinds: {', '.join(kinds)}"
        raise ValidationError(msg, zh="未知的驿站类型")
    if data.amenities is not None:
        unknown = sorted(set(data.amenities) - set(amenities))
        if unknown:
            msg = f"unknown amenities {unknown}; known: {', '.join(amenities)}"
            raise ValidationError(msg, zh=f"未知的设施：{'、'.join(map(str, unknown))}")
    if data.opening_hours is not None:
        parse_opening_hours(data.opening_hours)
    if data.status is not None and data.status not in StationStatus.codes():
        msg = f"status must be one of {', '.join(StationStatus.codes())}"
        raise ValidationError(msg, zh="驿站状态无效")
    if data.name is not None and not data.name.strip():
        msg = "name must not be empty"
        raise ValidationError(msg, zh="请填写驿站名称")


def create_station(
    conn: Connection,
    data: StationInput,
    *,
    kinds: Sequence[str],
    amenities: Sequence[str],
    area: Area,
    external_id: str | None = None,
    source: str = "api",
) -> dict[str, Any]:
    """Insert a station (its town found from its location) and return it.

    ``area`` is where the caller acts: a location outside it is refused (403).
    ``external_id`` is the union's own key for it (a later import updates the station).
    """
    if data.name is None or data.kind is None or data.lon is None or data.lat is None:
        msg = "a new station needs name, kind and a location"
        raise ValidationError(msg, zh="新建驿站需要名称、类型和位置")
    _validate(data, kinds=kinds, amenities=amenities)
    lon, lat = validate_lon_lat(data.lon, data.lat)
    require_area(area, area_at(conn, lon, lat), "the station's location")
    values = {
        "name": data.name.strip(),
        "kind": data.kind,
        "address": data.address,
        "amenities": sorted(set(data.amenities or [])),
        "opening_hours": data.opening_hours or "24/7",
        "status": data.status or "active",
        "phone": data.phone,
        "synthetic": False,
        "source": source,
        "external_id": external_id,
        "version": 1,
        "town_id": db.town_at(conn, lon, lat),
        "geom": f"SRID=4326;POINT({lon} {lat})",
    }
    with translate_db_error(), conn.begin_nested():
        new_id = db.insert_station(conn, values)
    return get_station(conn, new_id)


def unplaced_stations(conn: Connection) -> list[dict[str, Any]]:
    """Stations imported with an address but no coordinates, waiting to be placed (oldest first)."""
    return imports.unplaced(conn)


def place_station(
    conn: Connection,
    unplaced_id: int,
    lon: float,
    lat: float,
    *,
    kinds: Sequence[str],
    amenities: Sequence[str],
    area: Area,
) -> dict[str, Any]:
    """Put a waiting station on the map at (``lon``, ``lat``): it becomes a station.

    Everything the import said of it is kept (its ``external_id`` too). Refused like a new
    station (outside the caller's area: 403; outside the service region: 422), and then the
    station keeps waiting: the caller's transaction is rolled back whole.
    """
    row = imports.take_unplaced(conn, unplaced_id)
    if row is None:
        msg = f"no station {unplaced_id} is waiting for a position"
        raise NotFoundError(msg, zh=f"没有等待定位的驿站 {unplaced_id}")
    data = StationInput(
        name=row["name"],
        kind=row["kind"],
        lon=lon,
        lat=lat,
        address=row["address"],
        amenities=row["amenities"],
        opening_hours=row["opening_hours"],
        status=row["status"],
        phone=row["phone"],
    )
    return create_station(
        conn,
        data,
        kinds=kinds,
        amenities=amenities,
        area=area,
        external_id=row["external_id"],
        source=row["source"],
    )


def update_station(
    conn: Connection,
    station_id: int,
    data: StationInput,
    *,
    expected_version: int | None,
    kinds: Sequence[str],
    amenities: Sequence[str],
    area: Area,
) -> dict[str, Any]:
    """Change a station; with ``expected_version``, refuse if someone changed it meanwhile.

    The station, and the place it moves to, must lie in the caller's ``area`` (403).
    """
    current = get_station(conn, station_id)
    require_area(area, station_area(conn, station_id), "this station")
    _validate(data, kinds=kinds, amenities=amenities)
    values: dict[str, Any] = {
        k: getattr(data, k)
        for k in ("name", "kind", "address", "opening_hours", "status", "phone")
        if getattr(data, k) is not None
    }
    if data.amenities is not None:
        values["amenities"] = sorted(set(data.amenities))
    if (data.lon is None) != (data.lat is None):
        msg = "give both lon and lat to move a station"
        raise ValidationError(msg, zh="移动驿站需同时给出经度和纬度")
    if data.lon is not None and data.lat is not None:
        lon, lat = validate_lon_lat(data.lon, data.lat)
        require_area(area, area_at(conn, lon, lat), "the new location")
        values["geom"] = f"SRID=4326;POINT({lon} {lat})"
        values["town_id"] = db.town_at(conn, lon, lat)
    if not values:
        return current
    version = current["version"] if expected_version is None else expected_version
    with translate_db_error(), conn.begin_nested():
        changed = db.update_station_row(conn, station_id, version, values)
    if not changed:
        msg = (
            f"station {station_id} was changed by someone else (version {current['version']}, "
            f"you sent {version}); reload it and try again"
        )
        raise ConflictError(msg, zh="驿站刚被他人修改，请刷新后重试", code="stale")
    return get_station(conn, station_id)


def station_records(conn: Connection) -> list[StationRecord]:
    """Every station as the routing engine sees it."""
    rows, _ = list_stations(conn, StationFilter(limit=1_000_000))
    return [to_record(r) for r in rows]


def to_record(row: dict[str, Any]) -> StationRecord:
    """A database row as a :class:`StationRecord`."""
    return StationRecord(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        lon=row["lon"],
        lat=row["lat"],
        amenities=frozenset(row["amenities"]),
        opening_hours=row["opening_hours"],
        status=row["status"],
        extra={
            "synthetic": row["synthetic"],
            "town_code": row["town_code"],
            "address": row["address"],
            "phone": row["phone"],
            "photo": row["photo"],
        },
    )
