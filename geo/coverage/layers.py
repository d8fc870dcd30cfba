"""Demand layers read from the database."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from geo.coverage.demand import Demand, population_hexes, workplace_demand

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


def read_demand(conn: Connection, kind: str, *, hex_size_m: float = 600.0) -> Demand:
    """The ``population`` (hexagons) or ``workplaces`` demand layer."""
    if kind == "population":
        return population_hexes(read_towns(conn), size_m=hex_size_m)
    return workplace_demand(pd.read_sql(WORKPLACES_SQL, conn))


def area_names(conn: Connection) -> dict[str, str]:
    """Names of towns and districts by code."""
    return {str(c): str(n) for c, n in conn.execute(AREA_NAMES_SQL)}
