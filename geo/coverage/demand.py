"""Demand layers: where the people (and union members) are who stations should serve.

* **Population on hexagons.** A hexagonal grid (flat-topped, equal-area in the towns' UTM zone) over
  the city; each town's population is spread over the cells whose centre lies in the town,
  in proportion to ``exp(-d / s)`` where ``d`` is the distance to the town seat and
  ``s = sqrt(town area) / 4`` — people concentrate around seats, thin out towards the edges.
  The cells of a town sum exactly to the town's population.
* **Workplaces** (grassroots unions) with their member counts.
* **Your own points** from CSV (``lon``, ``lat`` and a weight column) or GeoJSON, read with
  an error per bad row instead of failing the whole file.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import ValidationError


@dataclass(frozen=True)
class Demand:
    """Demand points (WGS-84) with weights and the areas they belong to.

    ``frame`` has ``lon``, ``lat``, ``weight`` and, where known, ``town_code``,
    ``district_adcode``; ``cells`` optionally holds a polygon per point (hexagons).
    """

    name: str
    frame: pd.DataFrame
    cells: gpd.GeoSeries | None = None

    def __len__(self) -> int:
        return len(self.frame)


def hex_grid(polygon: Any, size_m: float, crs: str | None = None) -> gpd.GeoDataFrame:
    """Flat-topped hexagons of circumradius ``size_m`` whose centres fall inside ``polygon``.

    ``polygon`` and the result are in the metric CRS ``crs``; ``cell_id`` is ``"q_r"``.
    """
    w, h = 1.5 * size_m, math.sqrt(3) * size_m
    minx, miny, maxx, maxy = polygon.bounds
    cols = np.arange(int(minx // w) - 1, int(maxx // w) + 2)
    rows = np.arange(int(miny // h) - 1, int(maxy // h) + 2)
    qq, rr = np.meshgrid(cols, rows)
    q, r = qq.ravel(), rr.ravel()
    cx = q * w
    cy = r * h + np.where(q % 2 == 1, h / 2, 0.0)
    shapely.prepare(polygon)
    inside = shapely.contains_xy(polygon, cx, cy)
    q, r, cx, cy = q[inside], r[inside], cx[inside], cy[inside]
    angles = np.deg2rad(np.arange(0, 360, 60))
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1) * size_m
    coords = np.concatenate([ring[None, :, :] + np.stack([cx, cy], axis=1)[:, None, :]], axis=0)
    hexes = shapely.polygons(coords)
    return gpd.GeoDataFrame(
        {"cell_id": [f"{a}_{b}" for a, b in zip(q, r, strict=True)], "x": cx, "y": cy},
        geometry=hexes,
        crs=crs,
    )


#: the smallest hexagon population is spread over (m, circumradius)
MIN_HEX_M = 50.0


def population_hexes(towns: gpd.GeoDataFrame, *, size_m: float = 600.0) -> Demand:
    """Spread each town's population over hexagons (see the module docstring).

    Parameters
    ----------
    towns
        Towns with ``code``, ``district_adcode``, ``population``, ``seat_lon``, ``seat_lat``
        and their area as geometry (any CRS).
    size_m
        Hexagon circumradius (600 m gives cells of about 0.94 km²); smaller where the smallest
        towns would otherwise hold too few cells (a third of the side of the 10th-percentile
        town, at least 50 m), so that a city of small areas keeps its people.
    """
    metric = towns.estimate_utm_crs().to_string()  # the towns' own UTM zone
    towns_m = towns.to_crs(metric)
    small_side = float(np.sqrt(np.quantile(towns_m.area.to_numpy(), 0.1)))
    size_m = float(np.clip(small_side / 3, MIN_HEX_M, size_m))
    grid = hex_grid(towns_m.geometry.union_all(), size_m, metric)
    joined = gpd.sjoin(
        gpd.GeoDataFrame(
            grid[["cell_id"]], geometry=gpd.points_from_xy(grid["x"], grid["y"]), crs=metric
        ),
        towns_m[["code", "district_adcode", "population", "geometry"]],
        predicate="within",
        how="inner",
    ).drop_duplicates("cell_id")
    grid = grid.merge(joined[["cell_id", "code", "district_adcode", "population"]], on="cell_id")
    seats = gpd.GeoSeries(gpd.points_from_xy(towns["seat_lon"], towns["seat_lat"]), crs=4326)
    seat_xy = dict(zip(towns["code"], shapely.get_coordinates(seats.to_crs(metric)), strict=True))
    scale = dict(zip(towns_m["code"], np.sqrt(towns_m.area) / 4, strict=True))
    d = np.hypot(
        grid["x"] - grid["code"].map(lambda c: seat_xy[c][0]),
        grid["y"] - grid["code"].map(lambda c: seat_xy[c][1]),
    )
    grid["w"] = np.exp(-d / grid["code"].map(scale))
    grid["weight"] = grid["population"] * grid["w"] / grid.groupby("code")["w"].transform("sum")
    centres = gpd.GeoSeries(gpd.points_from_xy(grid["x"], grid["y"]), crs=metric).to_crs(4326)
    frame = pd.DataFrame(
        {
            "id": grid["cell_id"],
            "lon": centres.x.to_numpy(),
            "lat": centres.y.to_numpy(),
            "weight": grid["weight"].to_numpy(),
            "town_code": grid["code"].to_numpy(),
            "district_adcode": grid["district_adcode"].to_numpy(),
        }
    )
    cells = gpd.GeoSeries(grid.geometry.to_numpy(), crs=metric).to_crs(4326)
    return Demand("population", frame, cells)


def workplace_demand(workplaces: pd.DataFrame) -> Demand:
    """Workplaces as demand, weighted by union members (``lon``, ``lat``, ``members``...)."""
    frame = pd.DataFrame(
        {
            "id": workplaces["code"],
            "lon": workplaces["lon"],
            "lat": workplaces["lat"],
            "weight": workplaces["members"].astype(float),
            "town_code": workplaces["town_code"],
            "district_adcode": workplaces["district_adcode"],
        }
    )
    return Demand("workplaces", frame.reset_index(drop=True))


@dataclass(frozen=True)
class RowError:
    """A row of an imported file that was not accepted, and why."""

    row: int
    message: str


def read_demand_points(
    content: bytes, *, fmt: str, weight_column: str = "weight"
) -> tuple[Demand, list[RowError]]:
    """Read demand points from CSV (``lon``, ``lat``, weight) or GeoJSON (Point features).

    Bad rows (missing or non-numeric coordinates, coordinates out of range, negative or
    missing weight, non-point geometry) are reported with their row number (1-based, data
    rows) and skipped; the good rows are returned.

    Raises
    ------
    ValidationError
        When the file as a whole cannot be read (not CSV/GeoJSON, no usable columns).
    """
    records: list[dict[str, Any]] = []
    errors: list[RowError] = []
    if fmt == "csv":
        try:
            df = pd.read_csv(io.BytesIO(content), dtype=str)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            msg = f"not a readable CSV file: {exc}"
            raise ValidationError(msg) from exc
        missing = [c for c in ("lon", "lat", weight_column) if c not in df.columns]
        if missing:
            msg = f"CSV needs the columns lon, lat and {weight_column}; missing {missing}"
            raise ValidationError(msg)
        rows = [
            (i + 1, r.get("lon"), r.get("lat"), r.get(weight_column), r.get("id"))
            for i, r in enumerate(df.to_dict("records"))
        ]
    elif fmt == "geojson":
        try:
            data = json.loads(content)
            features = data["features"] if data.get("type") == "FeatureCollection" else None
        except (ValueError, AttributeError, KeyError) as exc:
            msg = f"not a GeoJSON FeatureCollection: {exc}"
            raise ValidationError(msg) from exc
        if not isinstance(features, list):
            msg = "GeoJSON must be a FeatureCollection with a list of features"
            raise ValidationError(msg)
        rows = []
        for i, f in enumerate(features):
            geom = (f or {}).get("geometry") or {}
            props = (f or {}).get("properties") or {}
            if geom.get("type") != "Point" or not isinstance(geom.get("coordinates"), list):
                errors.append(RowError(i + 1, "geometry must be a Point"))
                continue
            coords = geom["coordinates"] + [None, None]
            rows.append((i + 1, coords[0], coords[1], props.get(weight_column), f.get("id")))
    else:
        msg = f"unknown format {fmt!r}: use csv or geojson"
        raise ValidationError(msg)
    for row, lon, lat, weight, ident in rows:
        try:
            x, y, w = float(lon), float(lat), float(weight)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            errors.append(RowError(row, f"lon, lat and {weight_column} must be numbers"))
            continue
        if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
            errors.append(RowError(row, f"coordinates ({lon}, {lat}) out of range"))
        elif not math.isfinite(w) or w < 0:
            errors.append(RowError(row, f"{weight_column} must be a number ≥ 0"))
        else:
            records.append(
                {"id": str(ident if ident is not None else row), "lon": x, "lat": y, "weight": w}
            )
    frame = pd.DataFrame(records, columns=["id", "lon", "lat", "weight"])
    return Demand("imported", frame), errors


def candidate_points(fc: dict[str, Any], *, most: int = 2000) -> pd.DataFrame:
    """A planner's candidate sites (a GeoJSON FeatureCollection of points) as ``id, lon, lat``.

    Raises
    ------
    ValidationError
        When it is not a FeatureCollection, has more than ``most`` features, or any bad one
        (each named, up to ten).
    """
    if fc.get("type") != "FeatureCollection" or not isinstance(fc.get("features"), list):
        msg = "candidates must be a GeoJSON FeatureCollection"
        raise ValidationError(msg)
    if len(fc["features"]) > most:
        msg = f"at most {most} candidate sites"
        raise ValidationError(msg)
    weighted = [
        {**f, "properties": {**((f or {}).get("properties") or {}), "weight": 1}}
        if isinstance(f, dict)
        else f
        for f in fc["features"]
    ]
    demand, errors = read_demand_points(
        json.dumps({**fc, "features": weighted}).encode(), fmt="geojson"
    )
    if errors:
        msg = "; ".join(f"candidate {e.row}: {e.message}" for e in errors[:10])
        raise ValidationError(msg)
    return pd.DataFrame(demand.frame[["id", "lon", "lat"]].assign(source="supplied"))
