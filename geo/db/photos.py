"""Queries on ``station_photos``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m

_PHOTOS = m.StationPhoto.__table__


def put_photo(conn: Connection, station_id: int, values: dict[str, Any]) -> None:
    """Store (or replace) a station's photo."""
    stmt = insert(m.StationPhoto).values(station_id=station_id, **values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["station_id"], set_={**values, "updated_at": func.now()}
        )
    )


def photo_row(conn: Connection, station_id: int) -> Row[Any] | None:
    """A station's photo (type, bytes, hash, size), or None."""
    return conn.execute(select(_PHOTOS).where(_PHOTOS.c.station_id == station_id)).first()


def delete_photo(conn: Connection, station_id: int) -> bool:
    """Remove a station's photo; False when it had none."""
    stmt = delete(m.StationPhoto).where(m.StationPhoto.station_id == station_id)
    return bool(conn.execute(stmt).rowcount)
