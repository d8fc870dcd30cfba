"""Where things are, administratively: the town and district of a point, member or station."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from geo.db import models as m


def town_district(conn: Connection, town_id: int | None) -> tuple[int | None, int | None]:
    """``(town_id, district_id)`` of a town (``(None, None)`` when there is none)."""
    if town_id is None:
        return None, None
    district = conn.scalar(select(m.Town.district_id).where(m.Town.id == town_id))
    return (town_id, int(district)) if district is not None else (None, None)


def area_at(conn: Connection, lon: float, lat: float) -> tuple[int | None, int | None]:
    """``(town_id, district_id)`` of the town covering a WGS-84 point."""
    pt = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
    town = conn.scalar(select(m.Town.id).where(func.ST_Covers(m.Town.area, pt)).limit(1))
    return town_district(conn, town)


def member_area(conn: Connection, member_id: int) -> tuple[int | None, int | None] | None:
    """``(town_id, district_id)`` of a grid member, or None when there is no such member."""
    town = conn.scalar(select(m.GridMember.town_id).where(m.GridMember.id == member_id))
    return None if town is None else town_district(conn, int(town))


def station_area(conn: Connection, station_id: int) -> tuple[int | None, int | None]:
    """``(town_id, district_id)`` of a station (``(None, None)`` if unknown)."""
    town = conn.scalar(select(m.Station.town_id).where(m.Station.id == station_id))
    return town_district(conn, town)


def town_seats(conn: Connection) -> list[dict[str, object]]:
    """Every town's id, code, name, district name and seat (WGS-84), by district and name."""
    stmt = (
        select(
            m.Town.id,
            m.Town.code,
            m.Town.name,
            m.District.name.label("district"),
            func.ST_X(m.Town.seat).label("lon"),
            func.ST_Y(m.Town.seat).label("lat"),
        )
        .join(m.District, m.District.id == m.Town.district_id)
        .order_by(m.District.adcode, m.Town.code)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]
