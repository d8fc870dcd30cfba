"""Stations as GeoJSON (one, a filtered collection, with a route), and those awaiting a place."""

from __future__ import annotations

from geojson_pydantic import Feature, FeatureCollection, Point
from pydantic import BaseModel, ConfigDict, Field

from api.schemas.cases import PublicCase
from api.schemas.common import DATA_NOTICE, Answer, UtcTime
from geo.vocabulary import CoordSystem, StationProblem


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
    problem_reports_7d: int = 0
    confirmations_7d: int = 0
    last_confirmed_at: UtcTime | None = None


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


class StationReport(BaseModel):
    """A rider's report of a problem at a station (no account; the text is optional)."""

    model_config = ConfigDict(extra="forbid")

    problem: StationProblem
    amenity: str | None = Field(None, max_length=40)
    text: str | None = Field(None, max_length=1000)


class FeedbackCounts(Answer):
    """A station's riders' word of the last 7 days."""

    problem_reports_7d: int
    confirmations_7d: int
    last_confirmed_at: UtcTime | None = None


class ReportAnswer(Answer):
    """A recorded report: the case it made or joined (as the public sees cases)."""

    case: PublicCase
    joined: bool = Field(description="the report joined an open case of the same problem")
    reports: int = Field(description="reports the case gathers")
    report_id: int
    photo_key: str = Field(
        description="shown once: with it (header X-Report-Key) PUT one photo to "
        "/v1/stations/{id}/reports/{report_id}/photo"
    )


class StationFeedbackRow(FeedbackCounts):
    """One station's counts, for planners."""

    station_id: int
    name: str
    kind: str
    town_name: str | None = None


class StationFeedbackTable(Answer):
    """Every station's riders' word of the last 7 days, most reported first."""

    stations: list[StationFeedbackRow]


class ReportPhoto(Answer):
    """The photo added to a report's case."""

    case_reference: str
    media_type: str
    size: int
