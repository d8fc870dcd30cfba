"""The generated sample is reproducible and consistent with the real data it is built on."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.sample import real
from geo.sample.build import LAYERS, generate_sample, read_sample_layer, write_sample
from geo.sample.towns import METRIC_CRS, apportion
from geo.settings import Settings


@pytest.fixture(scope="module")
def regenerated(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(generate_sample(settings.region_dir / "real", seed=settings.sample_seed), out)
    return out


@pytest.mark.parametrize("layer", LAYERS)
def test_committed_files_are_what_the_generator_makes(
    regenerated: Path, settings: Settings, layer: str
) -> None:
    committed = read_sample_layer(settings.region_dir / "synthetic", layer)
    assert_geodataframe_equal(read_sample_layer(regenerated, layer), committed)


@pytest.mark.slow
def test_another_seed_gives_another_sample(settings: Settings) -> None:
    a = generate_sample(settings.region_dir / "real", seed=1).stations
    b = generate_sample(settings.region_dir / "real", seed=2).stations
    assert not a.geometry.geom_equals(b.geometry).all()


def test_town_areas_partition_each_district(settings: Settings) -> None:
    towns = read_sample_layer(settings.region_dir / "synthetic", "towns").to_crs(METRIC_CRS)
    districts = real.read_districts(settings.region_dir / "real").to_crs(METRIC_CRS)
    for d in districts.itertuples():
        mine = towns[towns["district_adcode"] == d.adcode]
        union = mine.geometry.union_all()
        assert union.symmetric_difference(d.geometry).area / d.geometry.area < 1e-4
        overlap = mine.geometry.area.sum() - union.area
        assert overlap / union.area < 1e-4


def test_known_seats_stay_where_geonames_puts_them(settings: Settings) -> None:
    towns = read_sample_layer(settings.region_dir / "synthetic", "towns").set_index("code")
    places = real.read_places(settings.region_dir / "real").dropna(subset=["town_code_12"])
    assert len(places) == 3
    for p in places.itertuples():
        seat = towns.loc[p.town_code_12]
        assert seat.seat_source == "geonames"
        assert (seat.seat_lon, seat.seat_lat) == pytest.approx((p.lon, p.lat), abs=1e-6)


def test_every_row_is_marked_synthetic(settings: Settings) -> None:
    for layer in LAYERS:
        gdf = gpd.read_file(settings.region_dir / "synthetic" / f"{layer}.geojson")
        assert gdf["synthetic"].all(), layer


def test_apportion_sums_exactly_and_respects_minimum() -> None:
    shares = apportion(605, np.array([1.0, 1.0, 100.0, 0.001]), minimum=2)
    assert shares.sum() == 605
    assert shares.min() >= 2
    assert list(apportion(10, np.array([1.0, 1.0, 1.0]))) == [4, 3, 3]
    with pytest.raises(ValueError, match="at least"):
        apportion(3, np.ones(2), minimum=2)
