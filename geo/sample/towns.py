"""Generated town seats, areas and populations over the real districts and town list.

The real data name the 73 towns and their districts but give no town boundaries and, outside
鹤山市, no town populations. This module generates both, reproducibly: town areas partition
each district (centroidal Voronoi around the seats), the three seats GeoNames knows stay where
GeoNames puts them, and populations add up to the census total with 鹤山's ten towns exact.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.sample.partition import as_multipolygon, lloyd_seeds, sample_points, voronoi_cells
from geo.sample.real import CITY_POPULATION_CENSUS_2020
from geo.settings import DEFAULT_METRIC_SRID

METRIC_CRS = f"EPSG:{DEFAULT_METRIC_SRID}"


def apportion(total: int, weights: np.ndarray, *, minimum: int = 0) -> np.ndarray:
    """Split the integer ``total`` in proportion to ``weights`` (largest remainder method).

    Each share is at least ``minimum``; the shares always sum to ``total`` exactly.
    """
    weights = np.asarray(weights, dtype=float)
    base = np.full(len(weights), minimum, dtype=np.int64)
    rest = total - int(base.sum())
    if rest < 0:
        msg = f"cannot give {len(weights)} shares at least {minimum} from {total}"
        raise ValueError(msg)
    quota = rest * weights / weights.sum()
    floor = np.floor(quota).astype(np.int64)
    left = rest - int(floor.sum())
    order = np.argsort(-(quota - floor), kind="stable")
    floor[order[:left]] += 1
    return base + floor


def generate_towns(
    districts: gpd.GeoDataFrame,
    towns: pd.DataFrame,
    census: pd.DataFrame,
    places: gpd.GeoDataFrame,
    *,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Generate a seat, an area and a population for every town.

    Parameters
    ----------
    districts
        Real district polygons with ``adcode``.
    towns
        The official town list (``code``, ``name``, ``kind``, ``district_adcode``...).
    census
        Known town populations (``code``, ``population``); kept exactly.
    places
        GeoNames places; those with a ``town_code_12`` fix that town's seat.
    rng
        Source of randomness (a fixed seed makes the output reproducible).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per town in EPSG:4326: the town list's columns, ``seat_lon``/``seat_lat``,
        ``seat_source``, ``is_district_seat``, ``population``, ``population_source`` and
        the generated area as geometry.
    """
    dist_m = districts.to_crs(METRIC_CRS).set_index("adcode")
    places_m = places.to_crs(METRIC_CRS)
    rows: list[dict[str, object]] = []
    for adcode, group in towns.groupby("district_adcode", sort=True):
        poly = dist_m.loc[adcode, "geometry"]
        in_district = places_m[places_m.within(poly)]
        known = in_district[in_district["town_code_12"].notna()]
        fixed_codes = [c for c in known["town_code_12"] if c in set(group["code"])]
        fixed_xy = np.array(
            [[g.x, g.y] for g in known.set_index("town_code_12").loc[fixed_codes].geometry]
        ).reshape(-1, 2)
        samples = sample_points(poly, 6000, rng)
        seeds = lloyd_seeds(samples, len(group), rng, fixed=fixed_xy)
        centre = (
            np.array([in_district.geometry.iloc[0].x, in_district.geometry.iloc[0].y])
            if len(in_district)
            else np.array(poly.representative_point().coords[0])
        )
        order = _assign_seeds(group, fixed_codes, seeds, centre)
        cells = voronoi_cells(poly, seeds)
        for (_, town), seed_idx in zip(group.iterrows(), order, strict=True):
            is_fixed = town["code"] in fixed_codes
            rows.append(
                {
                    **{str(k): v for k, v in town.to_dict().items()},
                    "seat_x": seeds[seed_idx, 0],
                    "seat_y": seeds[seed_idx, 1],
                    "seat_source": "geonames" if is_fixed else "synthetic",
                    "geometry": as_multipolygon(cells[seed_idx]),
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS)
    gdf["area_km2"] = (gdf.area / 1e6).round(2)
    gdf["is_district_seat"] = _district_seats(gdf, places_m)
    gdf = _populations(gdf, census, rng)
    seats = gpd.GeoSeries(gpd.points_from_xy(gdf["seat_x"], gdf["seat_y"]), crs=METRIC_CRS)
    seats = seats.to_crs("EPSG:4326")
    gdf = gdf.drop(columns=["seat_x", "seat_y"]).to_crs("EPSG:4326")
    gdf["seat_lon"] = seats.x.round(6).to_numpy()
    gdf["seat_lat"] = seats.y.round(6).to_numpy()
    gdf["synthetic"] = True
    return gdf.sort_values("code").reset_index(drop=True)


def _assign_seeds(
    group: pd.DataFrame, fixed_codes: list[str], seeds: np.ndarray, centre: np.ndarray
) -> list[int]:
    """Seed index of each town in ``group``: fixed ones first, then 街道 nearest the centre."""
    n_fixed = len(fixed_codes)
    free = list(range(n_fixed, len(seeds)))
    free.sort(key=lambda i: float(np.hypot(*(seeds[i] - centre))))
    others = group[~group["code"].isin(fixed_codes)]
    # urban streets (街道) take the seeds nearest the district centre, towns (镇) the rest
    ranked = sorted(
        others["code"], key=lambda c: 0 if group.set_index("code").loc[c, "kind"] == "街道" else 1
    )
    seat_of = {code: i for i, code in enumerate(fixed_codes)}
    seat_of.update(dict(zip(ranked, free, strict=True)))
    return [seat_of[c] for c in group["code"]]


def _district_seats(gdf: gpd.GeoDataFrame, places_m: gpd.GeoDataFrame) -> np.ndarray:
    """Mark one seat town per district: the one holding its GeoNames place, else its first 街道."""
    flag = np.zeros(len(gdf), dtype=bool)
    for _adcode, idx in gdf.groupby("district_adcode").groups.items():
        sub = gdf.loc[idx]
        hit = [i for i in sub.index if places_m.within(sub.loc[i, "geometry"]).any()]
        if not hit:
            streets = sub[sub["kind"] == "街道"]
            hit = [streets.index[0] if len(streets) else sub.index[0]]
        flag[gdf.index.get_loc(hit[0])] = True
    return flag


def _populations(
    gdf: gpd.GeoDataFrame, census: pd.DataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Census figures where known; the rest of the city total spread by a documented weight.

    Weight of a town without a census figure: ``(3.5 if 街道 else 1) x (1.5 if district
    seat) x area_km2 ** 0.35 x lognormal(0, 0.2)``; shares are whole people and the city sums
    to 4,798,090 exactly.
    """
    gdf = gdf.copy()
    known = census.set_index("code")["population"]
    has = gdf["code"].isin(known.index)
    weight = (
        np.where(gdf["kind"] == "街道", 3.5, 1.0)
        * np.where(gdf["is_district_seat"], 1.5, 1.0)
        * gdf["area_km2"].to_numpy() ** 0.35
        * rng.lognormal(0.0, 0.2, len(gdf))
    )
    rest_total = CITY_POPULATION_CENSUS_2020 - int(known.sum())
    pop = np.zeros(len(gdf), dtype=np.int64)
    pop[has.to_numpy()] = gdf.loc[has, "code"].map(known).to_numpy()
    pop[~has.to_numpy()] = apportion(rest_total, weight[~has.to_numpy()])
    gdf["population"] = pop
    gdf["population_source"] = np.where(has, "census2020", "synthetic")
    return gdf


def metric_points_to_wgs84(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    """Rows with metric ``x``/``y`` as WGS-84 points, marked ``synthetic``."""
    df = pd.DataFrame(rows)
    gdf = gpd.GeoDataFrame(
        df.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(df["x"], df["y"]), crs=METRIC_CRS
    ).to_crs("EPSG:4326")
    gdf["synthetic"] = True
    return gdf


def town_seats_metric(towns: gpd.GeoDataFrame) -> np.ndarray:
    """Seat coordinates of ``towns`` in the metric CRS, an ``(n, 2)`` array."""
    pts = gpd.GeoSeries(gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"]), crs="EPSG:4326")
    return shapely.get_coordinates(pts.to_crs(METRIC_CRS).to_numpy())
