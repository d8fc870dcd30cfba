"""A labelled synthetic sample of one city of a province, over its real outline.

The province has real city outlines (``guangdong_cities_wgs84.geojson``) and nothing else:
no town lists, no populations, no stations. Each city's sample is generated with the same
generators as Jiangmen's, coarser (a province is twenty times Jiangmen):

* **towns**: one seat per ~130 km² of outline (Jiangmen has 73 towns on 9,500 km²), placed by
  Lloyd's method, areas their Voronoi cells; every town is ``synthetic``;
* **people**: the outline's area at Jiangmen's census density (4,798,090 over 9,505 km²),
  spread over towns by the Jiangmen town weights — a *synthetic* population, not the city's;
* **stations**: the province's ~16,000 union stations apportioned to cities by that
  population, placed around town seats in proportion to ``population ** 1.3``;
* **roads**: :func:`geo.sample.roads.generate_road_network` on a 300 m lattice, written as
  OSM XML (it says it is not OpenStreetMap) and read back through osmnx;
* **demand**: the population spread over 1 km hexagons.

Everything is reproducible from the seed and the city's adcode.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.coords import utm_crs
from geo.coverage.demand import Demand, population_hexes
from geo.errors import ValidationError
from geo.network import load_graph
from geo.routing.engine import StationRecord
from geo.sample.partition import as_multipolygon, lloyd_seeds, sample_points, voronoi_cells
from geo.sample.real import CITY_POPULATION_CENSUS_2020
from geo.sample.roads import generate_road_network, write_osm_xml
from geo.sample.towns import apportion
from geo.vocabulary import StationKind

if TYPE_CHECKING:
    import networkx as nx

#: Union stations in Guangdong (the federation's round figure), shared out over the cities.
PROVINCE_STATIONS = 16_000
#: Jiangmen's census population over its official land area: the synthetic density.
PEOPLE_PER_KM2 = CITY_POPULATION_CENSUS_2020 / 9_505
KM2_PER_TOWN = 130.0
ROAD_SPACING_M = 300.0
HEX_SIZE_M = 1_000.0
#: memory a city task may take: ``benchmarks/bench_province`` measured at most 0.78 GB a worker
PROVINCE_TASK_GIB = 1.0
CITIES_FILE = "guangdong_cities_wgs84.geojson"
ROADS_VERSION = 1  # bump when the generation below changes (the network files are cached)


@dataclass(frozen=True)
class City:
    """A city's real outline (WGS-84) and its share of the province's stations."""

    adcode: str
    name: str
    outline: shapely.MultiPolygon | shapely.Polygon
    stations: int

    @property
    def crs(self) -> str:
        """The city's own UTM zone."""
        centre = self.outline.centroid
        return utm_crs(centre.x, centre.y)


def read_cities(path: Path, *, stations: int = PROVINCE_STATIONS) -> list[City]:
    """The cities of a province outline file, with ``stations`` shared out by population.

    Parameters
    ----------
    path
        GeoJSON of the cities (``adcode``, ``name``, polygons in WGS-84).
    stations
        Stations of the whole province, apportioned in proportion to the synthetic
        population (the outline's area).
    """
    frame = gpd.read_file(path, engine="pyogrio").sort_values("adcode").reset_index(drop=True)
    areas = frame.to_crs(frame.estimate_utm_crs()).area.to_numpy()
    shares = apportion(stations, areas, minimum=1)
    return [
        City(str(row.adcode), str(row.name), row.geometry, int(n))
        for row, n in zip(frame.itertuples(), shares, strict=True)
    ]


def province_cities(region_dir: Path, wanted: Sequence[str] = ()) -> list[City]:
    """The province's cities (``region_dir/real``), or those of ``wanted`` (adcodes or names)."""
    cities = read_cities(region_dir / "real" / CITIES_FILE)
    if not wanted:
        return cities
    unknown = set(wanted) - {c.adcode for c in cities} - {c.name for c in cities}
    if unknown:
        msg = f"unknown cities: {', '.join(sorted(unknown))} (give adcodes or names)"
        raise ValidationError(msg)
    return [c for c in cities if c.adcode in wanted or c.name in wanted]


@dataclass(frozen=True)
class CitySample:
    """A city's generated towns, stations, demand and road graph (WGS-84, labelled)."""

    city: City
    towns: gpd.GeoDataFrame
    stations: list[StationRecord]
    demand: Demand
    graph: nx.MultiDiGraph


def _rng(city: City, seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(city.adcode.encode()), stream])


def generate_towns(city: City, *, seed: int) -> gpd.GeoDataFrame:
    """Synthetic towns: seats by Lloyd's method, Voronoi areas, a synthetic population."""
    rng = _rng(city, seed, 1)
    outline = gpd.GeoSeries([city.outline], crs="EPSG:4326").to_crs(city.crs).iloc[0]
    area_km2 = outline.area / 1e6
    n = max(3, round(area_km2 / KM2_PER_TOWN))
    seeds = lloyd_seeds(sample_points(outline, 40 * n, rng), n, rng)
    cells = voronoi_cells(outline, seeds)
    centre = np.array(outline.representative_point().coords[0])
    order = np.argsort(np.hypot(*(seeds - centre).T), kind="stable")  # nearest the centre first
    kind = np.where(np.arange(n) < max(1, n // 4), "街道", "镇")[np.argsort(order)]
    town_area = np.array([c.area / 1e6 for c in cells])
    weight = np.where(kind == "街道", 3.5, 1.0) * town_area**0.35 * rng.lognormal(0.0, 0.2, n)
    population = apportion(round(area_km2 * PEOPLE_PER_KM2), weight)
    codes = [f"{city.adcode}{i + 1:03d}" for i in range(n)]
    towns = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"{city.name}示例镇{i + 1:03d}" for i in range(n)],
            "kind": kind,
            "district_adcode": city.adcode,
            "population": population,
            "seat_x": seeds[:, 0],
            "seat_y": seeds[:, 1],
            "synthetic": True,
        },
        geometry=[as_multipolygon(c) for c in cells],
        crs=city.crs,
    )
    seats = gpd.GeoSeries(gpd.points_from_xy(seeds[:, 0], seeds[:, 1]), crs=city.crs)
    seats = seats.to_crs("EPSG:4326")
    towns = towns.drop(columns=["seat_x", "seat_y"]).to_crs("EPSG:4326")
    towns["seat_lon"], towns["seat_lat"] = seats.x.to_numpy(), seats.y.to_numpy()
    towns["is_district_seat"] = towns["population"] == towns["population"].max()
    return towns


def generate_stations(city: City, towns: gpd.GeoDataFrame, *, seed: int) -> list[StationRecord]:
    """The city's stations around town seats, half of them open around the clock."""
    rng = _rng(city, seed, 2)
    towns_m = towns.to_crs(city.crs)
    seats = gpd.GeoSeries(
        gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"]), crs="EPSG:4326"
    ).to_crs(city.crs)
    per_town = apportion(city.stations, towns["population"].to_numpy() ** 1.3)
    records: list[StationRecord] = []
    for i, count in enumerate(per_town):
        poly = towns_m.geometry.iloc[i]
        pts = sample_points(
            poly,
            int(count),
            rng,
            centre=(seats.iloc[i].x, seats.iloc[i].y),
            spread_m=float(np.sqrt(poly.area)) / 4,
            share_near_centre=0.8,
        )
        to_wgs84 = gpd.GeoSeries(gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=city.crs)
        for pt in to_wgs84.to_crs("EPSG:4326"):
            n = len(records) + 1
            records.append(
                StationRecord(
                    id=n,
                    name=f"{towns['name'].iloc[i]}驿站{n:04d}（示例）",
                    kind=StationKind.OUTDOOR_WORKER_STATION,
                    lon=round(pt.x, 6),
                    lat=round(pt.y, 6),
                    opening_hours="24/7" if rng.random() < 0.5 else "Mo-Su 07:00-22:00",
                    extra={"town_code": towns["code"].iloc[i], "synthetic": True},
                )
            )
    return records


def road_network_file(city: City, towns: gpd.GeoDataFrame, *, seed: int, cache_dir: Path) -> Path:
    """The city's generated roads as OSM XML in ``cache_dir`` (made once per seed)."""
    path = cache_dir / "province" / f"roads-{city.adcode}-{seed}-v{ROADS_VERSION}.osm.bz2"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    outline = gpd.GeoSeries([city.outline], crs="EPSG:4326").to_crs(city.crs).iloc[0]
    seats = gpd.GeoSeries(
        gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"]), crs="EPSG:4326"
    ).to_crs(city.crs)
    network = generate_road_network(
        outline,
        shapely.get_coordinates(seats.to_numpy()),
        towns["population"].to_numpy(),
        towns["is_district_seat"].to_numpy(dtype=bool),
        rng=_rng(city, seed, 3),
        spacing_m=ROAD_SPACING_M,
        block=6,
        urban_cells=max(20, round(outline.area / 1e6 / 10)),
    )
    note = (
        f"Synthetic roads for the yizhan province sample ({city.name}, seed {seed}), generated "
        "over the real city outline. Not OpenStreetMap data; do not use for navigation."
    )
    tmp = path.with_name(f"part-{os.getpid()}-{path.name}")  # same suffix: compressed too
    write_osm_xml(network, tmp, crs=city.crs, note=note)
    tmp.replace(path)
    return path


def generate_city(city: City, *, seed: int, cache_dir: Path) -> CitySample:
    """Every layer of one city's sample; the road graph comes through osmnx (cached)."""
    towns = generate_towns(city, seed=seed)
    stations = generate_stations(city, towns, seed=seed)
    roads = road_network_file(city, towns, seed=seed, cache_dir=cache_dir)
    graph = load_graph(roads, cache_dir=cache_dir)
    demand = population_hexes(towns, size_m=HEX_SIZE_M)
    return CitySample(city, towns, stations, demand, graph)


def station_frame(sample: CitySample) -> pd.DataFrame:
    """The city's stations as a table (for exports)."""
    return pd.DataFrame(
        [
            {"id": s.id, "name": s.name, "lon": s.lon, "lat": s.lat, "city": sample.city.adcode}
            for s in sample.stations
        ]
    )
