"""Generate the whole sample of a region, reproducibly, and write it as files.

``generate_sample`` returns the generated layers; ``write_sample`` stores them in
``data/<region>/synthetic`` (committed, so planners can open them in QGIS and the import
examples are real files); ``write_sample_network`` writes the generated road network as OSM
XML (large: made at set-up, never committed). Each layer draws from its own random stream
derived from one seed, so changing one generator does not reshuffle the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.sample import real
from geo.sample.facilities import generate_stations
from geo.sample.grid_team import generate_grids, generate_members
from geo.sample.roads import generate_road_network, write_osm_xml
from geo.sample.towns import METRIC_CRS, generate_towns, town_seats_metric
from geo.sample.workplaces import generate_workplaces

LAYERS = ("towns", "stations", "grids", "grid_members", "workplaces")
LIST_COLUMNS = {"stations": "amenities", "grid_members": "skills"}
_STREAMS = {"towns": 1, "stations": 2, "grids": 3, "grid_members": 4, "workplaces": 5, "roads": 6}


@dataclass(frozen=True)
class SampleLayers:
    """The generated layers of a region sample, all EPSG:4326."""

    towns: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    grid_members: gpd.GeoDataFrame
    workplaces: gpd.GeoDataFrame


def _rng(seed: int, layer: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[layer]])


def generate_sample(real_dir: Path, *, seed: int) -> SampleLayers:
    """Generate every synthetic layer of the sample from the real data in ``real_dir``."""
    towns = generate_towns(
        real.read_districts(real_dir),
        real.read_towns_list(real_dir),
        real.read_census(real_dir),
        real.read_places(real_dir),
        rng=_rng(seed, "towns"),
    )
    grids = generate_grids(towns, rng=_rng(seed, "grids"))
    return SampleLayers(
        towns=towns,
        stations=generate_stations(towns, rng=_rng(seed, "stations")),
        grids=grids,
        grid_members=generate_members(grids, rng=_rng(seed, "grid_members")),
        workplaces=generate_workplaces(towns, rng=_rng(seed, "workplaces")),
    )


def write_sample(layers: SampleLayers, out_dir: Path) -> list[Path]:
    """Write each layer as ``<layer>.geojson`` (list columns joined with ``;``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in LAYERS:
        gdf = getattr(layers, name).copy()
        if name in LIST_COLUMNS:
            col = LIST_COLUMNS[name]
            gdf[col] = gdf[col].map(";".join)
        gdf.geometry = shapely.set_precision(gdf.geometry.to_numpy(), 1e-6)
        path = out_dir / f"{name}.geojson"
        path.unlink(missing_ok=True)
        gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
        paths.append(path)
    return paths


def read_sample_layer(sample_dir: Path, name: str) -> gpd.GeoDataFrame:
    """Read one written layer back, list columns split into Python lists."""
    gdf = gpd.read_file(sample_dir / f"{name}.geojson", engine="pyogrio")
    for col in ("code", "town_code", "grid_code", "code9", "district_adcode", "external_id"):
        if col in gdf:
            gdf[col] = gdf[col].astype(str)
    if name in LIST_COLUMNS:
        col = LIST_COLUMNS[name]
        gdf[col] = gdf[col].fillna("").map(lambda s: [x for x in s.split(";") if x])
    return gdf


def write_sample_network(
    real_dir: Path, towns: gpd.GeoDataFrame, path: Path, *, seed: int, urban_cells: int = 900
) -> Path:
    """Generate the synthetic road network over the city outline and write it as OSM XML.

    ``urban_cells`` (coarse cells of dense streets) sets its size: the sample's 900 give some
    65,000 road nodes; a benchmark asks for more.
    """
    boundary = real.read_city_boundary(real_dir).to_crs(METRIC_CRS).geometry.iloc[0]
    network = generate_road_network(
        boundary,
        town_seats_metric(towns),
        towns["population"].to_numpy(),
        towns["is_district_seat"].to_numpy(dtype=bool),
        rng=_rng(seed, "roads"),
        urban_cells=urban_cells,
    )
    note = (
        f"Synthetic roads for the yizhan sample (seed {seed}), generated over the real city "
        "outline. Not OpenStreetMap data; do not use for navigation."
    )
    return write_osm_xml(network, path, crs=METRIC_CRS, note=note)
