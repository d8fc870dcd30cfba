"""The API's coordinate edge: what callers send becomes WGS-84, what they get is in ``coord``.

:class:`Location` reads a point sent in any :class:`~geo.vocabulary.CoordSystem`; the shaping
functions below write WGS-84 geometry back in the caller's system. Nothing inside ``geo/``
sees anything but WGS-84.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from fastapi.responses import JSONResponse
from geojson_pydantic import Point

from api.schemas.stations import StationFeature, StationProperties
from geo.coords import from_wgs84, geometry_from_wgs84, to_wgs84
from geo.vocabulary import CoordSystem

#: decimals of route lines in riders' answers (six: about 10 cm, as a phone's map can show)
ROUTE_DECIMALS = 6


class GeoJSONResponse(JSONResponse):
    """A JSON answer that is GeoJSON (RFC 7946's media type)."""

    media_type = "application/geo+json"


class FastJSONResponse(JSONResponse):
    """JSON encoded by orjson, for riders' answers (many coordinates; every millisecond counts).

    A route returning one skips FastAPI's re-validation of its answer against the response
    model: the answer is built to the model, and schemathesis holds it to the documented
    schema in the tests.
    """

    def render(self, content: Any) -> bytes:  # noqa: D102
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


@dataclass(frozen=True)
class Location:
    """A point as the caller sent it: longitude and latitude in ``coord``."""

    lon: float
    lat: float
    coord: CoordSystem = CoordSystem.WGS84

    def wgs84(self) -> tuple[float, float]:
        """``(lon, lat)`` in WGS-84."""
        x, y = to_wgs84(self.lon, self.lat, self.coord)
        return float(x), float(y)


def point(lon: float, lat: float, coord: CoordSystem) -> dict[str, Any]:
    """A GeoJSON Point, converted from WGS-84 to ``coord``."""
    x, y = from_wgs84(lon, lat, coord)
    return {"type": "Point", "coordinates": [round(float(x), 7), round(float(y), 7)]}


def linestring(coords: np.ndarray, coord: CoordSystem) -> dict[str, Any]:
    """A GeoJSON LineString from WGS-84 ``(n, 2)`` coordinates."""
    x, y = from_wgs84(coords[:, 0], coords[:, 1], coord)
    return {"type": "LineString", "coordinates": np.round(np.column_stack([x, y]), 7).tolist()}


def linestrings(
    lines: Sequence[np.ndarray], coord: CoordSystem, *, decimals: int = ROUTE_DECIMALS
) -> list[dict[str, Any]]:
    """GeoJSON LineStrings from WGS-84 ``(n, 2)`` arrays, converted and rounded in one go.

    Their coordinates stay numpy arrays: for :func:`orjson.dumps` with ``OPT_SERIALIZE_NUMPY``
    (riders' answers), which writes them without a Python list per point.
    """
    if not lines:
        return []
    xy = np.concatenate(lines)
    x, y = from_wgs84(xy[:, 0], xy[:, 1], coord)
    out = np.round(np.column_stack([x, y]), decimals)
    cut = np.cumsum([len(line) for line in lines])[:-1]
    return [{"type": "LineString", "coordinates": part} for part in np.split(out, cut)]


def geometry(geom: Any, coord: CoordSystem) -> dict[str, Any]:
    """Any shapely geometry (WGS-84) as GeoJSON in ``coord``, rings wound as RFC 7946 asks.

    (Exterior rings counter-clockwise, holes clockwise.)
    """
    import shapely

    # orient last: snapping to the grid may rewrite the rings
    geom = shapely.orient_polygons(shapely.set_precision(geometry_from_wgs84(geom, coord), 1e-7))
    out: dict[str, Any] = shapely.geometry.mapping(geom)
    return out


def station_feature(row: dict[str, Any], coord: CoordSystem) -> StationFeature:
    """A station row as a GeoJSON Feature (its properties as :class:`StationProperties`)."""
    props = StationProperties(
        name=row["name"],
        kind=row["kind"],
        address=row.get("address"),
        amenities=row["amenities"],
        opening_hours=row["opening_hours"],
        status=row["status"],
        phone=row.get("phone"),
        town_code=row.get("town_code"),
        town_name=row.get("town_name"),
        synthetic=row["synthetic"],
        source=row.get("source"),
        version=row["version"],
        created_at=row.get("created_at"),
        updated_at=row.get("updated_at"),
        problem_reports_7d=int(row.get("problem_reports_7d") or 0),  # riders' word, if read
        confirmations_7d=int(row.get("confirmations_7d") or 0),
        last_confirmed_at=row.get("last_confirmed_at"),
    )
    return StationFeature(
        type="Feature",
        id=row["id"],
        geometry=Point.model_validate(point(row["lon"], row["lat"], coord)),
        properties=props,
    )
