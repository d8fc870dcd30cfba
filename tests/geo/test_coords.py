import numpy as np
import pytest
from pyproj import Geod

from geo.coords import (
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
rng = np.random.default_rng(3)
LON = rng.uniform(112.0, 113.26, 2000)
LAT = rng.uniform(21.57, 22.86, 2000)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def test_gcj02_offset_in_jiangmen_matches_the_published_size() -> None:
    glon, glat = wgs84_to_gcj02(LON, LAT)
    # the shared data notes: GCJ ≈ WGS + 0.0052° lon, −0.0027° lat, about 610–630 m
    assert np.allclose(glon - LON, 0.0052, atol=0.0006)
    assert np.allclose(glat - LAT, -0.0027, atol=0.0006)
    d = _metres(LON, LAT, glon, glat)
    assert d.min() > 550
    assert d.max() < 700


def test_known_value_of_the_standard_formula() -> None:
    # Tiananmen: WGS-84 (116.391305, 39.907188) -> GCJ-02 (116.397545, 39.908591), widely quoted
    lon, lat = wgs84_to_gcj02(116.391305, 39.907188)
    assert (float(lon), float(lat)) == pytest.approx((116.397545, 39.908591), abs=2e-5)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_round_trips_are_better_than_a_millimetre(system) -> None:
    lon, lat = to_wgs84(*from_wgs84(LON, LAT, system), system)
    assert _metres(LON, LAT, lon, lat).max() < 0.001


def test_inverse_of_gcj_is_better_than_one_metre_both_ways() -> None:
    wlon, wlat = gcj02_to_wgs84(LON, LAT)
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    assert _metres(LON, LAT, glon, glat).max() < 1.0


def test_bd09_is_gcj_shifted_again() -> None:
    blon, blat = gcj02_to_bd09(LON, LAT)
    assert np.all(_metres(LON, LAT, blon, blat) > 500)
    glon, glat = bd09_to_gcj02(blon, blat)
    assert _metres(LON, LAT, glon, glat).max() < 0.001


def test_outside_china_gcj_is_wgs() -> None:
    lon, lat = wgs84_to_gcj02(np.array([2.35, -74.0]), np.array([48.85, 40.7]))
    assert np.allclose(lon, [2.35, -74.0])
    assert np.allclose(lat, [48.85, 40.7])


def test_scalars_and_wgs84_passthrough() -> None:
    lon, lat = to_wgs84(113.08, 22.58, "wgs84")
    assert (float(lon), float(lat)) == (113.08, 22.58)
