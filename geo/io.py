r"""Import the union's own stations, grid members and grids from CSV, Excel or GeoJSON.

Every row is checked before anything is written; a file with any bad row writes nothing and
returns every problem of every row, with row numbers as a spreadsheet shows them (the header
is row 1; for GeoJSON, feature numbers). A key repeated inside the file, latitude and
longitude that look swapped, CSVs saved as GB18030/GBK (Excel's default on Chinese Windows)
and simple Chinese opening hours ("每天8:00-18:00") are handled or explained. Rows are upserted by
their key — ``external_id`` for stations (rows without one are added), ``code`` for members
and grids — so importing the same file twice changes nothing.

Columns (``*`` required):

* **stations** (rest stations and service centres alike: ``kind`` tells them apart) —
  ``name``\\*, ``kind``\\*, ``lon``\\*, ``lat``\\* (or Point geometry), ``external_id``,
  ``address``, ``amenities`` (separated by ``;``), ``opening_hours`` (OSM syntax, default
  ``24/7``), ``status`` (``active``/``closed``/``planned``), ``phone``. A row with an
  ``address`` but no coordinates at all is no error: it is kept as a station that *needs a
  position* (counted in ``unplaced``) until staff place it on the map.
* **members** — ``code``\\*, ``name``\\*, ``town_code``\\* (12 digits), ``lon``\\*, ``lat``\\*
  (the base), ``grid_code``, ``skills`` (case categories, ``;``), ``capacity`` (default 10),
  ``on_leave`` (``true``/``false``), ``phone``.
* **grids** — ``code``\\*, ``town_code``\\*, and a Polygon/MultiPolygon geometry (GeoJSON) or
  a ``wkt`` column (CSV/Excel).
* **workplaces** (where union members work: a demand layer for coverage) — ``code``\\*,
  ``name``\\*, ``members``\\* (a whole number ≥ 0), ``lon``\\*, ``lat``\\* (or Point
  geometry), ``sector``.

Stations and workplaces are counted in the town their location falls in.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely import wkt as shapely_wkt
from sqlalchemy import Connection

from geo.coords import to_wgs84
from geo.coverage.demand import RowError
from geo.db import imports as db
from geo.db.load import ewkt
from geo.db.region import service_region
from geo.errors import ValidationError
from geo.hours_words import opening_hours_from_text
from geo.region import Region
from geo.sample.partition import as_multipolygon
from geo.validation import validate_lon_lat
from geo.vocabulary import IMPORT_KINDS, CoordSystem, StationStatus

KINDS = IMPORT_KINDS


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    kind: str
    rows: int
    inserted: int = 0
    updated: int = 0
    #: stations kept without a position (an address, no coordinates): staff place them
    unplaced: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file was written (no row had an error)."""
        return not self.errors


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, Excel (.xlsx) or GeoJSON file as a table (GeoJSON keeps its geometry)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path)
        if suffix in (".xlsx", ".xls"):
            _check_workbook(path)
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        if suffix in (".geojson", ".json"):
            return gpd.read_file(path)
    except Exception as exc:  # the readers raise many kinds of errors for broken files
        msg = f"{path.name} could not be read: {exc}"
        raise ValidationError(msg) from exc
    msg = f"{path.name}: use .csv, .xlsx or .geojson"
    raise ValidationError(msg)


#: the most a workbook's parts may expand to (a spreadsheet of stations is a few MB)
MAX_WORKBOOK_BYTES = 200 * 2**20


def _check_workbook(path: Path) -> None:
    """Refuse an .xlsx whose parts would expand beyond :data:`MAX_WORKBOOK_BYTES` (a zip bomb)."""
    if path.suffix.lower() != ".xlsx":
        return
    try:
        with zipfile.ZipFile(path) as book:
            expanded = sum(part.file_size for part in book.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        msg = f"{path.name} is not an Excel workbook (.xlsx)"
        raise ValidationError(msg) from exc
    if expanded > MAX_WORKBOOK_BYTES:
        msg = f"{path.name} expands to {expanded // 2**20} MB: more than a table of records"
        raise ValidationError(msg)


def _read_csv(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 (with or without BOM) or GB18030/GBK — Excel's default on Chinese Windows."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    msg = (
        f"{path.name} is in an encoding that cannot be read; in Excel choose "
        "“另存为 → CSV UTF-8（逗号分隔）” (Save as → CSV UTF-8) and import it again"
    )
    raise ValidationError(msg)


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _point(row: dict[str, Any], coord: CoordSystem) -> tuple[float, float]:
    geom = row.get("geometry")
    if geom is not None and not (isinstance(geom, float) and math.isnan(geom)):
        if geom.geom_type != "Point":
            msg = f"geometry must be a Point, not {geom.geom_type}"
            raise ValueError(msg)
        lon, lat = geom.x, geom.y
    else:
        lon, lat = _text(row, "lon"), _text(row, "lat")
    lon, lat = validate_lon_lat(lon, lat)
    wl, wa = to_wgs84(lon, lat, coord)
    return float(wl), float(wa)


def _list(row: dict[str, Any], key: str) -> list[str]:
    text = _text(row, key) or ""
    return sorted(
        {p.strip() for p in text.replace("，", ";").replace(",", ";").split(";") if p.strip()}
    )


def import_file(
    conn: Connection,
    kind: str,
    path: Path,
    *,
    coord: CoordSystem = CoordSystem.WGS84,
    station_kinds: Sequence[str],
    amenities: Sequence[str],
    categories: Sequence[str],
    metric_crs: str,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check every row of ``path`` and, if all are good, upsert them (see the module doc).

    Locations must lie in the service region (within its tolerance, measured in
    ``metric_crs``). ``progress`` is told ``(rows checked, rows)`` as the check goes.
    """
    if kind not in KINDS:
        msg = f"import kind must be one of {', '.join(KINDS)}"
        raise ValidationError(msg)
    table = read_table(path)
    area = service_region(conn, metric_crs)
    towns, grids = db.codes(conn)
    report = ImportReport(kind, len(table))
    values: list[dict[str, Any]] = []
    unplaced: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in table.to_dict("records")
    ]
    # row numbers as a spreadsheet shows them: the header is row 1 (GeoJSON: feature numbers)
    first = 1 if isinstance(table, gpd.GeoDataFrame) else 2
    key = "external_id" if kind == "stations" else "code"
    seen: dict[str, int] = {}
    for i, row in enumerate(records, start=first):
        if progress is not None:
            progress(i - first + 1, len(records))
        value = _text(row, key)
        if value is not None and value in seen:
            report.errors.append(RowError(i, f"{key} {value!r} repeats row {seen[value]}"))
            continue
        if value is not None:
            seen[value] = i
        placed = kind != "stations" or not needs_position(row)
        try:
            checked = _row(
                kind,
                row,
                coord=coord,
                area=area,
                towns=towns,
                grids=grids,
                station_kinds=station_kinds,
                amenities=amenities,
                categories=categories,
                locate=placed,
            )
        except (ValueError, ValidationError) as exc:
            report.errors.append(RowError(i, str(exc)))
            continue
        (values if placed else unplaced).append(checked)
    if report.errors or not (values or unplaced):
        return report
    _write(conn, kind, values, report)
    if unplaced:
        db.keep_unplaced(conn, unplaced)
        report.unplaced = len(unplaced)
    return report


def needs_position(row: dict[str, Any]) -> bool:
    """A station row with an address and no coordinates at all (no lon, lat or geometry)."""
    geom = row.get("geometry")
    no_geometry = geom is None or (isinstance(geom, float) and math.isnan(geom))
    no_lon_lat = _text(row, "lon") is None and _text(row, "lat") is None
    return no_geometry and no_lon_lat and _text(row, "address") is not None


class _Problems:
    """What is wrong with one row: every problem, not just the first."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    @contextmanager
    def check(self) -> Iterator[None]:
        try:
            yield
        except (ValueError, ValidationError) as exc:
            self.items.append(str(exc))

    def done(self) -> None:
        if self.items:
            raise ValueError("; ".join(self.items))


def _row(
    kind: str,
    row: dict[str, Any],
    *,
    coord: CoordSystem,
    area: Region | None,
    towns: dict[str, int],
    grids: dict[str, int],
    station_kinds: Sequence[str],
    amenities: Sequence[str],
    categories: Sequence[str],
    locate: bool = True,
) -> dict[str, Any]:
    p = _Problems()

    def need(key: str) -> str:
        value = _text(row, key)
        if value is None:
            p.add(f"{key} is required")
        return value or ""

    def swapped() -> bool:
        try:
            lon, lat = float(_text(row, "lon") or "nan"), float(_text(row, "lat") or "nan")
        except ValueError:
            return False
        return area is not None and area.covers(lat, lon)

    def located() -> str:
        hint = " — latitude and longitude look swapped"
        try:
            lon, lat = _point(row, coord)
        except (ValueError, ValidationError) as exc:
            if swapped():
                raise ValueError(f"{exc}{hint}") from exc
            raise
        if area is not None and not area.covers(lon, lat):
            msg = f"({lon:.6f}, {lat:.6f}) is outside the service region"
            raise ValueError(msg + (hint if swapped() else ""))
        return f"SRID=4326;POINT({lon} {lat})"

    if kind == "stations":
        out: dict[str, Any] = {"name": need("name"), "kind": need("kind")}
        if out["kind"] and out["kind"] not in station_kinds:
            p.add(f"unknown kind {out['kind']!r} (known: {', '.join(station_kinds)})")
        amen = _list(row, "amenities")
        if set(amen) - set(amenities):
            p.add(f"unknown amenities {sorted(set(amen) - set(amenities))}")
        with p.check():
            out["opening_hours"] = opening_hours_from_text(_text(row, "opening_hours") or "24/7")
        status = _text(row, "status") or "active"
        if status not in StationStatus.codes():
            p.add(f"status must be one of {', '.join(StationStatus.codes())}")
        if locate:
            with p.check():
                out["geom"] = located()
        p.done()
        common = {
            "external_id": _text(row, "external_id"),
            "address": _text(row, "address"),
            "amenities": amen,
            "status": status,
            "phone": _text(row, "phone"),
            "source": "import",
        }
        return out | common | ({"synthetic": False, "version": 1} if locate else {})
    if kind == "workplaces":
        out = {"code": need("code"), "name": need("name"), "sector": _text(row, "sector")}
        members = _text(row, "members")
        if members is None:
            p.add("members is required")
        elif not (members.isascii() and members.isdigit()):
            p.add("members must be a whole number ≥ 0")
        with p.check():
            out["geom"] = located()
        p.done()
        return out | {"members": int(members or 0), "synthetic": False}
    town = need("town_code")
    if town and town not in towns:
        p.add(f"unknown town_code {town!r}")
    if kind == "members":
        out = {"code": need("code"), "name": need("name"), "town_id": towns.get(town)}
        grid = _text(row, "grid_code")
        if grid is not None and grid not in grids:
            p.add(f"unknown grid_code {grid!r}")
        skills = _list(row, "skills") or ["mediation", "other"]
        if set(skills) - set(categories):
            p.add(f"unknown skills {sorted(set(skills) - set(categories))}")
        capacity = _text(row, "capacity") or "10"
        if not capacity.isdigit():
            p.add("capacity must be a whole number ≥ 0")
        leave = (_text(row, "on_leave") or "false").lower()
        if leave not in ("true", "false", "1", "0", "yes", "no"):
            p.add("on_leave must be true or false")
        with p.check():
            out["base"] = located()
        p.done()
        return out | {
            "grid_id": grids.get(grid) if grid else None,
            "skills": skills,
            "capacity": int(capacity),
            "on_leave": leave in ("true", "1", "yes"),
            "phone": _text(row, "phone"),
            "synthetic": False,
        }
    code = need("code")
    with p.check():
        geom = _grid_polygon(row, coord, area)
    p.done()
    return {"code": code, "town_id": towns[town], "synthetic": False, "geom": ewkt(geom)}


def _grid_polygon(row: dict[str, Any], coord: CoordSystem, area: Region | None) -> Any:
    geom = row.get("geometry")
    if geom is None or (isinstance(geom, float) and math.isnan(geom)):
        text = _text(row, "wkt")
        if text is None:
            msg = "a grid needs a polygon geometry (GeoJSON) or a wkt column"
            raise ValueError(msg)
        try:
            geom = shapely_wkt.loads(text)
        except shapely.errors.GEOSException as exc:
            msg = f"wkt is not readable: {exc}"
            raise ValueError(msg) from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        msg = f"a grid must be a Polygon or MultiPolygon, not {geom.geom_type}"
        raise ValueError(msg)
    if not geom.is_valid:
        msg = f"invalid polygon: {shapely.is_valid_reason(geom)}"
        raise ValueError(msg)
    if coord != "wgs84":
        import numpy as np

        geom = shapely.transform(
            geom, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], coord))
        )
    if area is not None and not area.covers_geometry(geom):
        msg = "the grid lies (partly) outside the service region"
        raise ValueError(msg)
    return as_multipolygon(geom)


def _write(conn: Connection, kind: str, rows: list[dict[str, Any]], report: ImportReport) -> None:
    report.updated = db.upsert(conn, kind, "external_id" if kind == "stations" else "code", rows)
    report.inserted = len(rows) - report.updated
