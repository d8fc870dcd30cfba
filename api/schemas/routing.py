"""Riders' answers: nearest stations with routes, a route, isochrones."""

from __future__ import annotations

from geojson_pydantic import Feature, FeatureCollection, LineString, MultiPolygon, Point, Polygon
from pydantic import BaseModel

from api.schemas.common import DATA_NOTICE, Answer


class Origin(Answer):
    """Where a trip starts: the point sent, the road point it was snapped to, how far apart."""

    point: Point
    snap: Point
    snap_distance_m: float


class NearbyStation(BaseModel):
    """What a rider needs to know of a station."""

    name: str
    kind: str
    amenities: list[str]
    opening_hours: str
    status: str
    synthetic: bool
    town_code: str | None = None
    address: str | None = None
    phone: str | None = None
    photo: str | None = None


class Hit(Answer):
    """One station reached, with the time, distance and route there (null: not asked for)."""

    station: Feature[Point, NearbyStation]
    travel_time_s: float
    distance_m: float
    route: LineString | None


class NearestAnswer(Answer):
    """The stations reached fastest from a point."""

    origin: Origin
    profile: str
    coord: str
    open_at: str
    results: list[Hit]
    data_notice: str = DATA_NOTICE


class RouteAnswer(Answer):
    """The fastest route between two points."""

    origin: Origin
    destination: Origin
    profile: str
    coord: str
    travel_time_s: float
    distance_m: float
    route: LineString
    data_notice: str = DATA_NOTICE


class Reach(BaseModel):
    """Which time limit an area belongs to."""

    minutes: float
    profile: str


class Isochrones(FeatureCollection[Feature[Polygon | MultiPolygon, Reach]]):
    """Areas reachable within each time limit, smallest first."""

    origin: Origin
    data_notice: str = DATA_NOTICE


class NavigationLink(Answer):
    """One navigation app's link to a place (a web URI that opens the app)."""

    app: str
    label: str
    href: str


class Navigation(Answer):
    """The region's navigation hand-offs to a place, in its order."""

    links: list[NavigationLink]
