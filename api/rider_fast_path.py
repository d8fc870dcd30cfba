"""The riders' nearest-station answer, and a lean way to it for the common, well-formed request.

``GET /v1/stations/nearest`` is the request a city's riders send together at lunch time; the
lookup behind it takes well under a millisecond, yet FastAPI's generic machinery around it
(ten query parameters validated one by one, dependencies solved per request, a thread hop for
each synchronous one) cost as much again. :class:`NearestFastPath` sits just outside the
router, inside every protective middleware (rate limits, body limits, hosts, headers, logs),
and answers the request itself — gzipped for clients that accept it, as the rest of the API
is — when its query is plainly valid: a strict reading of exactly the parameters the
documented operation declares (:func:`api.nearest_query.strict`). Anything else (an unknown
or repeated parameter, a value it does not read plainly, a point the engine refuses, the
graph still loading) goes on to the FastAPI operation unchanged, which answers — or refuses,
with the one error format — as it always has. Both build the answer with
:func:`nearest_answer`.
"""

from __future__ import annotations

from typing import Any

import orjson
from isal import igzip

from api.geojson import Location, linestrings, point
from api.middleware import ASGIApp, Receive, Scope, Send
from api.nearest_query import NearestQuery, strict
from geo.errors import YizhanError
from geo.hours import local_iso, local_time
from geo.platform import Platform
from geo.routing.engine import NearestResult, Origin
from geo.vocabulary import CoordSystem

NEAREST_PATH = "/v1/stations/nearest"
#: JSON answers this large or larger go out gzipped to clients that accept it, at this level
#: (zlib's level 1: a 6 KB answer in 0.06 ms rather than 0.09 ms at level 5, 9% larger)
GZIP_MIN_BYTES, GZIP_LEVEL = 1024, 1
#: riders' answers are gzipped by ISA-L (``isal``) at this level: 0.02 ms, as small as zlib's 5
RIDER_GZIP_LEVEL = 1


def origin_json(o: Origin, coord: CoordSystem) -> dict[str, Any]:
    """Where a query started and where it met the road, in ``coord``."""
    return {
        "point": point(o.lon, o.lat, coord),
        "snap": point(o.snap_lon, o.snap_lat, coord),
        "snap_distance_m": round(o.snap_distance_m, 1),
    }


def nearest_answer(platform: Platform, q: NearestQuery) -> dict[str, Any]:
    """The ``k`` stations reached fastest that are open at ``q.open_at`` and match the filters.

    Raises the engine's errors (:class:`geo.errors.YizhanError`) for points it refuses.
    """
    at = local_time(q.open_at)
    res: NearestResult = platform.require_routing().nearest(
        *Location(q.lon, q.lat, q.coord).wgs84(),
        profile=q.profile,
        k=q.k,
        kinds=q.kind,
        amenities=q.amenity,
        at=at,
        include_closed=q.include_closed,
        geometry=q.geometry,
    )
    results = []
    lines: list[dict[str, Any] | None] = [None] * len(res.hits)
    if q.geometry:
        lines = list(linestrings([hit.route.drawn for hit in res.hits], q.coord))
    for hit, line in zip(res.hits, lines, strict=True):
        s = hit.station
        feature = {
            "type": "Feature",
            "id": s.id,
            "geometry": point(s.lon, s.lat, q.coord),
            "properties": {
                "name": s.name,
                "kind": s.kind,
                "amenities": sorted(s.amenities),
                "opening_hours": s.opening_hours,
                "status": s.status,
                **s.extra,
            },
        }
        results.append(
            {
                "station": feature,
                "travel_time_s": round(hit.route.travel_time_s, 1),
                "distance_m": round(hit.route.distance_m, 1),
                "route": line,
            }
        )
    return {
        "origin": origin_json(res.origin, q.coord),
        "profile": q.profile,
        "coord": q.coord,
        "open_at": local_iso(at),
        "results": results,
        "data_notice": platform.data_notice,
    }


def render(answer: dict[str, Any]) -> bytes:
    """A riders' answer as JSON bytes (orjson: many coordinates, every millisecond counts)."""
    return orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY)


def _accepts_gzip(scope: Scope) -> bool:
    return any(name == b"accept-encoding" and b"gzip" in value for name, value in scope["headers"])


class NearestFastPath:
    """Answers plainly valid nearest-station requests without FastAPI's per-request machinery."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or scope["path"] != NEAREST_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings = state.settings
        q = strict(scope["query_string"], settings.amenities, settings.station_kinds)
        body = None
        if q is not None:
            try:
                body = render(nearest_answer(state.platform, q))
            except YizhanError:
                body = None  # the operation answers with its error, in the one format
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json")]
        if len(body) >= GZIP_MIN_BYTES and _accepts_gzip(scope):
            body = igzip.compress(body, RIDER_GZIP_LEVEL)
            headers += [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
