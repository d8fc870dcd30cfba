"""Stations as GeoJSON (one, a filtered collection, with a route), and those awaiting a place."""

from __future__ import annotations

from geojson_pydantic import Feature, FeatureCollection, Point
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import DATA_NOTICE, UtcTime
from geo.vocabulary import CoordSystem


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


class UnplacedStation(BaseModel):
    """A station imported with an address but no coordinates: it waits for staff to place it."""

    id: int
    external_id: str | None = None
    name: str
    kind: str
    address: str
    amenities: list[str]
    opening_hours: str
    status: str
    phone: str | None = None
    source: str
    created_at: UtcTime


class UnplacedList(BaseModel):
    """Every station waiting for a position, oldest first."""

    stations: list[UnplacedStation]
    total: int


class Placing(BaseModel):
    """Where a waiting station stands (``coord``: the datum of ``lon``/``lat``)."""

    model_config = ConfigDict(extra="forbid")

    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)
    coord: CoordSystem = CoordSystem.WGS84
