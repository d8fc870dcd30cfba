"""The service region stored in the database."""

from __future__ import annotations

from shapely import wkb
from sqlalchemy import Connection, func, select

from geo.db import models as m
from geo.region import Region


def service_region(conn: Connection, metric_crs: str) -> Region | None:
    """The service region (outline and the tolerance the trigger applies), or None."""
    row = conn.execute(
        select(
            func.ST_AsBinary(func.ST_Union(m.ServiceRegion.geom)),
            func.max(m.ServiceRegion.tolerance_m),
        )
    ).first()
    if row is None or row[0] is None:
        return None
    return Region(wkb.loads(bytes(row[0])), float(row[1] or 0.0), metric_crs)
