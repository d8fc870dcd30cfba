"""Readers of the real data shipped with a region sample (``data/<region>/real``)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

CITY_POPULATION_CENSUS_2020 = 4_798_090
"""Jiangmen's resident population at the 7th census (2020-11-01)."""

DISTRICT_NAMES_EN = {
    "440703": "Pengjiang",
    "440704": "Jianghai",
    "440705": "Xinhui",
    "440781": "Taishan",
    "440783": "Kaiping",
    "440784": "Heshan",
    "440785": "Enping",
}


def read_districts(real_dir: Path) -> gpd.GeoDataFrame:
    """The county-level districts (EPSG:4326) with ``adcode``, ``name``, ``name_en``."""
    gdf = gpd.read_file(real_dir / "jiangmen_districts_wgs84.geojson")
    gdf["adcode"] = gdf["adcode"].astype(str)
    gdf["name_en"] = gdf["adcode"].map(DISTRICT_NAMES_EN)
    return gdf[["adcode", "name", "name_en", "area_km2", "geometry"]].sort_values("adcode")


def read_city_boundary(real_dir: Path) -> gpd.GeoDataFrame:
    """The city outline (one row, EPSG:4326)."""
    return gpd.read_file(real_dir / "jiangmen_city_boundary_wgs84.geojson")


def read_towns_list(real_dir: Path) -> pd.DataFrame:
    """The official township-level list: codes, names, type, pinyin and district adcode."""
    df = pd.read_csv(real_dir / "jiangmen_towns_list.csv", dtype=str)
    return df.rename(
        columns={
            "town_code_12": "code",
            "town_code_9": "code9",
            "town_name": "name",
            "type": "kind",
            "district_adcode": "district_adcode",
        }
    )


def read_census(real_dir: Path) -> pd.DataFrame:
    """Per-town census 2020 population where known (Heshan): ``code``, ``population``."""
    df = pd.read_csv(
        real_dir / "heshan_town_population_census2020.csv", dtype={"town_code_12": str}
    )
    return df.rename(columns={"town_code_12": "code", "pop_2020_census7": "population"})[
        ["code", "population"]
    ]


def read_places(real_dir: Path) -> gpd.GeoDataFrame:
    """GeoNames places (EPSG:4326) with ``town_code_12`` where the town is certain."""
    df = pd.read_csv(real_dir / "jiangmen_places_geonames.csv", dtype={"town_code_12": str})
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
