import math

import pytest
from shapely import wkt

from geo.coords import utm_crs
from geo.errors import ValidationError
from geo.region import Region
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
