"""Generated grid areas (网格) and the 605-person grid team.

The union reports a 605-person grassroots grid team but no grid boundaries or rosters. Every
town is split into grids (at least two, more where more people live) with one responsible
member each; names, skills, capacities and leave are generated. All ``synthetic``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from geo.sample.partition import as_multipolygon, lloyd_seeds, sample_points, voronoi_cells
from geo.sample.towns import METRIC_CRS, apportion, metric_points_to_wgs84, town_seats_metric
from geo.settings import DEFAULT_CASE_CATEGORIES

GRID_MEMBERS = 605
SURNAMES = "陈李黄梁林吴张关谭邓甄伍刘何余冯司徒周朱赵郑罗叶"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文辉建国志红玲嘉豪俊杰婉婷"


def generate_grids(towns: gpd.GeoDataFrame, *, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Split every town into grids: 605 in all, at least two a town, in proportion to people.

    Grids are smaller near the town seat, where people concentrate (half of the partition's
    sample points are drawn around the seat).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 MultiPolygons with ``code`` (``<town code9>-G<nn>``), ``town_code``,
        ``synthetic``.
    """
    towns_m = towns.to_crs(METRIC_CRS)
    seats = town_seats_metric(towns)
    counts = apportion(GRID_MEMBERS, towns["population"].to_numpy(), minimum=2)
    rows: list[dict[str, object]] = []
    for i, count in enumerate(counts):
        poly = towns_m.geometry.iloc[i]
        spread = float(np.sqrt(poly.area)) / 4
        samples = sample_points(
            poly,
            200 * int(count),
            rng,
            centre=tuple(seats[i]),
            spread_m=spread,
            share_near_centre=0.5,
        )
        seeds = lloyd_seeds(samples, int(count), rng, iterations=15)
        for j, cell in enumerate(voronoi_cells(poly, seeds)):
            rows.append(
                {
                    "code": f"{towns['code9'].iloc[i]}-G{j + 1:02d}",
                    "town_code": towns["code"].iloc[i],
                    "geometry": as_multipolygon(cell),
                }
            )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC_CRS).to_crs("EPSG:4326")
    gdf["synthetic"] = True
    return gdf


def generate_members(grids: gpd.GeoDataFrame, *, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """One member per grid, based at a point inside it, with generated name and skills.

    Every member handles ``mediation`` and ``other``, plus two to five further categories;
    capacity is 6 to 15 open cases; about 4 % are on leave.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326 points with ``code``, ``name``, ``town_code``, ``grid_code``, ``skills``
        (list), ``capacity``, ``on_leave``, ``synthetic``.
    """
    grids_m = grids.to_crs(METRIC_CRS)
    specialist = [c for c in DEFAULT_CASE_CATEGORIES if c not in ("mediation", "other")]
    rows: list[dict[str, object]] = []
    for i, grid in enumerate(grids_m.itertuples()):
        ((x, y),) = sample_points(grid.geometry, 1, rng)
        surname = SURNAMES[rng.integers(len(SURNAMES))]
        given = "".join(rng.choice(list(GIVEN), size=int(rng.integers(1, 3))))
        extra = rng.choice(specialist, size=int(rng.integers(2, 6)), replace=False)
        rows.append(
            {
                "code": f"M{i + 1:04d}",
                "name": surname + given,
                "town_code": grid.town_code,
                "grid_code": grid.code,
                "skills": sorted({"mediation", "other", *map(str, extra)}),
                "capacity": int(rng.integers(6, 16)),
                "on_leave": bool(rng.random() < 0.04),
                "x": x,
                "y": y,
            }
        )
    return metric_points_to_wgs84(rows)
