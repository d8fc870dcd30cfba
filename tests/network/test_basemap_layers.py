"""The basemap's layers: each street once from the routed graph; the extract's water and names."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from geo.basemap import (
    OTHER_RANK,
    ROAD_RANKS,
    build_layers,
    feature_layer,
    read_features,
    road_layer,
)
from geo.network import load_graph
from tests.conftest import OSM_FIXTURES


def test_roads_are_drawn_once_per_street_with_their_class_and_name(
    city_network_file: Path, tmp_path: Path
) -> None:
    G = load_graph(city_network_file, cache_dir=tmp_path)
    roads = road_layer(G)
    two_way = sum(1 for u, v, d in G.edges(data=True) if not d.get("oneway"))
    assert len(roads) < G.number_of_edges()  # the two directions of a street are one line
    assert len(roads) >= G.number_of_edges() - two_way / 2 - 1
    assert set(roads["rank"]) <= {*ROAD_RANKS.values(), OTHER_RANK}
    assert roads["name"].dropna().map(type).eq(str).all()
    assert roads.crs.to_epsg() == 4326
    assert roads.geometry.geom_type.eq("LineString").all()


@pytest.mark.slow
def test_a_real_extract_gives_water_parks_railways_and_named_places() -> None:
    features = read_features(OSM_FIXTURES / "Helsinki.osm.pbf")
    counts = features["layer"].value_counts()
    assert counts["water"] > 0
    assert counts["park"] > 0
    assert counts["rail"] > 0
    places = features[features["layer"] == "place"]
    assert len(places) > 0
    assert places["name"].notna().all()
    assert features.geometry.is_valid.all()


def test_a_generated_network_has_no_made_up_water(city_network_file: Path) -> None:
    assert read_features(city_network_file).empty


def test_features_go_to_one_layer_each() -> None:
    raw = gpd.GeoDataFrame(
        {
            "natural": ["water", None, None, None, None],
            "leisure": [None, "park", None, None, None],
            "railway": [None, None, "rail", None, None],
            "place": [None, None, None, "suburb", "suburb"],
            "name": ["Lake", "Park", None, "Kallio", None],
        },
        geometry=[
            Polygon([(0, 0), (1, 0), (1, 1)]),
            Polygon([(2, 0), (3, 0), (3, 1)]),
            LineString([(0, 0), (5, 5)]),
            Point(1, 1),
            Point(2, 2),  # a place without a name is not a label
        ],
        crs="EPSG:4326",
    )
    layers = feature_layer(raw)
    assert list(layers["layer"]) == ["water", "park", "rail", "place"]
    assert list(layers["name"].fillna("")) == ["Lake", "Park", "", "Kallio"]


def test_the_layers_are_kept_beside_the_graph(city_network_file: Path, tmp_path: Path) -> None:
    kept = build_layers(city_network_file, tmp_path)
    assert kept.exists()
    assert build_layers(city_network_file, tmp_path) == kept  # drawn once
