"""The service area's layers as answers and pages show them: districts, towns, grids.

The domain's face over :mod:`geo.db.layers` and :mod:`geo.db.areas`, so routers and pages
ask ``geo`` for areas and never the database layer itself.
"""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection

from geo.access import Area
from geo.db import areas as area_rows
from geo.db import layers


def read_districts(conn: Connection, *, simplify_deg: float = 0.0003) -> gpd.GeoDataFrame:
    """District polygons with adcode and names (simplified by ~30 m for display by default)."""
    return layers.read_districts(conn, simplify_deg=simplify_deg)


def read_towns(conn: Connection) -> gpd.GeoDataFrame:
    """Towns with population, seat and area (EPSG:4326)."""
    return layers.read_towns(conn)


def read_grids(conn: Connection, *, members_in: Area | None = None) -> gpd.GeoDataFrame:
    """Grid polygons with code and town (member names only inside ``members_in``)."""
    return layers.read_grids(conn, members_in=members_in)


def town_seats(conn: Connection) -> list[dict[str, object]]:
    """Every town's code, name, district name and seat (WGS-84), by district and name."""
    return area_rows.town_seats(conn)


def area_names(conn: Connection) -> dict[str, str]:
    """Names of towns and districts by code."""
    return layers.area_names(conn)
