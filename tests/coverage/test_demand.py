import numpy as np
import pytest
import shapely

from geo.coverage.demand import hex_grid, population_hexes, read_demand_points
from geo.errors import ValidationError
from geo.sample.build import read_sample_layer
from geo.settings import Settings


def test_hexagons_tile_without_overlap() -> None:
    grid = hex_grid(shapely.box(0, 0, 5000, 5000), 500)
    areas = grid.area.to_numpy()
    assert np.allclose(areas, 1.5 * np.sqrt(3) * 500**2)
    union = grid.geometry.union_all()
    assert union.area == pytest.approx(areas.sum(), rel=1e-6)  # no overlaps


def test_population_hexes_sum_to_each_town(settings: Settings) -> None:
    towns = read_sample_layer(settings.region_dir / "synthetic", "towns")
    demand = population_hexes(towns)
    by_town = demand.frame.groupby("town_code")["weight"].sum()
    expected = towns.set_index("code")["population"]
    assert by_town.reindex(expected.index).to_numpy() == pytest.approx(expected.to_numpy())
    # denser near the seat: the cell nearest each seat holds more than the town's average
    seat_cells = demand.frame.loc[demand.frame.groupby("town_code")["weight"].idxmax()]
    assert (
        seat_cells["weight"].to_numpy()
        > by_town.reindex(seat_cells["town_code"]).to_numpy()
        / demand.frame.groupby("town_code").size().reindex(seat_cells["town_code"]).to_numpy()
    ).all()


def test_csv_import_with_row_errors() -> None:
    csv = (
        b"id,lon,lat,weight\na,113.08,22.58,10\nb,abc,22.5,3\nc,113.0,95,1\n"
        b"d,113.0,22.5,-4\ne,113.1,22.6,2\n"
    )
    demand, errors = read_demand_points(csv, fmt="csv")
    assert list(demand.frame["id"]) == ["a", "e"]
    assert [(e.row, e.message.split()[0]) for e in errors] == [
        (2, "lon,"),
        (3, "coordinates"),
        (4, "weight"),
    ]


def test_geojson_import_with_row_errors() -> None:
    gj = (
        b'{"type":"FeatureCollection","features":['
        b'{"type":"Feature","geometry":{"type":"Point","coordinates":[113.08,22.58]},"properties":{"weight":5}},'
        b'{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":{"weight":5}},'
        b'{"type":"Feature","geometry":{"type":"Point","coordinates":[113.0,22.5]},"properties":{}}]}'
    )
    demand, errors = read_demand_points(gj, fmt="geojson")
    assert len(demand) == 1
    assert [e.row for e in errors] == [2, 3]


@pytest.mark.parametrize(
    ("content", "fmt", "fragment"),
    [
        (b"lon;lat\n1;2", "csv", "columns"),
        (b"{not json", "geojson", "not a GeoJSON"),
        (b'{"type": "Point"}', "geojson", "FeatureCollection"),
        (b"", "xlsx", "unknown format"),
    ],
)
def test_unreadable_files(content: bytes, fmt: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        read_demand_points(content, fmt=fmt)
