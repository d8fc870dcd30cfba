"""Stations as GeoJSON: one station, a filtered collection, and a station with its route."""

from __future__ import annotations

from geojson_pydantic import Feature, FeatureCollection, Point
from pydantic import BaseModel

from api.schemas.common import DATA_NOTICE, UtcTime


class StationProperties(BaseModel):
    """What the API tells of a station."""

    name: str
    kind: str
    address: str | None = None
    amenities: list[str]
    opening_hours: str
    status: str
    phone: str | None = None
    town_code: str | None = None
    town_name: str | None = None
    synthetic: bool
    source: str | None = None
    version: int
    created_at: UtcTime | None = None
    updated_at: UtcTime | None = None


StationFeature = Feature[Point, StationProperties]


class StationCollection(FeatureCollection[StationFeature]):
    """Stations matching a filter, a page of them, with how many match in all."""

    numberMatched: int  # noqa: N815 (OGC's name)
    numberReturned: int  # noqa: N815
    data_notice: str = DATA_NOTICE
