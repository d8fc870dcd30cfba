"""Exports of tables and layers: JSON/GeoJSON, CSV and GeoPackage."""

from __future__ import annotations

import io
import json
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from fastapi.responses import Response

from geo.coverage.analysis import to_records


def frame_response(df: pd.DataFrame, name: str, fmt: str) -> Response:
    """A table as CSV (UTF-8 with BOM, so Excel reads Chinese names) or JSON."""
    if fmt == "csv":
        data = df.to_csv(index=False).encode("utf-8-sig")
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(json.dumps(to_records(df), ensure_ascii=False), media_type="application/json")


def geo_response(gdf: gpd.GeoDataFrame, name: str, fmt: str, *, notice: str = "") -> Response:
    """A layer as GeoJSON, CSV (geometry as WKT) or GeoPackage."""
    flat = gdf.copy()
    for col in flat.columns:
        if col != flat.geometry.name and flat[col].map(lambda v: isinstance(v, list)).any():
            flat[col] = flat[col].map(lambda v: ";".join(map(str, v)) if isinstance(v, list) else v)
    if fmt == "csv":
        table = pd.DataFrame(flat.drop(columns=flat.geometry.name)).assign(
            wkt=flat.geometry.to_wkt()
        )
        return frame_response(table, name, "csv")
    if fmt == "gpkg":
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.gpkg"
            flat.to_file(path, driver="GPKG", layer=name, engine="pyogrio")
            data = path.read_bytes()
        return Response(
            data,
            media_type="application/geopackage+sqlite3",
            headers={"Content-Disposition": f'attachment; filename="{name}.gpkg"'},
        )
    wound = gdf.set_geometry(shapely.orient_polygons(gdf.geometry.to_numpy()), crs=gdf.crs)
    body = json.loads(wound.to_json(na="null", show_bbox=False, drop_id=True))
    if notice:
        body["data_notice"] = notice
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(header: list[str], rows: list[list[object]], name: str) -> Response:
    """A table as an Excel workbook (``.xlsx``), the header bold and frozen.

    Text that looks like a formula (``=``, ``+``, ``-``, ``@`` first) is written with a leading
    apostrophe, so that a hostile report cannot run in the reader's spreadsheet; control
    characters (which no workbook may hold) are left out.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_inert(v) for v in row])
    sheet.freeze_panes = "A2"
    for i, title in enumerate(header, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = max(10, 2 * len(title) + 4)
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )


#: characters an .xlsx cell cannot hold (XML 1.0 forbids them); openpyxl refuses the workbook
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _inert(value: object) -> object:
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)  # one hostile report must not break the whole export
    if value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
