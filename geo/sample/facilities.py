"""Generated stations: outdoor-worker rest stations and town worker-service centres.

The union reports 27 outdoor-worker stations and 36 town service centres but publishes no
list with coordinates. Two real station names are known (see ``data/.../real/PROVENANCE.md``);
they are used with generated locations. Everything here is marked ``synthetic``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.sample.partition import sample_points
from geo.sample.towns import METRIC_CRS, apportion, metric_points_to_wgs84, town_seats_metric

OUTDOOR_STATIONS = 27
SERVICE_CENTRES = 36

#: Real names of known stations (locations generated), with the town they are in.
KNOWN_STATIONS = (
    ("江南街道户外劳动者爱心驿站（江门演艺中心站点）", "江南街道", "outdoor_worker_station"),
    ("黄茅海服务区“司机之家”", "赤溪镇", "driver_home"),
)

OUTDOOR_HOURS = (
    ("24/7", 0.3),
    ("Mo-Su 07:00-22:00", 0.3),
    ("Mo-Fr 08:00-20:00; Sa,Su 09:00-18:00", 0.2),
    ("Mo-Su 06:00-23:00", 0.1),
    ("Mo-Su 18:00-02:00", 0.1),
)
OUTDOOR_AMENITY_ODDS = {
    "toilet": 0.8,
    "charging": 0.7,
    "microwave": 0.6,
    "air_conditioning": 0.7,
    "first_aid": 0.5,
    "medicine": 0.4,
    "wifi": 0.6,
    "battery_swap": 0.2,
}
CENTRE_HOURS = "Mo-Fr 08:30-12:00,14:30-17:30"
CENTRE_AMENITIES = ["water", "toilet", "wifi", "air_conditioning", "first_aid", "rest_area"]


def generate_stations(towns: gpd.GeoDataFrame, *, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Generate the 27 outdoor-worker stations and the 36 town service centres.

    Outdoor stations go to towns in proportion to ``population ** 1.3`` (they cluster where
    riders work), each within about a kilometre of the seat; service centres go to the 36 most
    populous towns, next to the seat. One outdoor station in the biggest town is a riders'
    home (骑行之家).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``name``, ``kind``, ``amenities`` (list), ``opening_hours``,
        ``status``, ``town_code``, ``address``, ``synthetic``.
    """
    towns_m = towns.to_crs(METRIC_CRS)
    seats = town_seats_metric(towns)
    rows: list[dict[str, object]] = []
    per_town = apportion(OUTDOOR_STATIONS, towns["population"].to_numpy() ** 1.3)
    known = {town: (name, kind) for name, town, kind in KNOWN_STATIONS}
    for known_town in known:
        i = int(np.flatnonzero(towns["name"] == known_town)[0])
        if per_town[i] == 0:  # make room for a known station: take one from the biggest town
            per_town[int(np.argmax(per_town))] -= 1
            per_town[i] += 1
    rider_home_town = int(np.argmax(towns["population"].to_numpy()))
    for i, count in enumerate(per_town):
        town = towns.iloc[i]
        pts = sample_points(
            towns_m.geometry.iloc[i],
            int(count),
            rng,
            centre=tuple(seats[i]),
            spread_m=900.0,
            share_near_centre=1.0,
        )
        for j, (x, y) in enumerate(pts):
            name = f"{town['name']}户外劳动者爱心驿站（{j + 1}号）"
            kind = "outdoor_worker_station"
            if j == 0 and town["name"] in known:
                name, kind = known[town["name"]]
            elif j == 0 and i == rider_home_town:
                name, kind = f"{town['name']}骑行之家工会驿站", "rider_home"
            rows.append(_outdoor_row(name, kind, town, x, y, rng))
    order = np.argsort(-towns["population"].to_numpy(), kind="stable")[:SERVICE_CENTRES]
    for i in sorted(order):
        town = towns.iloc[i]
        offset = rng.normal(0, 120.0, 2)
        x, y = seats[i] + offset
        if not shapely.contains_xy(towns_m.geometry.iloc[i], x, y):
            x, y = seats[i]
        rows.append(
            {
                "name": f"{town['name']}职工服务中心",
                "kind": "service_centre",
                "amenities": CENTRE_AMENITIES,
                "opening_hours": CENTRE_HOURS,
                "town_code": town["code"],
                "address": f"{town['district_name']}{town['name']}（示例地址）",
                "x": x,
                "y": y,
            }
        )
    gdf = _to_wgs84(rows)
    gdf["status"] = "active"
    gdf["synthetic"] = True
    gdf.insert(0, "external_id", [f"sample-station-{i + 1:03d}" for i in range(len(gdf))])
    return gdf


def _outdoor_row(
    name: str, kind: str, town: pd.Series, x: float, y: float, rng: np.random.Generator
) -> dict[str, object]:
    hours = [h for h, _ in OUTDOOR_HOURS]
    odds = [p for _, p in OUTDOOR_HOURS]
    amenities = ["water", "rest_area"] + [
        a for a, p in OUTDOOR_AMENITY_ODDS.items() if rng.random() < p
    ]
    if kind in ("rider_home", "driver_home"):
        amenities += [a for a in ("charging", "toilet", "microwave") if a not in amenities]
    if kind == "rider_home":
        amenities.append("battery_swap") if "battery_swap" not in amenities else None
    opening = "24/7" if kind != "outdoor_worker_station" else str(rng.choice(hours, p=odds))
    return {
        "name": name,
        "kind": kind,
        "amenities": sorted(set(amenities)),
        "opening_hours": opening,
        "town_code": town["code"],
        "address": f"{town['district_name']}{town['name']}（示例地址）",
        "x": x,
        "y": y,
    }


def _to_wgs84(rows: list[dict[str, object]]) -> gpd.GeoDataFrame:
    gdf = metric_points_to_wgs84(rows).drop(columns="synthetic")
    gdf.geometry = shapely.set_precision(gdf.geometry.to_numpy(), 1e-6)
    return gdf
