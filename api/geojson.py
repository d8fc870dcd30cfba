"""GeoJSON shaping of answers, in the caller's coordinate system."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.responses import JSONResponse

from geo.coords import CoordSystem, from_wgs84
from geo.hours import utc_iso


class GeoJSONResponse(JSONResponse):
    """A JSON answer that is GeoJSON (RFC 7946's media type)."""

    media_type = "application/geo+json"


DATA_NOTICE = (
    "Sample data: stations, grids, members and roads are synthetic (generated), not real records."
)


def point(lon: float, lat: float, coord: CoordSystem) -> dict[str, Any]:
    """A GeoJSON Point, converted from WGS-84 to ``coord``."""
    x, y = from_wgs84(lon, lat, coord)
    return {"type": "Point", "coordinates": [round(float(x), 7), round(float(y), 7)]}


def linestring(coords: np.ndarray, coord: CoordSystem) -> dict[str, Any]:
    """A GeoJSON LineString from WGS-84 ``(n, 2)`` coordinates."""
    x, y = from_wgs84(coords[:, 0], coords[:, 1], coord)
    return {"type": "LineString", "coordinates": np.round(np.column_stack([x, y]), 7).tolist()}


def geometry(geom: Any, coord: CoordSystem) -> dict[str, Any]:
    """Any shapely geometry (WGS-84) as GeoJSON in ``coord``, rings wound as RFC 7946 asks.

    (Exterior rings counter-clockwise, holes clockwise.)
    """
    import shapely

    if coord != "wgs84":
        geom = shapely.transform(
            geom, lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], coord))
        )
    # orient last: snapping to the grid may rewrite the rings
    geom = shapely.orient_polygons(shapely.set_precision(geom, 1e-7))
    out: dict[str, Any] = shapely.geometry.mapping(geom)
    return out


def station_feature(row: dict[str, Any], coord: CoordSystem) -> dict[str, Any]:
    """A station row as a GeoJSON Feature."""
    props = {
        k: row.get(k)
        for k in (
            "name",
            "kind",
            "address",
            "amenities",
            "opening_hours",
            "status",
            "phone",
            "town_code",
            "town_name",
            "synthetic",
            "source",
            "version",
        )
    }
    for k in ("created_at", "updated_at"):
        if row.get(k) is not None:
            props[k] = utc_iso(row[k])
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": point(row["lon"], row["lat"], coord),
        "properties": props,
    }
