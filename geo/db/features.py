"""Public feature layers as SQLAlchemy Core queries: each layer's public columns and geometry.

Only public fields are selected; the OGC API room (:mod:`geo.ogc`) names and describes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, FromClause, Select, func, select

from geo.db import models as m
from geo.hours import utc_iso


@dataclass(frozen=True)
class Layer:
    """A table's public columns, its geometry column and what it joins for them."""

    table: FromClause
    columns: tuple[Any, ...]  # mapped columns or labels; the first is the feature id
    geom: Any
    join: Callable[[Select[Any]], Select[Any]] = lambda q: q


def _layers() -> dict[str, Layer]:
    d, t, s, g, w = m.District, m.Town, m.Station, m.Grid, m.Workplace
    return {
        "districts": Layer(d.__table__, (d.id, d.adcode, d.name, d.name_en, d.area_km2), d.geom),
        "towns": Layer(
            t.__table__,
            (
                t.id,
                t.code,
                t.name,
                t.kind,
                t.population,
                t.population_source,
                t.seat_source,
                t.area_synthetic.label("synthetic"),
            ),
            t.area,
        ),
        "stations": Layer(
            s.__table__,
            (
                s.id,
                s.name,
                s.kind,
                s.address,
                s.amenities,
                s.opening_hours,
                s.status,
                s.synthetic,
                s.updated_at,
            ),
            s.geom,
        ),
        "grids": Layer(
            g.__table__,
            (g.id, g.code, t.name.label("town"), g.synthetic),
            g.geom,
            join=lambda q: q.join(t, t.id == g.town_id),
        ),
        "workplaces": Layer(
            w.__table__, (w.id, w.code, w.name, w.sector, w.members, w.synthetic), w.geom
        ),
    }


LAYERS = _layers()


def extent(conn: Connection, layer: str) -> list[float] | None:
    """The bounding box of a layer (WGS-84), or None when it is empty."""
    geom = LAYERS[layer].geom
    box = select(func.ST_Extent(geom).label("e")).subquery()
    row = conn.execute(
        select(
            func.ST_XMin(box.c.e),
            func.ST_YMin(box.c.e),
            func.ST_XMax(box.c.e),
            func.ST_YMax(box.c.e),
        )
    ).first()
    return None if row is None or row[0] is None else [float(v) for v in row]


def _features(layer: Layer) -> Select[Any]:
    geometry = func.ST_AsGeoJSON(func.ST_ForcePolygonCCW(layer.geom), 7).label("geometry")
    return layer.join(select(*layer.columns, geometry))


def features(
    conn: Connection,
    layer: str,
    *,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Features of a layer (GeoJSON dicts) intersecting ``bbox``, and how many match."""
    spec = LAYERS[layer]
    key = spec.columns[0]
    q = _features(spec)
    count = select(func.count()).select_from(spec.table)
    if bbox is not None:
        touches = spec.geom.op("&&")(func.ST_MakeEnvelope(*bbox, 4326))
        q, count = q.where(touches), count.where(touches)
    total = conn.scalar(count) or 0
    rows = conn.execute(q.order_by(key).limit(limit).offset(offset))
    return [_feature(r._mapping) for r in rows], int(total)


def feature(conn: Connection, layer: str, feature_id: int) -> dict[str, Any] | None:
    """One feature by id, or None."""
    spec = LAYERS[layer]
    row = conn.execute(_features(spec).where(spec.columns[0] == feature_id)).first()
    return None if row is None else _feature(row._mapping)


def _feature(row: Any) -> dict[str, Any]:
    props = {
        k: (utc_iso(v) if isinstance(v, datetime) else v)
        for k, v in row.items()
        if k not in ("id", "geometry")
    }
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geometry"]),
        "properties": props,
    }
