"""Public feature collections for OGC API Features: what each layer exposes and how to query it.

Only public fields are exposed; generated layers say so in their description and in a
``synthetic`` property on every feature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import NotFoundError
from geo.hours import utc_iso


@dataclass(frozen=True)
class Collection:
    """A layer: its id, titles, the SQL of its public fields, and its geometry column."""

    id: str
    title: str
    description: str
    table: str
    columns: str
    geom: str = "geom"
    join: str = ""


COLLECTIONS = {
    c.id: c
    for c in (
        Collection(
            "districts",
            "Districts 区/县级市",
            "The 7 county-level units (real boundaries, AutoNavi data converted to WGS-84).",
            "districts",
            "t.adcode, t.name, t.name_en, t.area_km2",
        ),
        Collection(
            "towns",
            "Towns and streets 镇/街道",
            "The 73 township-level units: official codes "
            "and names; areas, seats and most populations are generated (synthetic).",
            "towns",
            "t.code, t.name, t.kind, t.population, t.population_source, t.seat_source, "
            "t.area_synthetic AS synthetic",
            geom="area",
        ),
        Collection(
            "stations",
            "Stations 驿站",
            "Outdoor-worker rest stations and worker-service "
            "centres (sample: synthetic locations).",
            "stations",
            "t.name, t.kind, t.address, t.amenities, t.opening_hours, t.status, t.synthetic, "
            "t.updated_at",
        ),
        Collection(
            "grids",
            "Grids 网格",
            "Grid areas of the rights-protection team (synthetic).",
            "grids",
            "t.code, tw.name AS town, t.synthetic",
            join="JOIN towns tw ON tw.id = t.town_id",
        ),
        Collection(
            "workplaces",
            "Workplaces 基层工会",
            "Workplaces with a grassroots union and their member counts (synthetic).",
            "workplaces",
            "t.code, t.name, t.sector, t.members, t.synthetic",
        ),
    )
}


def collection(collection_id: str) -> Collection:
    """A collection by id (404 when unknown)."""
    if collection_id not in COLLECTIONS:
        msg = f"collection {collection_id!r} not found; available: {', '.join(COLLECTIONS)}"
        raise NotFoundError(msg)
    return COLLECTIONS[collection_id]


def extent(conn: Connection, c: Collection) -> list[float] | None:
    """The bounding box of a collection (WGS-84)."""
    row = conn.execute(
        text(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent(t.{c.geom}) AS e FROM {c.table} t) q"
        )
    ).first()
    return None if row is None or row[0] is None else [float(v) for v in row]


def items(
    conn: Connection,
    c: Collection,
    *,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Features of a collection (GeoJSON dicts) intersecting ``bbox``, and how many match."""
    where, args = "TRUE", {}
    if bbox is not None:
        where = f"t.{c.geom} && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
        args = dict(zip(("x0", "y0", "x1", "y1"), bbox, strict=True))
    total = conn.scalar(text(f"SELECT count(*) FROM {c.table} t WHERE {where}"), args) or 0
    rows = conn.execute(
        text(
            f"SELECT t.id, {c.columns}, {_geojson(c)} AS geometry FROM {c.table} t "
            f"{c.join} WHERE {where} ORDER BY t.id LIMIT :limit OFFSET :offset"
        ),
        {**args, "limit": limit, "offset": offset},
    )
    return [_feature(r._mapping) for r in rows], int(total)


def item(conn: Connection, c: Collection, feature_id: int) -> dict[str, Any]:
    """One feature by id."""
    row = conn.execute(
        text(
            f"SELECT t.id, {c.columns}, {_geojson(c)} AS geometry FROM {c.table} t "
            f"{c.join} WHERE t.id = :id"
        ),
        {"id": feature_id},
    ).first()
    if row is None:
        msg = f"feature {feature_id} not found in {c.id}"
        raise NotFoundError(msg)
    return _feature(row._mapping)


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


def _geojson(c: Collection) -> str:
    """GeoJSON of a layer's geometry, rings wound counter-clockwise as RFC 7946 asks."""
    return f"ST_AsGeoJSON(ST_ForcePolygonCCW(t.{c.geom}), 7)"
