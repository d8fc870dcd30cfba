import math

import pytest
from shapely import wkt

from geo.errors import InvalidGeometryError, OutsideRegionError, ValidationError
from geo.validation import check_in_region, validate_geometry, validate_lon_lat


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


def test_self_intersecting_polygon_is_refused() -> None:
    bowtie = wkt.loads("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))")
    with pytest.raises(InvalidGeometryError, match="Self-intersection"):
        validate_geometry(bowtie, allowed=("Polygon",))


def test_wrong_type_empty_and_projected_are_refused() -> None:
    with pytest.raises(InvalidGeometryError, match="type Point not accepted"):
        validate_geometry(wkt.loads("POINT(1 1)"), allowed=("Polygon",))
    with pytest.raises(InvalidGeometryError, match="empty"):
        validate_geometry(wkt.loads("POLYGON EMPTY"), allowed=("Polygon",))
    with pytest.raises(InvalidGeometryError, match="EPSG:4326"):
        validate_geometry(wkt.loads("POINT(300000 2500000)"), allowed=("Point",))


def test_region_check() -> None:
    region = wkt.loads("POLYGON((112 21.5, 113.3 21.5, 113.3 22.9, 112 22.9, 112 21.5))")
    check_in_region(wkt.loads("POINT(113.08 22.58)"), region)
    with pytest.raises(OutsideRegionError, match="outside the service region"):
        check_in_region(wkt.loads("POINT(116.4 39.9)"), region)
