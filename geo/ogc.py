"""Public feature collections for OGC API Features: what each layer exposes and how to query it.

Only public fields are exposed; generated layers say so in their description and in a
``synthetic`` property on every feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from geo.db import features as db
from geo.errors import NotFoundError


@dataclass(frozen=True)
class Collection:
    """A public layer: its id and titles (its query is in :mod:`geo.db.features`)."""

    id: str
    title: str
    description: str


COLLECTIONS = {
    c.id: c
    for c in (
        Collection(
            "districts",
            "Districts 区/县级市",
            "The 7 county-level units (real boundaries, AutoNavi data converted to WGS-84).",
        ),
        Collection(
            "towns",
            "Towns and streets 镇/街道",
            "The 73 township-level units: official codes "
            "and names; areas, seats and most populations are generated (synthetic).",
        ),
        Collection(
            "stations",
            "Stations 驿站",
            "Outdoor-worker rest stations and worker-service "
            "centres (sample: synthetic locations).",
        ),
        Collection(
            "grids",
            "Grids 网格",
            "Grid areas of the rights-protection team (synthetic).",
        ),
        Collection(
            "workplaces",
            "Workplaces 基层工会",
            "Workplaces with a grassroots union and their member counts (synthetic).",
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
    return db.extent(conn, c.id)


def items(
    conn: Connection,
    c: Collection,
    *,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Features of a collection (GeoJSON dicts) intersecting ``bbox``, and how many match."""
    return db.features(conn, c.id, bbox=bbox, limit=limit, offset=offset)


def item(conn: Connection, c: Collection, feature_id: int) -> dict[str, Any]:
    """One feature by id."""
    found = db.feature(conn, c.id, feature_id)
    if found is None:
        msg = f"feature {feature_id} not found in {c.id}"
        raise NotFoundError(msg)
    return found
