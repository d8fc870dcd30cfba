"""Generated workplaces with grassroots unions: where the union's 630,000 members work.

The union reports 5,474 grassroots unions on its platform with about 630,000 members, not
their locations. Workplaces are spread over towns in proportion to ``population ** 1.1`` and
scattered around each seat; member counts are log-normal, summing to 630,000. All
``synthetic``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.sample.partition import sample_points
from geo.sample.towns import METRIC_CRS, apportion, metric_points_to_wgs84, town_seats_metric

WORKPLACES = 5_474
UNION_MEMBERS = 630_000
SECTORS = {
    "manufacturing": "制造",
    "logistics": "物流",
    "retail": "零售",
    "catering": "餐饮",
    "construction": "建筑",
    "sanitation": "环卫",
    "platform_delivery": "外卖配送",
    "transport": "运输",
    "services": "服务",
}


def generate_workplaces(towns: gpd.GeoDataFrame, *, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Generate 5,474 workplaces whose member counts sum to 630,000.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``code``, ``name``, ``sector``, ``members``, ``town_code``,
        ``synthetic``.
    """
    towns_m = towns.to_crs(METRIC_CRS)
    seats = town_seats_metric(towns)
    per_town = apportion(WORKPLACES, towns["population"].to_numpy() ** 1.1)
    members = apportion(UNION_MEMBERS, rng.lognormal(0.0, 1.0, WORKPLACES), minimum=3)
    sector_keys = list(SECTORS)
    sector_p = np.array([0.4, 0.1, 0.1, 0.1, 0.08, 0.05, 0.05, 0.05, 0.07])
    rows: list[dict[str, object]] = []
    n = 0
    for i, count in enumerate(per_town):
        poly = towns_m.geometry.iloc[i]
        pts = sample_points(
            poly,
            int(count),
            rng,
            centre=tuple(seats[i]),
            spread_m=float(np.sqrt(poly.area)) / 5,
            share_near_centre=0.7,
        )
        for x, y in pts:
            sector = str(rng.choice(sector_keys, p=sector_p))
            rows.append(
                {
                    "code": f"W{n + 1:05d}",
                    "name": f"{towns['short_name'].iloc[i]}{SECTORS[sector]}企业"
                    f"{n + 1:05d}（示例）",
                    "sector": sector,
                    "members": int(members[n]),
                    "town_code": towns["code"].iloc[i],
                    "x": x,
                    "y": y,
                }
            )
            n += 1
    return metric_points_to_wgs84(rows)
