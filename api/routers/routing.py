"""Riders: nearest open station, routes, isochrones."""

from __future__ import annotations

import gzip
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.deps import AnalysesDep, AppSettings, Lane, PlatformDep, Routing
from api.geojson import FastJSONResponse, GeoJSONResponse, Location, geometry, linestring
from api.nearest_query import K_MAX, K_MIN, NearestQuery
from api.params import (
    CoordQuery,
    LatQuery,
    LonQuery,
    ProfileQuery,
    check_codes,
    parse_lat_lon,
    parse_minutes,
)
from api.rider_fast_path import nearest_answer, origin_json, render
from api.schemas.common import errors
from api.schemas.routing import (
    Isochrones,
    Navigation,
    NavigationLink,
    NearestAnswer,
    RouteAnswer,
)
from geo.analyses.quick import isochrones as quick_isochrones
from geo.navigation import hand_offs
from geo.vocabulary import CoordSystem, Profile

router = APIRouter(prefix="/v1", tags=["riders"])


@router.get(
    "/stations/nearest",
    summary="Nearest open stations by travel time, with routes",
    response_model=NearestAnswer,
    responses=errors(),
)
async def nearest(
    platform: PlatformDep,
    settings: AppSettings,
    lat: LatQuery,
    lon: LonQuery,
    k: Annotated[int, Query(ge=K_MIN, le=K_MAX)] = NearestQuery.k,
    profile: ProfileQuery = NearestQuery.profile,
    amenity: Annotated[list[str], Query(description="required amenities (all of them)")] = [],  # noqa: B006
    kind: Annotated[list[str], Query(description="station kinds (any of them)")] = [],  # noqa: B006
    open_at: Annotated[
        datetime | None, Query(description="ISO time; default now (the region's time zone)")
    ] = NearestQuery.open_at,
    coord: CoordQuery = NearestQuery.coord,
    include_closed: Annotated[
        bool, Query(description="also stations outside their opening hours at open_at")
    ] = NearestQuery.include_closed,
    geometry: Annotated[
        bool, Query(description="draw each route (false: times and lengths only, route null)")
    ] = NearestQuery.geometry,
) -> Response:
    """The ``k`` stations reached fastest that are open at ``open_at`` and match the filters.

    ``async``: the work is well under a millisecond, so it runs on the event loop — no thread
    hop and no contention for the GIL between worker threads. Plainly valid requests are
    answered before they reach here (:mod:`api.rider_fast_path`), with the same answer.
    """
    check_codes(amenity, settings.amenities, "amenity")
    check_codes(kind, settings.station_kinds, "kind")
    q = NearestQuery(
        lat, lon, k, profile, tuple(amenity), tuple(kind), open_at, coord, include_closed, geometry
    )
    return Response(render(nearest_answer(platform, q)), media_type="application/json")


@router.get(
    "/navigation",
    summary="Links that hand navigation to a place over to the region's map apps",
    response_model=Navigation,
    responses=errors(),
)
def navigation(
    settings: AppSettings,
    lat: LatQuery,
    lon: LonQuery,
    name: Annotated[str, Query(min_length=1, max_length=100)] = "目的地",
    profile: ProfileQuery = Profile.E_BIKE,
    coord: CoordQuery = CoordSystem.WGS84,
    lang: Annotated[Literal["zh", "en"] | None, Query()] = None,
) -> Navigation:
    """The apps the region's riders' page offers, for any place (a case's, say).

    AutoNavi, Baidu and Tencent in China (GCJ-02/BD-09 inside); Google, Apple and a ``geo:``
    link elsewhere.
    """
    wlon, wlat = Location(lon, lat, coord).wgs84()
    links = hand_offs(
        wlon, wlat, name, profile=profile, apps=settings.navigation, lang=lang or settings.language
    )
    return Navigation(links=[NavigationLink(**link) for link in links])


@router.get(
    "/routes",
    summary="Fastest route between two points",
    response_model=RouteAnswer,
    responses=errors(),
)
def route(
    engine: Routing,
    platform: PlatformDep,
    from_: Annotated[str, Query(alias="from", description="lat,lon")],
    to: Annotated[str, Query(description="lat,lon")],
    profile: ProfileQuery = Profile.E_BIKE,
    coord: CoordQuery = CoordSystem.WGS84,
) -> Response:
    """Travel time, distance and the route as a GeoJSON LineString."""
    a = Location(*parse_lat_lon(from_, "from"), coord).wgs84()
    b = Location(*parse_lat_lon(to, "to"), coord).wgs84()
    o_a, o_b, r = engine.route(a, b, profile=profile)
    return FastJSONResponse(
        {
            "origin": origin_json(o_a, coord),
            "destination": origin_json(o_b, coord),
            "profile": profile,
            "coord": coord,
            "travel_time_s": round(r.travel_time_s, 1),
            "distance_m": round(r.distance_m, 1),
            "route": linestring(r.drawn, coord),
            "data_notice": platform.data_notice,
        }
    )


@router.get(
    "/isochrones",
    summary="Areas reachable within given minutes",
    response_class=GeoJSONResponse,
    response_model=Isochrones,
    responses=errors(),
)
async def isochrones(
    request: Request,
    platform: PlatformDep,
    analyses: AnalysesDep,
    engine: Routing,
    lane: Lane,
    lat: LatQuery,
    lon: LonQuery,
    minutes: Annotated[
        str, Query(description="comma-separated, e.g. 5,10,15 (at most 60)")
    ] = "5,10,15",
    profile: ProfileQuery = Profile.E_BIKE,
    coord: CoordQuery = CoordSystem.WGS84,
) -> Response:
    """A FeatureCollection of polygons, one per time limit."""
    values = parse_minutes(minutes, most=60, count=6)
    lon84, lat84 = Location(lon, lat, coord).wgs84()
    squeeze = "gzip" in request.headers.get("accept-encoding", "")
    # the search, the polygons, even the bytes: on a worker process
    where = (lon84, lat84, values, profile, coord, squeeze, platform.data_notice)
    body = await lane.run(lambda: analyses.run(isochrones_answer, *where))
    headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"} if squeeze else None
    return Response(body, media_type=GeoJSONResponse.media_type, headers=headers)


def isochrones_answer(
    lon: float,
    lat: float,
    values: list[float],
    profile: str,
    coord: CoordSystem,
    squeeze: bool,
    notice: str,
) -> bytes:
    """The whole isochrones answer as bytes (gzipped when ``squeeze``), made on a worker.

    Large polygons cost the API process nothing: not the search, not the shaping in ``coord``,
    not the JSON encoding, not the compression.
    """
    origin, areas = quick_isochrones(lon, lat, values, profile)
    features = [
        {
            "type": "Feature",
            "geometry": geometry(g, coord),
            "properties": {"minutes": m, "profile": profile},
        }
        for m, g in areas
    ]
    answer = {
        "type": "FeatureCollection",
        "features": features,
        "origin": origin_json(origin, coord),
        "data_notice": notice,
    }
    body = bytes(GeoJSONResponse(answer).body)
    return gzip.compress(body, compresslevel=5) if squeeze else body
