"""Map and export layers read from the database (WGS-84 GeoDataFrames)."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection, text


def read_districts(conn: Connection, *, simplify_deg: float = 0.0003) -> gpd.GeoDataFrame:
    """District polygons with adcode and names (simplified by ~30 m for display by default)."""
    sql = text(
        "SELECT adcode, name, name_en, ST_SimplifyPreserveTopology(geom, :tol) AS geom "
        "FROM districts ORDER BY adcode"
    ).bindparams(tol=simplify_deg)
    return gpd.read_postgis(sql, conn, geom_col="geom", crs=4326).rename_geometry("geometry")


def read_grids(conn: Connection, *, with_members: bool = False) -> gpd.GeoDataFrame:
    """Grid polygons with code and town (and the responsible member's name when asked)."""
    member = (
        ", (SELECT string_agg(m.name, '、') FROM grid_members m WHERE m.grid_id = g.id) AS member"
    )
    sql = text(
        f"SELECT g.id, g.code, t.name AS town{member if with_members else ''}, g.geom "
        "FROM grids g JOIN towns t ON t.id = g.town_id ORDER BY g.id"
    )
    return gpd.read_postgis(sql, conn, geom_col="geom", crs=4326).rename_geometry("geometry")
