"""The basemap's layers: the roads the platform routes on, and the extract's water, parks and names.

Every map draws its streets from the same network the routes are computed on, so a route
never runs beside its street; the OSM extract the network came from adds water, parks,
railways and place names (a generated network has none of these and says so). The layers are
drawn once per network file — in a child process, since the road graph is large and the
server should not keep its memory — and kept in ``<cache_dir>`` as a GeoPackage beside the
compiled graph; :mod:`geo.db.basemap` loads them into PostGIS, which cuts the tiles.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString
from sqlalchemy import Engine

from geo.db.basemap import loaded_digest, replace_basemap
from geo.errors import SetupError, ValidationError
from geo.network import (
    check_expansion,
    clipped_ways,
    is_synthetic_file,
    load_graph,
    network_digest,
    osmnx,
    repair_clipped,
)

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger("yizhan.basemap")

#: bump when the layers' content or columns change: the kept GeoPackage is made anew
BASEMAP_VERSION = 2
#: road class -> rank (1 the most important): the lower the zoom, the fewer ranks drawn
ROAD_RANKS = {
    "motorway": 1,
    "motorway_link": 1,
    "trunk": 1,
    "trunk_link": 1,
    "primary": 2,
    "primary_link": 2,
    "secondary": 3,
    "secondary_link": 3,
    "tertiary": 4,
    "tertiary_link": 4,
    "residential": 5,
    "unclassified": 5,
    "road": 5,
    "living_street": 6,
    "service": 6,
    "busway": 6,
}
#: paths, footways, tracks and anything else
OTHER_RANK = 7
#: the tags read from the extract, by layer
FEATURE_TAGS: dict[str, bool | str | list[str]] = {
    "natural": ["water", "wood"],
    "water": True,
    "waterway": ["riverbank", "river", "canal", "stream"],
    "landuse": ["reservoir", "basin", "grass", "forest", "meadow", "recreation_ground", "cemetery"],
    "leisure": ["park", "garden", "nature_reserve", "pitch"],
    "railway": ["rail", "light_rail", "subway", "tram", "narrow_gauge"],
    "place": ["city", "town", "suburb", "quarter", "neighbourhood", "village", "hamlet"],
}
ROAD_COLUMNS = ["class", "rank", "name", "oneway", "bridge", "tunnel", "geometry"]
FEATURE_COLUMNS = ["layer", "kind", "name", "name_en", "geometry"]


@dataclass(frozen=True)
class BasemapLayers:
    """The layers of one network file (EPSG:4326) and where they came from."""

    roads: gpd.GeoDataFrame
    features: gpd.GeoDataFrame
    digest: str
    source_file: str
    synthetic: bool


def _first(value: Any) -> Any:
    """Osmnx keeps a list where merged ways disagree: the first stands for the edge."""
    return value[0] if isinstance(value, list) else value


def _flag(value: Any) -> bool:
    value = _first(value)
    return value not in (None, False, "no", "0", "false") and not pd.isna(value)


def road_layer(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One row per road piece of ``G`` (a two-way street once, not once per direction).

    Columns ``class``, ``rank`` (:data:`ROAD_RANKS`), ``name``, ``oneway``, ``bridge``,
    ``tunnel`` and the line (EPSG:4326).
    """
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, int, int]] = set()
    for u, v, _k, d in G.edges(keys=True, data=True):
        key = (min(u, v), max(u, v), round(float(d.get("length", 0.0))))
        if key in seen:
            continue
        seen.add(key)
        geometry = d.get("geometry")
        if geometry is None:
            a, b = G.nodes[u], G.nodes[v]
            geometry = LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        road_class = str(_first(d.get("highway", "road")))
        name = _first(d.get("name"))
        rows.append(
            {
                "class": road_class,
                "rank": ROAD_RANKS.get(road_class, OTHER_RANK),
                "name": str(name) if isinstance(name, str) and name else None,
                "oneway": bool(d.get("oneway", False)),
                "bridge": _flag(d.get("bridge")),
                "tunnel": _flag(d.get("tunnel")),
                "geometry": geometry,
            }
        )
    return gpd.GeoDataFrame(rows, columns=ROAD_COLUMNS, geometry="geometry", crs="EPSG:4326")


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def feature_layer(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The extract's features sorted into layers: water, waterway, park, rail and place."""
    if raw.empty:
        return gpd.GeoDataFrame(columns=FEATURE_COLUMNS, geometry="geometry", crs="EPSG:4326")
    kind_of = {t: _column(raw, t) for t in FEATURE_TAGS}
    areal = raw.geom_type.isin(["Polygon", "MultiPolygon"])
    linear = raw.geom_type.isin(["LineString", "MultiLineString"])
    point = raw.geom_type == "Point"
    water_landuse = kind_of["landuse"].isin(["reservoir", "basin"])
    rules = [
        (
            "water",
            areal
            & (
                (kind_of["natural"] == "water")
                | kind_of["water"].notna()
                | (kind_of["waterway"] == "riverbank")
                | water_landuse
            ),
            kind_of["water"].fillna(kind_of["waterway"]).fillna("water"),
        ),
        ("waterway", linear & kind_of["waterway"].notna(), kind_of["waterway"]),
        (
            "park",
            areal
            & (
                kind_of["leisure"].notna()
                | (kind_of["landuse"].notna() & ~water_landuse)
                | (kind_of["natural"] == "wood")
            ),
            kind_of["leisure"].fillna(kind_of["landuse"]).fillna("wood"),
        ),
        ("rail", linear & kind_of["railway"].notna(), kind_of["railway"]),
        (
            "place",
            point & kind_of["place"].notna() & _column(raw, "name").notna(),
            kind_of["place"],
        ),
    ]
    parts = []
    taken = pd.Series(False, index=raw.index)
    for layer, mask, kind in rules:
        chosen = mask & ~taken
        taken |= chosen
        part = raw.loc[chosen]
        parts.append(
            gpd.GeoDataFrame(
                {
                    "layer": layer,
                    "kind": kind[chosen].astype(str).str.slice(0, 40),
                    "name": _column(part, "name"),
                    "name_en": _column(part, "name:en"),
                    "geometry": part.geometry,
                },
                geometry="geometry",
                crs="EPSG:4326",
            )
        )
    found = pd.concat(parts, ignore_index=True)
    found = found[found.geometry.is_valid & ~found.geometry.is_empty]
    return gpd.GeoDataFrame(found[FEATURE_COLUMNS], geometry="geometry", crs="EPSG:4326")


@contextlib.contextmanager
def _osm_xml(path: Path) -> Iterator[Path]:
    """The extract as OSM XML whose ways hold all their nodes (pbf converted, clipped repaired)."""
    with tempfile.TemporaryDirectory() as tmp:
        source = path
        if path.suffix == ".pbf":
            osmium = shutil.which("osmium")
            if osmium is None:
                msg = "reading .pbf needs the osmium tool: apt-get install -y osmium-tool"
                raise SetupError(msg)
            check_expansion(path)
            source = Path(tmp) / (path.stem + ".osm")
            done = subprocess.run(
                [osmium, "cat", str(path), "-o", str(source)], capture_output=True, check=False
            )
            if done.returncode != 0:
                msg = f"{path.name} is not a readable .pbf file"
                raise ValidationError(msg)
        if clipped_ways(source):
            source, _ = repair_clipped(source, Path(tmp) / "repaired.osm")
        yield source


def read_features(path: Path) -> gpd.GeoDataFrame:
    """Water, parks, railways and place names of an OSM extract (none for a generated one)."""
    if is_synthetic_file(path):
        return feature_layer(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    with _osm_xml(path) as xml:
        ox = osmnx()
        try:
            raw = ox.features_from_xml(xml, tags=FEATURE_TAGS)
        except ox._errors.InsufficientResponseError:  # nothing of the kind in the extract
            raw = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    return feature_layer(raw.reset_index(drop=True))


def layers_key(path: Path) -> str:
    """Names the layers of network file ``path`` as this version draws them."""
    return f"{network_digest(path)}-b{BASEMAP_VERSION}"


def basemap_path(path: Path, cache_dir: Path) -> Path:
    """Where the layers of network file ``path`` are kept."""
    return Path(cache_dir) / f"basemap-{layers_key(path)}.gpkg"


def build_layers(path: Path, cache_dir: Path) -> Path:
    """Draw the layers of ``path`` and keep them (in the calling process); the kept file."""
    target = basemap_path(path, cache_dir)
    if target.exists():
        return target
    G = load_graph(path, cache_dir=cache_dir)
    roads = road_layer(G)
    del G
    features = read_features(path)
    tmp = target.with_suffix(f".{os.getpid()}.gpkg")
    tmp.unlink(missing_ok=True)
    roads.to_file(tmp, layer="roads", driver="GPKG", engine="pyogrio")
    if not features.empty:
        features.to_file(tmp, layer="features", driver="GPKG", engine="pyogrio")
    tmp.replace(target)
    return target


def read_layers(path: Path, cache_dir: Path) -> BasemapLayers:
    """The layers of network file ``path``: drawn in a child process the first time, then kept."""
    target = basemap_path(path, cache_dir)
    if not target.exists():
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            pool.submit(build_layers, path, cache_dir).result()
    roads = gpd.read_file(target, layer="roads", engine="pyogrio")
    try:
        features = gpd.read_file(target, layer="features", engine="pyogrio")
    except Exception:  # no features layer: the extract (or the generated network) has none
        features = feature_layer(gpd.GeoDataFrame(geometry=[], crs="EPSG:4326"))
    return BasemapLayers(
        roads=roads,
        features=features,
        digest=layers_key(path),
        source_file=Path(path).name,
        synthetic=is_synthetic_file(path),
    )


def ensure_basemap(db: Engine, path: Path, cache_dir: Path) -> bool:
    """Load the layers of network file ``path`` unless the database holds them already.

    Returns whether anything was loaded. Processes racing to load the same network take
    turns (an advisory lock) and the later one finds the work done.
    """
    with db.connect() as conn:
        if loaded_digest(conn) == layers_key(path):
            return False
    layers = read_layers(path, cache_dir)
    with db.begin() as conn:
        replace_basemap(
            conn,
            digest=layers.digest,
            source_file=layers.source_file,
            synthetic=layers.synthetic,
            roads=layers.roads,
            features=layers.features,
        )
    logger.info(
        "basemap drawn from %s: %d roads, %d other features",
        layers.source_file,
        len(layers.roads),
        len(layers.features),
    )
    return True
