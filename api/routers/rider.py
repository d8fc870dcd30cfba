"""The riders' page: ``/rider`` (HTML), its data (``/rider/stations``), its map outline.

A page for people, not an API: unknown query parameters are ignored (WeChat adds its own
when a link is shared), and a bad value shows the page with a message — never raw JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection

from api.deps import AppSettings, ReadConn, Routing, get_web
from api.errors import error_body
from api.geojson import Location
from api.nearest_query import lenient
from api.pages import content_security_policy, page_answer
from geo.areas import read_districts, town_seats
from geo.coords import from_wgs84
from geo.custom_region import region_frame, region_notice
from geo.errors import ValidationError, YizhanError
from geo.hours import local_time
from geo.routing.engine import RoutingEngine
from geo.settings import Settings
from geo.station_feedback import station_counts
from geo.tiles import basemap_config
from geo.vocabulary import CoordSystem, Profile
from maps.base import shift, tiles_coord
from pages.assets import accepts_gzip
from pages.rider import (
    LIST_SIZE,
    SNAP_NOTE_M,
    TEXT,
    chip_options,
    listed_hits,
    page_text,
    problem_options,
    riders_word,
    station_items,
)

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=PackageLoader("pages", "templates"), autoescape=select_autoescape(["html"])
)
#: the travel profiles the page may offer (driving for drivers' homes: by car, or by truck)
PROFILES = (Profile.E_BIKE, Profile.WALK, Profile.DRIVE, Profile.TRUCK)


@dataclass(frozen=True)
class RiderQuery:
    """What a rider's page or data request asks for (read leniently from the query)."""

    lang: str = "zh"
    lat: float | None = None
    lon: float | None = None
    coord: CoordSystem = CoordSystem.WGS84
    profile: str = "e_bike"
    amenities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    include_closed: bool = False
    embed: bool = False
    tiles: str = "own"
    problems: list[str] = field(default_factory=list)

    @property
    def map_coord(self) -> CoordSystem:
        """The map's coordinate system: GCJ-02 on AutoNavi tiles."""
        return tiles_coord(self.tiles)


def offered_profiles(engine: RoutingEngine) -> tuple[Profile, ...]:
    """The page's travel profiles the road network has.

    Drivers' times are by truck where the extract says something of trucks (the engine has the
    ``truck`` profile), else by car.
    """
    driving = Profile.TRUCK if Profile.TRUCK.value in engine.profiles else Profile.DRIVE
    return tuple(p for p in (Profile.E_BIKE, Profile.WALK, driving) if p.value in engine.profiles)


def read_query(
    request: Request, settings: Settings, profiles: Sequence[Profile] = PROFILES
) -> RiderQuery:
    """The rider's query, keeping known values and noting bad ones (never raising).

    ``mode=drive`` (a drivers' link) asks for driving times like ``profile=drive``: by truck
    where the page offers trucks instead of cars.
    """
    q = request.query_params
    asked_profile = q.get("profile") or q.get("mode") or ""
    if asked_profile == Profile.DRIVE and Profile.TRUCK in profiles:
        asked_profile = Profile.TRUCK.value
    single = {**q, "profile": asked_profile}
    asked = lenient(
        single,
        {"amenity": q.getlist("amenity"), "kind": q.getlist("kind")},
        amenities=settings.amenities,
        kinds=settings.station_kinds,
        profiles=profiles,
    )
    return RiderQuery(
        lang=str(q.get("lang")) if q.get("lang") in TEXT else settings.language,
        lat=asked.lat,
        lon=asked.lon,
        coord=asked.coord,
        profile=asked.profile,
        amenities=asked.amenity,
        kinds=asked.kind,
        include_closed=asked.include_closed,
        embed=q.get("embed") in ("1", "true"),
        tiles=_tiles(q.get("tiles"), settings.map_tiles, china=settings.chinese_coordinates),
        problems=asked.problems,
    )


#: AutoNavi's tiles (GCJ-02), for ``?tiles=gaode`` where Chinese coordinates apply
AUTONAVI_TILES = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1"
    "&style=8&x={x}&y={y}&z={z}"
)
#: the base layers the riders' page draws (others are for planners' maps)
RIDER_TILES = ("own", "gaode", "none")


def _tiles(asked: str | None, configured: str, *, china: bool = True) -> str:
    """The page's base layer: the link's choice, else the deployment's, else the own basemap.

    AutoNavi's tiles (GCJ-02) only where Chinese coordinates apply.
    """
    for choice in (asked, configured):
        if choice in RIDER_TILES and (china or choice != "gaode"):
            return str(choice)
    return "own"


def find_stations(
    engine: RoutingEngine,
    query: RiderQuery,
    lon: float,
    lat: float,
    settings: Settings,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The listed stations from a WGS-84 point, as page data.

    From outside the service region the answer says so and lists the stations from the
    region's nearest point instead (``outside`` and ``suggested``). Stations beyond the
    profile's cut-off are not listed as if near: with none within it, the nearest one is
    offered alone (``beyond``) beside the union's hotline. ``at``: the moment whose opening
    hours count (now, by default).
    """
    at = local_time(at)
    outside: dict[str, Any] = {}
    if not engine.in_region(lon, lat):
        lon, lat = engine.closest_in_region(lon, lat)
        outside = {"outside": True, "suggested": {"lat": round(lat, 6), "lon": round(lon, 6)}}
    try:
        result = engine.nearest(
            lon,
            lat,
            profile=query.profile,
            k=LIST_SIZE,
            kinds=query.kinds,
            amenities=query.amenities,
            at=at,
            include_closed=query.include_closed,
        )
    except ValidationError:
        if not outside:
            raise
        return {**outside, "items": []}
    origin = result.origin
    olon, olat = (float(v) for v in from_wgs84(origin.lon, origin.lat, query.map_coord))
    cutoff_s = settings.rider_cutoff_s(query.profile)
    hits, beyond = listed_hits(result, cutoff_s)
    items = station_items(
        result,
        at=at,
        lang=query.lang,
        map_coord=query.map_coord,
        hits=hits,
        apps=settings.navigation,
    )
    snapped = origin.snap_distance_m if origin.snap_distance_m > SNAP_NOTE_M else None
    return {
        **outside,
        "origin": {"lat": round(olat, 6), "lon": round(olon, 6)},
        "wgs84": {"lat": round(origin.lat, 6), "lon": round(origin.lon, 6)},
        "profile": query.profile,
        "cutoff_min": round(cutoff_s / 60),
        "beyond": beyond,
        "snapped_m": None if snapped is None else round(snapped / 10) * 10,
        "items": items,
    }


def with_riders_word(conn: Connection, data: dict[str, Any], lang: str) -> dict[str, Any]:
    """The listed stations with what riders said of them this week (``word``)."""
    items = data.get("items") or []
    counts = station_counts(conn, [i["id"] for i in items])
    now = datetime.now(UTC)
    for item in items:
        item["word"] = riders_word(counts.get(item["id"], {}), now, lang)
    return data


@router.get("/rider")
def rider_page(
    request: Request, engine: Routing, conn: ReadConn, settings: AppSettings
) -> Response:
    """The riders' station finder (Chinese by default, ``?lang=en``)."""
    profiles = offered_profiles(engine)
    query = read_query(request, settings, profiles)
    view = None
    if settings.custom_region:  # a region of the user's own: its name, note and map view
        spec, view = region_frame(settings.region_dir)
        t = page_text(query.lang, spec.title, region_notice(spec, query.lang))
    else:
        t = page_text(query.lang)
    initial: dict[str, Any] | None = None
    message = t["denied"] if query.problems else None
    if query.lat is not None and query.lon is not None:
        wlon, wlat = Location(query.lon, query.lat, query.coord).wgs84()
        try:
            initial = with_riders_word(
                conn, find_stations(engine, query, wlon, wlat, settings), query.lang
            )
        except ValidationError:
            message = t["no_road"]
    assets = get_web(request).page_assets
    other = "en" if query.lang == "zh" else "zh"
    switch = request.url.include_query_params(lang=other)
    config = {
        "lang": query.lang,
        "text": t,
        "initial": initial,
        "profile": query.profile,
        "amenities": list(query.amenities),
        "kinds": list(query.kinds),
        "include_closed": query.include_closed,
        "tiles": query.tiles,
        "hotline": settings.union_hotline,
        "problems": problem_options(query.lang),
        "view": view,
        "tile_url": AUTONAVI_TILES if query.tiles == "gaode" else None,
        "basemap": basemap_config(conn, query.lang) if query.tiles == "own" else None,
        "towns": [
            {"name": r["name"], "district": r["district"], "lat": r["lat"], "lon": r["lon"]}
            for r in town_seats(conn)
        ],
    }
    html = _templates.get_template("rider.html").render(
        t=t,
        q=query,
        lang_html="zh-CN" if query.lang == "zh" else "en",
        switch_url=str(switch.path) + "?" + switch.query,
        items=(initial or {}).get("items", []),
        outside=bool((initial or {}).get("outside")),
        message=message,
        chips=chip_options(settings.amenities, settings.station_kinds, query.lang, profiles),
        hotline=settings.union_hotline,
        initial=initial or {},
        config=json.dumps(config, ensure_ascii=False, separators=(",", ":")),
        css=[assets.url("leaflet.css"), assets.url("rider.css")],
        icon=assets.url("icon-192.png"),
        js=[
            assets.url("leaflet.js"),
            *(
                [assets.url("protomaps-leaflet.js"), assets.url("basemap.js")]
                * (query.tiles == "own")
            ),
            assets.url("rider.js"),
        ],
    )
    csp = content_security_policy((), settings.frame_ancestors)
    return page_answer(
        request,
        html.encode(),
        "text/html; charset=utf-8",
        status=400 if query.problems else 200,
        headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"},
    )


@router.get("/rider/stations")
def rider_stations(
    request: Request, engine: Routing, conn: ReadConn, settings: AppSettings
) -> Response:
    """The page's data: the listed stations from ``lat``/``lon`` with the chosen filters."""
    query = read_query(request, settings, offered_profiles(engine))
    if query.lat is None or query.lon is None:
        problem = error_body("RequestValidation", "lat and lon are needed (numbers)")
        return JSONResponse(problem, status_code=422)
    wlon, wlat = Location(query.lon, query.lat, query.coord).wgs84()
    try:
        data = with_riders_word(
            conn, find_stations(engine, query, wlon, wlat, settings), query.lang
        )
    except YizhanError as exc:
        return JSONResponse(error_body(type(exc).__name__.removesuffix("Error"), str(exc)), 422)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return page_answer(request, body, "application/json", headers={"Cache-Control": "no-store"})


#: the files the riders' page needs, kept by its service worker for a weak signal
SHELL_FILES = (
    "leaflet.css",
    "rider.css",
    "leaflet.js",
    "protomaps-leaflet.js",
    "basemap.js",
    "rider.js",
    "icon-192.png",
)


@router.get("/rider-sw.js")
def rider_service_worker(request: Request) -> Response:
    """The riders' page's service worker (served from the root, so its scope holds ``/rider``).

    Its version is the hash of the files it keeps: a new release replaces the kept copies.
    """
    assets = get_web(request).page_assets
    files = [assets.url(name) for name in SHELL_FILES]
    body = _templates.get_template("rider-sw.js").render(
        version=hashlib.sha256("".join(files).encode()).hexdigest()[:12],
        files=files,
        pages=["/rider?lang=zh", "/rider?lang=en"],
    )
    headers = {
        "Cache-Control": "no-cache",
        "Service-Worker-Allowed": "/rider",
        # a worker runs under its own script's policy: it fetches (and keeps) this site's files
        "Content-Security-Policy": "default-src 'self'; connect-src 'self'",
    }
    return page_answer(request, body.encode(), "text/javascript; charset=utf-8", headers=headers)


@router.get("/rider/manifest.webmanifest")
def rider_manifest(request: Request, settings: AppSettings) -> Response:
    """The web app manifest: a rider adds the page to the home screen."""
    lang = "en" if request.query_params.get("lang") == "en" else "zh"
    assets = get_web(request).page_assets
    title = page_text(lang)["title"]
    if settings.custom_region:
        spec, _ = region_frame(settings.region_dir)
        title = f"{title} · {spec.title}"
    manifest = {
        "name": f"{title} · 驿站" if lang == "zh" else f"{title} · yizhan",
        "short_name": page_text(lang)["title"],
        "lang": "zh-CN" if lang == "zh" else "en",
        "start_url": f"/rider?lang={lang}",
        "scope": "/rider",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#c62828",
        "icons": [
            {"src": assets.url(f"icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png"}
            for n in (192, 512)
        ],
    }
    body = json.dumps(manifest, ensure_ascii=False).encode()
    headers = {"Cache-Control": "public, max-age=3600"}
    return page_answer(request, body, "application/manifest+json", headers=headers)


@router.get("/rider/boundaries.json")
def rider_boundaries(request: Request, conn: ReadConn) -> Response:
    """District outlines for the page's map (simplified, in the map's coordinate system)."""
    coord = tiles_coord(str(request.query_params.get("tiles")))
    cache = get_web(request).rider_boundaries
    if coord not in cache:
        districts = read_districts(conn, simplify_deg=0.002)
        districts.geometry = [shift(g, coord) for g in districts.geometry]
        districts.geometry = districts.geometry.set_precision(1e-4)
        cache[coord] = districts[["name", "geometry"]].to_json(separators=(",", ":")).encode()
    return page_answer(
        request,
        cache[coord],
        "application/geo+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/static/{name}")
def static_file(request: Request, name: str) -> Response:
    """A page asset by its content-hashed name, cached for a year."""
    asset = get_web(request).page_assets.get(name)
    if asset is None:
        return JSONResponse(error_body("NotFound", f"no file {name!r}"), status_code=404)
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
    if accepts_gzip(request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
