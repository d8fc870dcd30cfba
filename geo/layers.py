"""Map and export layers read from the database (WGS-84 GeoDataFrames)."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Connection, text

from geo.access import Area


def read_districts(conn: Connection, *, simplify_deg: float = 0.0003) -> gpd.GeoDataFrame:
    """District polygons with adcode and names (simplified by ~30 m for display by default)."""
    sql = text(
        "SELECT adcode, name, name_en, ST_SimplifyPreserveTopology(geom, :tol) AS geom "
        "FROM districts ORDER BY adcode"
    ).bindparams(tol=simplify_deg)
    return gpd.read_postgis(sql, conn, geom_col="geom", crs=4326).rename_geometry("geometry")


_GRIDS = text("""
    SELECT g.id, g.code, t.name AS town, g.geom FROM grids g JOIN towns t ON t.id = g.town_id
    ORDER BY g.id
""")
_GRIDS_WITH_MEMBERS = text("""
    SELECT g.id, g.code, t.name AS town,
           CASE WHEN :everything OR t.id = :town_id OR t.district_id = :district_id
                THEN (SELECT string_agg(m.name, '、') FROM grid_members m WHERE m.grid_id = g.id)
           END AS member,
           g.geom
    FROM grids g JOIN towns t ON t.id = g.town_id ORDER BY g.id
""")


def read_grids(conn: Connection, *, members_in: Area | None = None) -> gpd.GeoDataFrame:
    """Grid polygons with code and town.

    Parameters
    ----------
    conn
        A database connection.
    members_in
        With an area, a ``member`` column names the responsible members of the grids in that
        area (empty elsewhere): a manager sees the names of their own team only.
    """
    if members_in is None:
        sql = _GRIDS
    else:
        sql = _GRIDS_WITH_MEMBERS.bindparams(
            everything=members_in.everything,
            town_id=members_in.town_id,
            district_id=members_in.district_id,
        )
    return gpd.read_postgis(sql, conn, geom_col="geom", crs=4326).rename_geometry("geometry")
