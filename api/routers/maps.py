"""Embeddable web maps: ``/maps/{name}`` renders a folium map as a full HTML page."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, cast

import folium
import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection

from api.auth import principal_of
from api.deps import (
    AppSettings,
    Lane,
    Routing,
    get_analyses,
    get_platform,
    get_settings_dep,
    get_web,
)
from api.geojson import Location
from api.page_cache import CachedPage, cached_page, serve_page
from api.params import CoordQuery, ProfileQuery, parse_lat_lon, parse_minutes, parse_time
from api.schemas.common import page_errors
from geo.access import Area
from geo.analyses.quick import isochrones, sites_drawing, town_coverage
from geo.areas import read_districts, read_grids, read_towns
from geo.cases.access import public_stats
from geo.custom_region import region_frame, region_notice
from geo.errors import YizhanError
from geo.hours import local_time, typical_hour
from geo.routing.engine import RoutingEngine
from geo.settings import Settings
from geo.stations import StationFilter, list_stations
from geo.vocabulary import CoordSystem, Profile, label
from maps.base import BboxLayer, ParamForm, base_map, render_page
from maps.base import Lang as MapLang
from maps.layers import (
    add_boundaries,
    add_case_density,
    add_gaps,
    add_grids,
    add_layer_control,
    add_reach,
    add_route,
    add_sites,
    add_stations,
    add_town_coverage,
)
from maps.planning import add_area_table, add_roadless, add_share_labels, add_site_table

PAGE_ERRORS = page_errors(401, 403)
router = APIRouter(prefix="/maps", tags=["maps"])
TITLES = {
    "zh": {
        "stations": "驿站分布",
        "route": "附近驿站与路线",
        "reach": "可达范围",
        "coverage": "覆盖情况",
        "sites": "建议新址",
        "grids": "网格",
        "cases": "案件分布",
    },
    "en": {
        "stations": "Stations",
        "route": "Nearest stations and routes",
        "reach": "Reachable areas",
        "coverage": "Coverage",
        "sites": "Proposed sites",
        "grids": "Grids",
        "cases": "Cases by grid",
    },
}
#: the tables the coverage and sites pages (and their analyses) read
COVERAGE_TABLES = ("stations", "districts", "towns")
SITES_TABLES = ("stations", "districts", "towns", "workplaces")
#: candidate sites a sites page weighs
SITE_CANDIDATES = 200
T = TypeVar("T")
optional_token = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)
Tiles = Annotated[
    Literal["own", "none", "osm", "gaode", "tianditu", "custom"],
    Query(description="base map: own (the platform's vector tiles), none, or an online one"),
]
Lang = Annotated[
    Literal["zh", "en"], Query(description="the page's language (default: the region's)")
]


def page_lang(asked: str | None, settings: Settings) -> MapLang:
    """The language a link asks for, else the region's."""
    return cast("MapLang", asked or settings.language)


Zoom = Annotated[int | None, Query(ge=3, le=19)]
Center = Annotated[str | None, Query(description="lat,lon")]


def _cached(
    request: Request,
    tables: tuple[str, ...],
    build: Callable[[Connection], folium.Map],
    *,
    title: str,
    lang: MapLang,
    extra: Hashable = None,
) -> Response:
    """Serve the page ``build`` makes, from the cache while its data are unchanged.

    The key is the path and query, the version of the ``tables`` the page shows, which
    stations are open now (pages show it) and ``extra`` (what the viewer may see). A page in
    the cache is served without a database connection: ``build`` gets one when it renders.
    """
    settings = get_settings_dep(request)
    db = get_platform(request).db
    key = (
        request.url.path,
        tuple(sorted(request.query_params.multi_items())),
        _tables_version(request, tables),
        _open_now_key(request),
        local_time(None).date(),  # "today"/"tomorrow" in the texts
        extra,
    )

    def render() -> CachedPage:
        with db.connect() as conn:
            m = build(conn)
        page = render_page(m, lang=lang, title=f"{title} · 驿站 yizhan")
        return cached_page(page, settings.frame_ancestors)

    return serve_page(request, get_web(request).page_cache.get_or_render(key, render))


FORM_TEXT = {
    "zh": {"minutes": "分钟", "profile": "出行方式", "at": "时间", "k": "新址数", "submit": "更新"},
    "en": {
        "minutes": "Minutes",
        "profile": "Travel by",
        "at": "Time",
        "k": "New sites",
        "submit": "Update",
    },
}


def _planner_form(
    lang: MapLang,
    *,
    minutes: str,
    profile: str,
    tiles: str | None,
    at: datetime | None = None,
    k: int | None = None,
    keep: tuple[tuple[str, str], ...] = (),
) -> ParamForm:
    """The form on the coverage and sites pages: minutes, profile, time or k, then reload."""
    t = FORM_TEXT[lang]
    profiles = [(code, label(Profile, code, lang)) for code in Profile.codes()]
    fields: list[tuple[str, str, str, Any, list[tuple[str, Any]]]] = []
    if k is not None:
        fields.append(("k", t["k"], "number", k, [("min", 1), ("max", 20)]))
    fields.append(("minutes", t["minutes"], "text", minutes, [("inputmode", "decimal")]))
    fields.append(("profile", t["profile"], "select", profile, profiles))
    if k is None:
        stamp = at.strftime("%Y-%m-%dT%H:%M") if at is not None else ""
        fields.append(("at", t["at"], "datetime-local", stamp, []))
    hidden = [("lang", lang), *([("tiles", tiles)] if tiles else []), *keep]
    return ParamForm(fields, hidden=hidden, submit=t["submit"])


def _tables_version(request: Request, tables: tuple[str, ...]) -> Hashable:
    """The version of ``tables``: heard from the change feed, else asked of the database."""
    return get_platform(request).tables_version(tables)


def _open_now_key(request: Request, at: datetime | None = None) -> str:
    """A short fingerprint of which stations are open at ``at`` (default: now)."""
    engine = get_platform(request).routing
    if engine is None:
        return "no-graph"
    ids = sorted(engine.stations)
    mask = engine.fields.eligible(ids, at=local_time(at))
    return hashlib.sha1(np.asarray(ids)[mask].tobytes()).hexdigest()[:16]


def _analysis(
    request: Request, inputs: Hashable, tables: tuple[str, ...], at: datetime, run: Callable[[], T]
) -> T:
    """An analysis a page draws, computed once per inputs, data version and stations open.

    The page's other variants (language, zoom, tiles, centre) take it from here.
    """
    key = (inputs, _tables_version(request, tables), _open_now_key(request, at))
    return cast(T, get_web(request).analyses.get_or_make(key, run))


def _start(
    settings: Settings,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
    default_zoom: int = 9,
) -> tuple[folium.Map, Any]:
    kwargs: dict[str, Any] = {
        "zoom": zoom or default_zoom,
        "tiles": tiles or settings.map_tiles,
        "lang": lang,
        "tile_url": settings.tile_url,
        "tianditu_key": settings.tianditu_key,
    }
    if settings.custom_region:  # a region of the user's own: its note, and the map over it
        spec, (lat, lon, whole) = region_frame(settings.region_dir)
        kwargs |= {"note": region_notice(spec, lang), "center": (lat, lon)}
        kwargs["zoom"] = zoom or max(whole, default_zoom)
    if center:
        lon, lat = parse_lat_lon(center, "center")
        kwargs["center"] = (lat, lon)
    return base_map(**kwargs)


def _active_stations(conn: Connection) -> list[dict[str, Any]]:
    rows, _ = list_stations(conn, StationFilter(statuses=("active",), limit=100_000))
    return rows


def _viewer_area(request: Request, token: str | None) -> Area | None:
    """Where the viewer manages (admins: everywhere), or None for anyone else."""
    if not token:
        return None
    platform = get_platform(request)
    try:
        with platform.db.connect() as conn:  # the page holds no other connection
            who = principal_of(platform.settings, conn, token)
    except YizhanError:
        return None
    return who.area if who.role in ("admin", "manager") else None


@router.get(
    "/stations",
    summary="Stations map (clustered, open now)",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
def stations_map(
    settings: AppSettings,
    request: Request,
    center: Center = None,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
    layers: Annotated[str, Query(description="extra layers: towns, workplaces")] = "",
) -> Response:
    """All stations, coloured by kind, with hours and whether they are open now."""
    lang = page_lang(lang, settings)

    def build(conn: Connection) -> folium.Map:
        return _stations_map(request, conn, settings, center, zoom, tiles, lang, layers)

    title = TITLES[lang]["stations"]
    return _cached(request, ("stations", "districts", "towns"), build, title=title, lang=lang)


def _stations_map(
    request: Request,
    conn: Connection,
    settings: Settings,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
    layers: str,
) -> folium.Map:
    m, coord = _start(settings, center, zoom, tiles, lang)
    extra = set(layers.split(","))
    add_boundaries(
        m,
        read_districts(conn),
        read_towns(conn) if "towns" in extra else None,
        coord=coord,
        lang=lang,
    )
    rows = _active_stations(conn)
    routing = get_platform(request).routing
    open_now = None
    if routing is not None:
        ids = [r["id"] for r in rows if r["id"] in routing.stations]
        mask = routing.fields.eligible(ids, at=local_time(None))
        open_now = dict(zip(ids, map(bool, mask), strict=True))
    add_stations(m, rows, coord=coord, lang=lang, open_now=open_now, at=local_time(None))
    if "workplaces" in extra:
        m.add_child(
            BboxLayer(
                "/ogc/collections/workplaces/items",
                colour="#555",
                limit=settings.inline_feature_limit,
            )
        )
    return add_layer_control(m)


@router.get(
    "/route",
    summary="Nearest stations from a point, with routes",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
def route_map(
    request: Request,
    engine: Routing,
    settings: AppSettings,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    k: Annotated[int, Query(ge=1, le=10)] = 3,
    profile: ProfileQuery = Profile.E_BIKE,
    coord: CoordQuery = CoordSystem.WGS84,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
) -> Response:
    """The rider's view: the ``k`` nearest open stations and the way to each."""
    lang = page_lang(lang, settings)

    def build(conn: Connection) -> folium.Map:
        return _route_map(engine, conn, settings, lat, lon, k, profile, coord, zoom, tiles, lang)

    title = TITLES[lang]["route"]
    return _cached(request, ("stations", "districts"), build, title=title, lang=lang)


def _route_map(
    engine: RoutingEngine,
    conn: Connection,
    settings: Settings,
    lat: float,
    lon: float,
    k: int,
    profile: str,
    coord: CoordSystem,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
) -> folium.Map:
    origin = Location(lon, lat, coord).wgs84()
    res = engine.nearest(*origin, profile=profile, k=k, at=local_time(None))
    m, mcoord = _start(settings, f"{res.origin.lat},{res.origin.lon}", zoom, tiles, lang, 14)
    add_boundaries(m, read_districts(conn), coord=mcoord, lang=lang)
    for hit in res.hits:
        add_route(
            m,
            hit.route.drawn.tolist(),
            coord=mcoord,
            lang=lang,
            label=f"{hit.station.name}: {hit.route.travel_time_s / 60:.1f} min",
        )
    rows: list[dict[str, Any]] = [
        {
            "id": h.station.id,
            "name": h.station.name,
            "kind": h.station.kind,
            "lon": h.station.lon,
            "lat": h.station.lat,
            "amenities": sorted(h.station.amenities),
            "opening_hours": h.station.opening_hours,
            "synthetic": h.station.extra.get("synthetic"),
        }
        for h in res.hits
    ]
    add_stations(
        m, rows, coord=mcoord, lang=lang, open_now={r["id"]: True for r in rows}, cluster=False
    )
    return add_layer_control(m)


@router.get(
    "/coverage",
    summary="Coverage: reachable areas from a point, or city gaps",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
async def coverage_map(
    request: Request,
    engine: Routing,
    lane: Lane,
    settings: AppSettings,
    minutes: Annotated[str, Query()] = "15",
    profile: ProfileQuery = Profile.E_BIKE,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    at: Annotated[str | None, Query(description="ISO time (empty: now)")] = None,
    center: Center = None,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
) -> Response:
    """With ``lat``/``lon``: isochrones from there; without: the city's coverage gaps."""
    lang = page_lang(lang, settings)
    values = parse_minutes(minutes, most=60, count=4)
    when = local_time(parse_time(at) or typical_hour())
    keep = (("lat", str(lat)), ("lon", str(lon))) if lat is not None and lon is not None else ()
    form = _planner_form(
        lang,
        minutes=minutes,
        profile=profile,
        tiles=tiles,
        at=when,
        keep=keep,
    )

    def build(conn: Connection) -> folium.Map:
        m = _coverage_map(
            request,
            engine,
            conn,
            settings,
            values,
            profile,
            lat,
            lon,
            when,
            center,
            zoom,
            tiles,
            lang,
        )
        m.add_child(form)
        return m

    title = TITLES[lang]["reach" if lat is not None else "coverage"]
    return await lane.run(lambda: _cached(request, COVERAGE_TABLES, build, title=title, lang=lang))


def _coverage_map(
    request: Request,
    engine: RoutingEngine,
    conn: Connection,
    settings: Settings,
    values: list[float],
    profile: str,
    lat: float | None,
    lon: float | None,
    when: Any,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
) -> folium.Map:
    m, coord = _start(
        settings,
        center or (f"{lat},{lon}" if lat is not None else None),
        zoom,
        tiles,
        lang,
        12 if lat is not None else 9,
    )
    add_boundaries(m, read_districts(conn), coord=coord, lang=lang)
    analyses = get_analyses(request)
    if lat is not None and lon is not None:
        _, areas = analyses.run(isochrones, lon, lat, values, profile)
        add_reach(m, areas, coord=coord, lang=lang)
    else:
        shares, gaps, roadless = _analysis(
            request,
            ("coverage", values[-1], profile),
            COVERAGE_TABLES,
            when,
            lambda: analyses.run(town_coverage, values[-1], profile, when),
        )
        add_town_coverage(m, shares, coord=coord, lang=lang, when=when)
        add_share_labels(m, shares, coord=coord, lang=lang)
        add_area_table(m, shares, lang=lang)
        add_gaps(m, gaps, coord=coord, lang=lang)
        add_roadless(m, roadless, coord=coord, lang=lang)
    add_stations(m, _active_stations(conn), coord=coord, lang=lang)
    return add_layer_control(m)


@router.get(
    "/sites",
    summary="Proposed new sites for a coverage target",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
async def sites_map(
    request: Request,
    engine: Routing,
    lane: Lane,
    settings: AppSettings,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    minutes: Annotated[float, Query(gt=0, le=60)] = 15,
    profile: ProfileQuery = Profile.E_BIKE,
    center: Center = None,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
) -> Response:
    """Gaps, existing stations and the ``k`` sites that would cover the most people."""
    lang = page_lang(lang, settings)
    form = _planner_form(lang, minutes=f"{minutes:g}", profile=profile, tiles=tiles, k=k)

    def build(conn: Connection) -> folium.Map:
        m = _sites_map(
            request, engine, conn, settings, k, minutes, profile, center, zoom, tiles, lang
        )
        m.add_child(form)
        return m

    title = TITLES[lang]["sites"]
    return await lane.run(lambda: _cached(request, SITES_TABLES, build, title=title, lang=lang))


def _sites_map(
    request: Request,
    engine: RoutingEngine,
    conn: Connection,
    settings: Settings,
    k: int,
    minutes: float,
    profile: str,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
) -> folium.Map:
    analyses, now = get_analyses(request), typical_hour()
    plan = _analysis(
        request,
        ("sites", k, minutes, profile),
        SITES_TABLES,
        now,
        lambda: analyses.run(sites_drawing, k, minutes, profile, now, SITE_CANDIDATES),
    )
    m, coord = _start(settings, center, zoom, tiles, lang)
    add_boundaries(m, read_districts(conn), coord=coord, lang=lang)
    add_gaps(m, plan["gaps"], coord=coord, lang=lang)
    add_stations(m, _active_stations(conn), coord=coord, lang=lang)
    word = "覆盖率" if lang == "zh" else "Covered"
    summary = f"{word} {plan['before']:.1%} → {plan['after']:.1%}"
    add_sites(m, plan["sites"], coord=coord, lang=lang, summary=summary)
    at = f"{now:%Y-%m-%d %H:%M}"
    add_site_table(m, plan["sites"], summary=f"{summary} ({at})", lang=lang)
    return add_layer_control(m)


@router.get(
    "/grids",
    summary="Grid areas (member names for authorised viewers)",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
def grids_map(
    request: Request,
    settings: AppSettings,
    token: Annotated[str | None, Depends(optional_token)] = None,
    center: Center = None,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
) -> Response:
    """Grids with codes and towns; member names for an admin, or a manager in their area."""
    lang = page_lang(lang, settings)
    area = _viewer_area(request, token)

    def build(conn: Connection) -> folium.Map:
        return _grids_map(conn, settings, area, center, zoom, tiles, lang)

    tables = ("grids", "grid_members", "districts")
    title = TITLES[lang]["grids"]
    return _cached(request, tables, build, title=title, lang=lang, extra=area)


def _grids_map(
    conn: Connection,
    settings: Settings,
    area: Area | None,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
) -> folium.Map:
    m, coord = _start(settings, center, zoom, tiles, lang, 11)
    show = area is not None
    add_boundaries(m, read_districts(conn), coord=coord, lang=lang)
    grids = read_grids(conn, members_in=area)
    if len(grids) > settings.inline_feature_limit:
        m.add_child(
            BboxLayer(
                "/ogc/collections/grids/items",
                colour="#2e7d32",
                limit=settings.inline_feature_limit,
            )
        )
    else:
        add_grids(m, grids, coord=coord, lang=lang, show_members=show)
    return add_layer_control(m)


@router.get(
    "/cases",
    summary="Case density per grid (aggregated, small counts hidden)",
    response_class=HTMLResponse,
    responses=PAGE_ERRORS,
)
def cases_map(
    request: Request,
    settings: AppSettings,
    center: Center = None,
    zoom: Zoom = None,
    tiles: Tiles | None = None,
    lang: Lang | None = None,
) -> Response:
    """Cases per grid (grids with fewer than 5 are not shown); no points, no people."""
    lang = page_lang(lang, settings)

    def build(conn: Connection) -> folium.Map:
        return _cases_map(conn, settings, center, zoom, tiles, lang)

    title = TITLES[lang]["cases"]
    return _cached(request, ("cases", "grids", "districts"), build, title=title, lang=lang)


def _cases_map(
    conn: Connection,
    settings: Settings,
    center: str | None,
    zoom: int | None,
    tiles: str | None,
    lang: MapLang,
) -> folium.Map:
    m, coord = _start(settings, center, zoom, tiles, lang, 10)
    add_boundaries(m, read_districts(conn), coord=coord, lang=lang)
    stats = {s["grid"]: s["cases"] for s in public_stats(conn)}
    grids = read_grids(conn)
    grids = grids[grids["code"].isin(stats)].copy()
    grids["cases"] = [stats[c] for c in grids["code"]]
    add_case_density(m, grids, coord=coord, lang=lang)
    return add_layer_control(m)
