"""Where a deployment keeps its road network files, and which one is active."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
from sqlalchemy import Engine

from geo.db.load import LoadReport, load_sample
from geo.errors import ValidationError
from geo.network import check_expansion, load_compiled
from geo.region_load import load_region
from geo.sample.build import read_sample_layer, write_sample_network
from geo.settings import Settings


def networks_dir(settings: Settings) -> Path:
    """Folder of the road network files (generated, downloaded or imported)."""
    return settings.state_dir / "networks"


def sample_network_path(settings: Settings) -> Path:
    """The generated sample network's OSM XML file."""
    return networks_dir(settings) / f"{settings.region}-synthetic.osm"


def active_network_path(settings: Settings) -> Path:
    """The network to serve: ``YIZHAN_NETWORK_FILE``, else the last imported, else the sample."""
    if settings.network_file is not None:
        return Path(settings.network_file)
    marker = networks_dir(settings) / "ACTIVE"
    if marker.exists():
        return Path(marker.read_text().strip())
    return sample_network_path(settings)


def set_active_network(settings: Settings, path: Path | None) -> None:
    """Make ``path`` the served network (``None``: back to the sample)."""
    marker = networks_dir(settings) / "ACTIVE"
    if path is None:
        marker.unlink(missing_ok=True)
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(Path(path).resolve()))


def import_network(settings: Settings, source: Path) -> Path:
    """Copy a user's OSM extract into the networks folder, build it, and only then activate it.

    A file that cannot be built (not OSM, no roads) is refused and removed, and the active
    network stays as it was; a clipped extract is repaired on the way (ways cut where their
    nodes are missing).
    """
    if not Path(source).is_file():
        msg = f"no such OSM file: {source}"
        raise ValidationError(msg)
    check_expansion(Path(source))
    target = networks_dir(settings) / Path(source).name
    target.parent.mkdir(parents=True, exist_ok=True)
    copied = Path(source).resolve() != target.resolve()
    if copied:
        shutil.copyfile(source, target)
    try:
        load_compiled(target, cache_dir=settings.cache_dir, crs=settings.metric_crs)
    except Exception:
        if copied:
            target.unlink(missing_ok=True)
        raise
    set_active_network(settings, target)
    return target


def load_region_data(
    engine: Engine, settings: Settings, *, progress: Callable[[str], None] | None = None
) -> LoadReport:
    """Load the served region into the database and make sure its road network exists.

    The shipped sample (``data/<region>``) with its generated roads, or a region made with
    ``yizhan region create`` (its outline, towns, stations and real extract).
    """
    if settings.custom_region:
        return load_region(
            engine,
            settings.region_dir,
            station_kinds=settings.station_kinds,
            amenities=settings.amenities,
            categories=settings.known_case_categories,
            progress=progress,
        )
    report = load_sample(engine, settings.region_dir, progress=progress)
    ensure_sample_network(settings)
    return report


def ensure_sample_network(settings: Settings) -> Path:
    """Generate the sample's road network if its file does not exist yet."""
    path = sample_network_path(settings)
    if not path.exists():
        towns = read_sample_layer(settings.region_dir / "synthetic", "towns")
        write_sample_network(settings.region_dir / "real", towns, path, seed=settings.sample_seed)
    return path


def city_outline(settings: Settings) -> gpd.GeoDataFrame:
    """The region's outline (EPSG:4326)."""
    if settings.custom_region:
        return gpd.read_file(settings.region_dir / "boundary.geojson")
    return gpd.read_file(
        settings.region_dir / "real" / f"{settings.region}_city_boundary_wgs84.geojson"
    )
