"""A region of the user's own: any city, from its outline and a real OpenStreetMap extract.

``yizhan region create NAME --boundary city.geojson --network extract.osm.pbf`` keeps the
region in ``regions_dir/NAME/`` (``region.json`` and the files it names), and
``YIZHAN_REGION=NAME`` makes every command and the API serve it from a database of its own
(``yizhan_NAME``). What a region needs and what it may leave out:

- the **outline** (any polygon file GDAL reads, any CRS); left out, the extract's convex hull;
- the **road network** (``.osm``, ``.osm.bz2`` or ``.pbf``), built before the region exists: a
  file that cannot be built leaves nothing behind;
- **towns** (polygons with ``name``, optional ``code``, ``population`` and ``district``);
  left out, squares of ``cell_km`` over the outline stand in, named like map squares (A1, B2),
  and their people are the area times ``people_per_km2`` — said so in every row;
- **stations** (the columns of ``yizhan import stations``), loaded with the region.

The metric CRS is the UTM zone of the outline's centroid and the time zone the one the
centroid lies in (timezonefinder's offline polygons), unless told otherwise.
"""

from __future__ import annotations

import json
import re
import shutil
import string
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.coords import utm_crs
from geo.errors import ValidationError
from geo.network import check_expansion, load_compiled, load_graph
from geo.settings import MAINLAND_CHINA_ZONES
from geo.vocabulary import CHINA_NAVIGATION, PAGE_LANGUAGES, WORLD_NAVIGATION, NavigationApp

REGION_FILE = "region.json"
#: a region's name: its folder, its database (``yizhan_NAME``) and ``YIZHAN_REGION``
NAME_RULE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def region_folder(regions_dir: Path, name: str) -> Path:
    """The folder of region ``name``: the name checked, the path inside ``regions_dir``.

    Raises
    ------
    ValidationError
        For a name outside the rule (``..``, slashes, a trailing newline...).
    """
    if not NAME_RULE.fullmatch(name):
        msg = (
            "a region name is 1-40 lower-case letters, digits, - or _, "
            "starting with a letter or digit"
        )
        raise ValidationError(msg)
    root = Path(regions_dir).resolve()
    target = (root / name).resolve()
    if target.parent != root:
        msg = f"region {name!r} is not inside the regions folder"
        raise ValidationError(msg)
    return target


#: people per km² assumed where towns carry no population (an urban mean; say it when used)
DEFAULT_PEOPLE_PER_KM2 = 1000.0
#: squares smaller than this share of a full one (slivers along the outline) join a neighbour
MIN_CELL_SHARE = 0.05
#: how many squares stand in for towns when their size is not given
SQUARES_WANTED = 25
#: codes of the squares that stand in for towns
SQUARE_PREFIX = "SQ-"


@dataclass(frozen=True)
class RegionSpec:
    """What ``region.json`` says of a region of the user's own.

    Attributes
    ----------
    name
        The region's name (``YIZHAN_REGION``), lower-case letters, digits and ``_``.
    title
        The name shown to people (pages, maps); default the name.
    metric_srid
        EPSG code of the metric CRS (UTM zone of the centroid unless told).
    timezone
        IANA time zone in which opening hours and deadlines are read.
    network
        File name of the road network inside the region's folder.
    towns_source, population_source
        Where the towns and their people come from (shown with the data).
    stations
        File name of the stations file, or None.
    created
        When the region was made (ISO 8601, UTC).
    language
        The pages' language (``zh`` or ``en``): Chinese in China, else English.
    navigation
        The navigation apps the riders' page offers, in order.
    in_china
        Whether the region lies in mainland China (GCJ-02 and the Chinese apps apply).
    """

    name: str
    title: str
    metric_srid: int
    timezone: str
    network: str
    towns_source: str
    population_source: str
    stations: str | None
    created: str
    language: str = "en"
    navigation: tuple[str, ...] = WORLD_NAVIGATION
    in_china: bool = False

    @classmethod
    def read(cls, folder: Path) -> RegionSpec:
        """The spec in ``folder/region.json`` (a region made before languages: its zone's)."""
        data: dict[str, Any] = json.loads((folder / REGION_FILE).read_text(encoding="utf-8"))
        if "language" not in data:
            data.update(asdict(local_defaults(str(data["timezone"]))))
        found = {k: data[k] for k in cls.__dataclass_fields__}
        return cls(**{**found, "navigation": tuple(found["navigation"])})

    def write(self, folder: Path) -> None:
        """Write ``folder/region.json``."""
        text = json.dumps(asdict(self), ensure_ascii=False, indent=2)
        (folder / REGION_FILE).write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class LocalDefaults:
    """What a region's pages speak and offer, by where it lies."""

    language: str
    navigation: tuple[str, ...]
    in_china: bool


def local_defaults(timezone: str) -> LocalDefaults:
    """A region's language and navigation apps from its time zone.

    Mainland China (its zones) → Chinese with AutoNavi, Baidu and Tencent (GCJ-02/BD-09);
    elsewhere → English (the pages' other language) with Google, Apple and a ``geo:`` URI.
    """
    if timezone in MAINLAND_CHINA_ZONES:
        return LocalDefaults("zh", CHINA_NAVIGATION, True)
    return LocalDefaults("en", WORLD_NAVIGATION, False)


def checked_locale(
    language: str | None, navigation: Sequence[str] | None, timezone: str
) -> LocalDefaults:
    """The region's language and apps: as told (checked), else by where it lies."""
    found = local_defaults(timezone)
    if language is not None and language not in PAGE_LANGUAGES:
        msg = f"--language: the pages are written in {', '.join(PAGE_LANGUAGES)}"
        raise ValidationError(msg)
    apps = tuple(navigation) if navigation else found.navigation
    unknown = [a for a in apps if a not in NavigationApp.codes()]
    if unknown:
        choices = ", ".join(NavigationApp.codes())
        msg = f"--navigation: unknown {', '.join(unknown)}; choose among {choices}"
        raise ValidationError(msg)
    return LocalDefaults(language or found.language, apps, found.in_china)


def zone_at(lon: float, lat: float) -> str:
    """The IANA time zone of a WGS-84 point (timezonefinder's offline polygons).

    Raises
    ------
    ValidationError
        When the point lies in no zone (open sea): name one with ``--timezone``.
    """
    from timezonefinder import TimezoneFinder

    found = TimezoneFinder().timezone_at(lng=lon, lat=lat)
    if found is None:
        msg = f"no time zone is known at {lat:.4f}, {lon:.4f}: give one with --timezone"
        raise ValidationError(msg)
    return str(found)


def checked_zone(name: str) -> str:
    """``name`` when it is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown time zone {name!r} (use an IANA name such as Europe/Helsinki)"
        raise ValidationError(msg) from exc
    return name


def read_outline(path: Path) -> BaseGeometry:
    """The union of the polygons in a file (any CRS GDAL reads), in WGS-84."""
    frame = _read_layer(path, "boundary")
    polygons = frame.geometry[frame.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        msg = f"{Path(path).name} holds no polygon: the boundary must be a polygon"
        raise ValidationError(msg)
    outline = shapely.make_valid(polygons.union_all())
    if outline.is_empty or outline.area == 0:
        msg = f"{Path(path).name}: the boundary polygon is empty"
        raise ValidationError(msg)
    return outline


def _read_layer(path: Path, what: str) -> gpd.GeoDataFrame:
    if not Path(path).is_file():
        msg = f"no such {what} file: {path}"
        raise ValidationError(msg)
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # GDAL's message names the problem
        msg = f"{Path(path).name} cannot be read as a {what} layer: {exc}"
        raise ValidationError(msg) from exc
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(4326)


def area_towns(
    outline: BaseGeometry,
    metric_srid: int,
    towns: Path | None,
    *,
    people_per_km2: float = DEFAULT_PEOPLE_PER_KM2,
    cell_km: float | None = None,
) -> tuple[gpd.GeoDataFrame, str, str]:
    """The region's areas: the user's towns, or squares over the outline.

    Returns
    -------
    (GeoDataFrame, str, str)
        Rows with ``code``, ``name``, ``district``, ``population`` and polygons (WGS-84),
        where the towns came from, and where their people came from.
    """
    metric = f"EPSG:{metric_srid}"
    if towns is None:
        if cell_km is None:  # about SQUARES_WANTED squares, between 250 m and 5 km a side
            area_m2 = gpd.GeoSeries([outline], crs=4326).to_crs(metric).area.iloc[0]
            cell_km = float(np.clip(np.sqrt(area_m2 / SQUARES_WANTED), 250, 5000)) / 1000.0
        frame = _squares(outline, metric, cell_km * 1000.0)
        source = f"squares of {cell_km:.2g} km over the outline (no towns were given)"
    else:
        frame = _user_towns(_read_layer(towns, "towns"), Path(towns).name)
        source = f"{Path(towns).name} (the user's file)"
    km2 = frame.to_crs(metric).area.to_numpy() / 1e6
    if "population" in frame and frame["population"].notna().all():
        population_source = "the towns file"
    else:
        estimate = np.round(km2 * people_per_km2)
        given = np.asarray(frame.get("population", estimate), dtype=float)
        frame["population"] = np.where(np.isnan(given), estimate, given)
        population_source = f"estimated: area x {people_per_km2:g} people/km2 (not a census)"
    frame["population"] = frame["population"].astype(float).round().astype(int)
    return frame, source, population_source


def _squares(outline: BaseGeometry, metric: str, size_m: float) -> gpd.GeoDataFrame:
    shape = gpd.GeoSeries([outline], crs=4326).to_crs(metric).iloc[0]
    x0, y0, x1, y1 = shape.bounds
    cols, rows = max(int(np.ceil((x1 - x0) / size_m)), 1), max(int(np.ceil((y1 - y0) / size_m)), 1)
    names, cells = [], []
    for r in range(rows):
        for c in range(cols):
            box = shapely.box(
                x0 + c * size_m, y1 - (r + 1) * size_m, x0 + (c + 1) * size_m, y1 - r * size_m
            )
            piece = box.intersection(shape)
            if piece.area >= MIN_CELL_SHARE * size_m * size_m:
                names.append(f"{_column_letters(c)}{r + 1}")
                cells.append(piece)
    frame = gpd.GeoDataFrame({"name": names}, geometry=cells, crs=metric).to_crs(4326)
    frame["code"] = [f"{SQUARE_PREFIX}{n}" for n in names]
    frame["district"] = None
    return frame


def _column_letters(i: int) -> str:
    letters = string.ascii_uppercase
    return (
        letters[i]
        if i < len(letters)
        else letters[i // len(letters) - 1] + letters[i % len(letters)]
    )


def _user_towns(frame: gpd.GeoDataFrame, file_name: str) -> gpd.GeoDataFrame:
    frame = frame[frame.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    if frame.empty or "name" not in frame:
        msg = f"{file_name}: towns need polygons and a 'name' column"
        raise ValidationError(msg)
    names = frame["name"].astype(str).str.strip()
    if (names == "").any() or names.str.len().max() > 50:
        msg = f"{file_name}: every town needs a name of at most 50 characters"
        raise ValidationError(msg)
    codes = (
        frame["code"].astype(str)
        if "code" in frame
        else [f"T{i + 1:03d}" for i in range(len(frame))]
    )
    out = gpd.GeoDataFrame(
        {"code": list(codes), "name": names}, geometry=frame.geometry.make_valid(), crs=4326
    )
    if out["code"].duplicated().any() or out["code"].str.len().max() > 12:
        msg = f"{file_name}: town codes must be unique and at most 12 characters"
        raise ValidationError(msg)
    out["district"] = frame["district"].astype(str) if "district" in frame else None
    if "population" in frame:
        out["population"] = frame["population"].astype(float)
    return out


def region_notice(spec: RegionSpec, lang: str = "en") -> str:
    """What answers, pages and maps say of a region's data (``zh`` or ``en``)."""
    squares = spec.towns_source.startswith("squares")
    estimated = spec.population_source.startswith("estimated")
    if lang == "zh":
        towns = "片区为覆盖全域的方格（未提供镇街）" if squares else "片区来自用户文件"
        people = "，人口按面积估算（非普查）" if estimated else ""
        return (
            f"{spec.title}：道路来自 OpenStreetMap（© OpenStreetMap 贡献者，ODbL）；"
            f"{towns}{people}；驿站为工会自己的数据"
        )
    people = f" Town populations are {spec.population_source}." if estimated else ""
    return (
        f"Region {spec.title}: roads from OpenStreetMap (© OpenStreetMap contributors, ODbL); "
        f"towns: {spec.towns_source}; stations are the union's own data.{people}"
    )


@lru_cache(maxsize=8)
def region_frame(folder: Path) -> tuple[RegionSpec, tuple[float, float, int]]:
    """A region's spec, and where a map of it opens: centre ``(lat, lon)`` and a zoom."""
    spec = RegionSpec.read(folder)
    x0, y0, x1, y1 = gpd.read_file(folder / "boundary.geojson", engine="pyogrio").total_bounds
    span = max(x1 - x0, (y1 - y0) * 2.0, 1e-4)  # a map is about twice as wide as tall
    zoom = int(np.clip(np.floor(np.log2(360.0 / span)) + 1, 3, 17))
    return spec, (float(y0 + y1) / 2.0, float(x0 + x1) / 2.0, zoom)


def regions_of(regions_dir: Path) -> list[RegionSpec]:
    """The regions made with :func:`create_region`, by name."""
    if not regions_dir.is_dir():
        return []
    return [
        RegionSpec.read(folder)
        for folder in sorted(regions_dir.iterdir())
        if (folder / REGION_FILE).is_file()
    ]


@dataclass(frozen=True)
class RegionFiles:
    """The user's files a region is made from (``None``: left out)."""

    network: Path
    boundary: Path | None = None
    towns: Path | None = None
    stations: Path | None = None


def create_region(
    regions_dir: Path,
    name: str,
    files: RegionFiles,
    *,
    cache_dir: Path,
    title: str | None = None,
    timezone: str | None = None,
    people_per_km2: float = DEFAULT_PEOPLE_PER_KM2,
    cell_km: float | None = None,
    language: str | None = None,
    navigation: Sequence[str] | None = None,
) -> RegionSpec:
    """Build a region in a scratch folder and move it into place only when all of it works.

    The road network is built first (osmnx, then the compiled arrays), so a file that cannot
    be routed on is refused before anything exists; a clipped extract is repaired on the way.

    Parameters
    ----------
    regions_dir
        Where regions are kept (``Settings.regions_dir``).
    name
        The new region's name.
    files
        The outline, network, towns and stations files.
    cache_dir
        The compiled-graph cache (shared with the server, so that it starts at once).
    title, timezone
        Shown name and IANA zone (default: the name, the zone of the centroid).
    people_per_km2, cell_km
        Used when towns are left out or carry no population (squares: about 25 by default).
    language, navigation
        The pages' language and the riders' navigation apps (default: by the time zone,
        see :func:`local_defaults`).

    Raises
    ------
    ValidationError
        A bad name, an existing region, or a file that cannot be used (nothing is written).
    """
    target = region_folder(regions_dir, name)
    if (target / REGION_FILE).exists():
        msg = f"region {name!r} exists already ({target})"
        raise ValidationError(msg)
    if not Path(files.network).is_file():
        msg = f"no such OSM file: {files.network}"
        raise ValidationError(msg)
    check_expansion(Path(files.network))
    regions_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=regions_dir))
    try:
        network = scratch / Path(files.network).name
        shutil.copyfile(files.network, network)
        if files.boundary is not None:
            outline = read_outline(files.boundary)
        else:  # the extract's hull, from the osmnx graph (cached: compiled once, below)
            graph = load_graph(network, cache_dir=cache_dir)
            lon_lat = [(d["x"], d["y"]) for _, d in graph.nodes(data=True)]
            outline = shapely.MultiPoint(lon_lat).convex_hull
            del graph
        lon, lat = outline.centroid.x, outline.centroid.y
        srid = int(utm_crs(lon, lat).split(":")[1])
        load_compiled(network, cache_dir=cache_dir, crs=f"EPSG:{srid}")  # the server's arrays
        gpd.GeoDataFrame({"name": [title or name]}, geometry=[outline], crs=4326).to_file(
            scratch / "boundary.geojson", driver="GeoJSON", engine="pyogrio"
        )
        towns, towns_source, population_source = area_towns(
            outline, srid, files.towns, people_per_km2=people_per_km2, cell_km=cell_km
        )
        towns.to_file(scratch / "towns.geojson", driver="GeoJSON", engine="pyogrio")
        stations = None
        if files.stations is not None:
            if not Path(files.stations).is_file():
                msg = f"no such stations file: {files.stations}"
                raise ValidationError(msg)
            stations = "stations" + "".join(Path(files.stations).suffixes)
            shutil.copyfile(files.stations, scratch / stations)
        zone = checked_zone(timezone) if timezone else zone_at(lon, lat)
        spec = RegionSpec(
            name=name,
            title=title or name,
            metric_srid=srid,
            timezone=zone,
            network=network.name,
            towns_source=towns_source,
            population_source=population_source,
            stations=stations,
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            **asdict(checked_locale(language, navigation, zone)),
        )
        spec.write(scratch)
        if target.exists():
            shutil.rmtree(target)
        scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return spec


def remove_region(regions_dir: Path, name: str) -> None:
    """Delete a region's folder (its database stays until dropped)."""
    target = region_folder(regions_dir, name)
    if not (target / REGION_FILE).exists():
        msg = f"no region named {name!r}"
        raise ValidationError(msg)
    shutil.rmtree(target)
