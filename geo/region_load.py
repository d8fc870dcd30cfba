"""Load a region of the user's own (``yizhan region create``) into its database.

The outline becomes the service region, the towns (or squares) and their districts the areas
coverage is counted by, and the stations go through the same checks as ``yizhan import``.
One transaction: a station file with one bad row loads nothing. Loading again after nothing
changed does nothing (a checksum of the region's files, as for the sample).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
from sqlalchemy import Engine

from geo.custom_region import REGION_FILE, SQUARE_PREFIX, RegionSpec
from geo.db import models as m
from geo.db.load import (
    LoadReport,
    dataset_checksum,
    ewkt,
    record_datasets,
    upsert,
    upserted_ids,
)
from geo.errors import ValidationError
from geo.io import import_file
from geo.region import DEFAULT_TOLERANCE_M
from geo.sample.partition import as_multipolygon

#: the one district of a region whose towns name none
WHOLE_REGION = "R0"


def load_region(
    engine: Engine,
    folder: Path,
    *,
    station_kinds: Sequence[str],
    amenities: Sequence[str],
    categories: Sequence[str],
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Load the region in ``folder`` (``region.json`` and its files) into ``engine``.

    Raises
    ------
    ValidationError
        When the stations file has bad rows (they are listed; nothing is loaded).
    """
    say = progress or (lambda _msg: None)
    spec = RegionSpec.read(folder)
    names = [REGION_FILE, "boundary.geojson", "towns.geojson"]
    names += [spec.stations] if spec.stations else []
    digest = hashlib.sha256(b"".join((folder / n).read_bytes() for n in names)).hexdigest()
    report = LoadReport()
    with engine.begin() as conn:
        if dataset_checksum(conn, "region") == digest:
            report.unchanged.append("region")
            say(f"region {spec.name} unchanged since the last load: nothing to do")
            return report
        outline = gpd.read_file(folder / "boundary.geojson", engine="pyogrio").geometry.iloc[0]
        region_row = {
            "id": 1,
            "name": spec.title,
            "tolerance_m": DEFAULT_TOLERANCE_M,
            "geom": ewkt(as_multipolygon(outline)),
        }
        upsert(conn, m.ServiceRegion, [region_row], "id", report)
        towns = gpd.read_file(folder / "towns.geojson", engine="pyogrio")
        squares = bool(towns["code"].astype(str).str.startswith(SQUARE_PREFIX).all())
        towns["district"] = towns["district"].fillna(WHOLE_REGION).astype(str)
        metric = f"EPSG:{spec.metric_srid}"
        districts = towns.dissolve("district").reset_index()
        district_rows = [
            {
                "adcode": code[:12],
                "name": (spec.title if code == WHOLE_REGION else code)[:50],
                "name_en": None,
                "area_km2": float(area) / 1e6,
                "geom": ewkt(as_multipolygon(geom)),
            }
            for code, geom, area in zip(
                districts["district"],
                districts.geometry,
                districts.to_crs(metric).area,
                strict=True,
            )
        ]
        upsert(conn, m.District, district_rows, "adcode", report)
        district_id = upserted_ids(conn, m.District, "adcode")
        rows = [_town_row(r, district_id, spec) for r in towns.itertuples()]
        upsert(conn, m.Town, rows, "code", report)
        say(f"{len(district_rows)} districts and {len(rows)} towns ({spec.towns_source})")
        if spec.stations:
            imported = import_file(
                conn,
                "stations",
                folder / spec.stations,
                station_kinds=station_kinds,
                amenities=amenities,
                categories=categories,
                metric_crs=metric,
            )
            if not imported.ok:
                lines = "; ".join(f"row {e.row}: {e.message}" for e in imported.errors[:10])
                msg = f"{spec.stations}: {len(imported.errors)} rows have errors ({lines})"
                raise ValidationError(msg)
            report.counts["stations"] = imported.inserted + imported.updated
            say(f"{report.counts['stations']} stations loaded")
        source = f"the user's files ({spec.name}, {REGION_FILE})"
        record_datasets(
            conn,
            digest,
            report,
            name="region",
            real=frozenset(report.counts) - ({"towns", "districts"} if squares else set()),
            real_source=source,
            source=source,
        )
    return report


def _town_row(r: Any, district_id: dict[str, int], spec: RegionSpec) -> dict[str, Any]:
    seat = r.geometry.representative_point()
    squares = str(r.code).startswith(SQUARE_PREFIX)
    return {
        "code": str(r.code),
        "code9": str(r.code)[:9],
        "name": str(r.name),
        "short_name": str(r.name),
        "kind": "square" if squares else "town",
        "pinyin": None,
        "district_id": district_id[str(r.district)[:12]],
        "population": int(r.population),
        "population_source": spec.population_source[:40],
        "seat_source": "inside the area",
        "area_synthetic": squares,
        "seat": f"SRID=4326;POINT({seat.x} {seat.y})",
        "area": ewkt(as_multipolygon(r.geometry)),
    }
