import math

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely import wkt

from geo.coords import utm_crs
from geo.errors import ValidationError
from geo.region import DEFAULT_TOLERANCE_M, Region
from geo.sample.real import read_city_boundary
from geo.settings import PROJECT_ROOT
from geo.validation import validate_lon_lat


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (math.nan, 22.5, "finite"),
        (113.0, math.inf, "finite"),
        (181.0, 22.5, "longitude 181.0 is out of range"),
        (113.0, -91.0, "latitude -91.0 is out of range"),
        ("east", 22.5, "must be numbers"),
    ],
)
def test_bad_coordinates_are_refused_with_the_reason(lon, lat, message) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_lon_lat(lon, lat)


def test_good_coordinates_pass() -> None:
    assert validate_lon_lat("113.08", 22.58) == (113.08, 22.58)


def test_region_covers_within_its_tolerance_in_metres() -> None:
    outline = wkt.loads("POLYGON((112 21.5, 113.3 21.5, 113.3 22.9, 112 22.9, 112 21.5))")
    region = Region(outline, 500.0, utm_crs(112.6, 22.2))
    assert region.covers(113.08, 22.58)
    assert region.covers(113.3 + 0.004, 22.58)  # about 410 m outside: within 500 m
    assert not region.covers(113.3 + 0.006, 22.58)  # about 620 m: outside
    assert not region.covers(116.4, 39.9)
    assert region.covers_geometry(wkt.loads("LINESTRING(113.0 22.0, 113.2 22.1)"))
    assert not region.covers_geometry(wkt.loads("LINESTRING(113.0 22.0, 114.0 22.1)"))
    lon, lat = region.closest_inside(114.0, 22.5)
    assert region.covers(lon, lat)
    assert lon < 113.3


def test_region_takes_a_point_projected_in_its_own_crs_and_projects_any_other() -> None:
    """A rider's answer projects its point once; the region reuses it only in its own CRS."""
    outline = wkt.loads("POLYGON((112 21.5, 113.3 21.5, 113.3 22.9, 112 22.9, 112 21.5))")
    crs = utm_crs(112.6, 22.2)
    region = Region(outline, 500.0, crs)
    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    for lon, lat in [(113.08, 22.58), (113.304, 22.58), (113.306, 22.58), (116.4, 39.9)]:
        x, y = to_metric.transform(lon, lat)
        assert region.covers(lon, lat, projected=(crs, x, y)) == region.covers(lon, lat)
    x, y = to_metric.transform(116.4, 39.9)  # far away: the projected point is what counts
    assert not region.covers(113.08, 22.58, projected=(crs, x, y))
    # another CRS's coordinates are not the region's: it projects the point itself
    assert region.covers(113.08, 22.58, projected=("EPSG:3857", x, y))


def test_region_grid_answers_as_the_outline_does_even_along_its_edge() -> None:
    """Most points are answered from the region's cell grid: each the same as GEOS says.

    On Jiangmen's real outline (thousands of vertices, islands, a 500 m tolerance): random
    points over its bounds, and points a few metres either side of the outline itself.
    """
    city = read_city_boundary(PROJECT_ROOT / "data" / "jiangmen" / "real").geometry.iloc[0]
    crs = utm_crs(112.6, 22.2)
    region = Region(city, DEFAULT_TOLERANCE_M, crs)
    area = region._area
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = area.bounds
    pad = 2_000.0
    spread = np.column_stack(
        [rng.uniform(x0 - pad, x1 + pad, 20_000), rng.uniform(y0 - pad, y1 + pad, 20_000)]
    )
    line = shapely.get_coordinates(shapely.segmentize(area.boundary, 200.0))
    near = line[rng.choice(len(line), 20_000)] + rng.normal(0, 5.0, (20_000, 2))
    points = np.vstack([spread, near])
    truth = shapely.contains_xy(area, points[:, 0], points[:, 1])
    states = np.array([region._grid.state(x, y) for x, y in points])
    decided = states != 2
    assert decided.mean() > 0.45  # the grid answers most of these hard cases itself
    assert (states[decided] == truth[decided]).all()
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs84.transform(points[:2_000, 0], points[:2_000, 1])
    said = [region.covers(a, b) for a, b in zip(lon, lat, strict=True)]
    again = shapely.contains_xy(
        area, *Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    )
    assert said == again.tolist()
