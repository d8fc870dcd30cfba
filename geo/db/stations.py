"""Station rows: the public columns, filtered listing, insert and versioned update."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from geoalchemy2.functions import ST_X, ST_Y, ST_Intersects, ST_MakeEnvelope
from sqlalchemy import Connection, Select, func, select, update
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m
from geo.db.feedback import feedback_columns

_COLUMNS = (
    m.Station.id,
    m.Station.name,
    m.Station.kind,
    m.Station.address,
    m.Station.amenities,
    m.Station.opening_hours,
    m.Station.status,
    m.Station.phone,
    m.Station.synthetic,
    m.Station.source,
    m.Station.version,
    m.Station.created_at,
    m.Station.updated_at,
    m.Town.code.label("town_code"),
    m.Town.name.label("town_name"),
    ST_X(m.Station.geom).label("lon"),
    ST_Y(m.Station.geom).label("lat"),
    select(m.StationPhoto.sha256)
    .where(m.StationPhoto.station_id == m.Station.id)
    .scalar_subquery()
    .label("photo"),
    *feedback_columns(m.Station.id),
)


def _select() -> Select[Any]:
    return select(*_COLUMNS).outerjoin(m.Town, m.Town.id == m.Station.town_id)


def select_stations(
    conn: Connection,
    *,
    kinds: Sequence[str] = (),
    amenities: Sequence[str] = (),
    town_code: str | None = None,
    statuses: Sequence[str] = (),
    bbox: tuple[float, float, float, float] | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Stations matching every given filter (ordered by id) and how many match in all."""
    q = _select()
    if kinds:
        q = q.where(m.Station.kind.in_(kinds))
    if amenities:
        q = q.where(m.Station.amenities.contains(list(amenities)))
    if town_code:
        q = q.where(m.Town.code == town_code)
    if statuses:
        q = q.where(m.Station.status.in_(statuses))
    if bbox:
        q = q.where(ST_Intersects(m.Station.geom, ST_MakeEnvelope(*bbox, 4326)))
    total = conn.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = conn.execute(q.order_by(m.Station.id).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)


def station_row(conn: Connection, station_id: int) -> dict[str, Any] | None:
    """One station's public columns, or None."""
    row = conn.execute(_select().where(m.Station.id == station_id)).first()
    return None if row is None else dict(row._mapping)


def town_at(conn: Connection, lon: float, lat: float) -> int | None:
    """The id of the town covering a WGS-84 point."""
    pt = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    return conn.scalar(select(m.Town.id).where(func.ST_Covers(m.Town.area, pt)).limit(1))


def insert_station(conn: Connection, values: dict[str, Any]) -> int:
    """Insert a station row; its new id."""
    return int(conn.scalar(insert(m.Station).values(**values).returning(m.Station.id)) or 0)


def update_station_row(
    conn: Connection, station_id: int, version: int, values: dict[str, Any]
) -> bool:
    """Change a station if it still has ``version`` (bumping it); whether it did."""
    stmt = (
        update(m.Station)
        .where(m.Station.id == station_id, m.Station.version == version)
        .values(**values, version=m.Station.version + 1, updated_at=func.now())
    )
    return bool(conn.execute(stmt).rowcount)
