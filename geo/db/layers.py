"""Layers read from the database as WGS-84 (Geo)DataFrames: districts, towns, grids, workplaces."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
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


TOWNS_SQL = text("""
    SELECT t.code, t.name, t.short_name, d.adcode AS district_adcode, d.name AS district_name,
           t.population, ST_X(t.seat) AS seat_lon, ST_Y(t.seat) AS seat_lat, t.area AS geom
    FROM towns t JOIN districts d ON d.id = t.district_id ORDER BY t.code
""")
WORKPLACES_SQL = text("""
    SELECT w.code, w.members, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
           t.code AS town_code, d.adcode AS district_adcode
    FROM workplaces w JOIN towns t ON t.id = w.town_id JOIN districts d ON d.id = t.district_id
""")
AREA_NAMES_SQL = text("""
    SELECT t.code, t.name FROM towns t UNION ALL SELECT d.adcode, d.name FROM districts d
""")


def read_towns(conn: Connection) -> gpd.GeoDataFrame:
    """Towns with population, seat and area (EPSG:4326)."""
    towns = gpd.read_postgis(TOWNS_SQL, conn, geom_col="geom", crs="EPSG:4326")
    return towns.rename_geometry("geometry")


def read_workplaces(conn: Connection) -> pd.DataFrame:
    """Workplaces with member counts, location and town and district codes."""
    return pd.read_sql(WORKPLACES_SQL, conn)


def area_names(conn: Connection) -> dict[str, str]:
    """Names of towns and districts by code."""
    return {str(c): str(n) for c, n in conn.execute(AREA_NAMES_SQL)}
