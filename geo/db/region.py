"""The service region stored in the database."""

from __future__ import annotations

from typing import Any

from shapely import wkb
from sqlalchemy import Connection, func, select

from geo.db import models as m


def service_region(conn: Connection) -> Any:
    """The service region as a shapely geometry (WGS-84), or None when none is loaded."""
    raw = conn.scalar(select(func.ST_AsBinary(func.ST_Union(m.ServiceRegion.geom))))
    return None if raw is None else wkb.loads(bytes(raw))
