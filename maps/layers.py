"""Map layers: boundaries, stations, routes, reachable areas and gaps, sites, grids, cases.

Every builder takes WGS-84 data (GeoDataFrames or plain records), the map ``m`` and the
overlay coordinate system from :func:`maps.base.base_map`, and returns ``m``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import folium
import geopandas as gpd
import pandas as pd
from folium.map import Layer

from geo.hours_words import describe_hours, describe_next_opening, next_opening
from geo.vocabulary import Amenity, CoordSystem, StationKind, label
from maps.base import (
    HtmlPopup,
    Lang,
    LocalMarkerCluster,
    TextTooltip,
    add_legend,
    inert_html_text,
    point,
    shift,
)

KIND_COLOURS = {
    "outdoor_worker_station": "#e4572e",
    "service_centre": "#2e86ab",
    "rider_home": "#f2a541",
    "driver_home": "#7b2cbf",
}
LABELS = {
    "zh": {
        "stations": "驿站",
        "districts": "区县",
        "towns": "镇街",
        "route": "路线",
        "reach": "可达范围",
        "gaps": "覆盖空白",
        "sites": "建议新址",
        "grids": "网格",
        "cases": "案件数",
        "open": "正在开放",
        "closed": "未开放",
        "hours": "开放时间",
        "amenities": "设施",
        "outdoor_worker_station": "户外劳动者驿站",
        "service_centre": "职工服务中心",
        "rider_home": "骑行之家",
        "driver_home": "司机之家",
        "minutes": "分钟",
        "suppressed": "少于5件（不公开）",
        "uncovered": "未覆盖人口",
        "member": "网格员",
        "town_coverage": "各镇街覆盖率",
        "cities": "城市",
        "city_coverage": "各市覆盖率",
        "covered_share": "覆盖人口比例",
        "people": "人",
        "sites_item": "建议新址（编号为优先顺序）",
        "before_after": "覆盖率",
        "at_time": "（{when}，按当时开放的驿站）",
    },
    "en": {
        "stations": "Stations",
        "districts": "Districts",
        "towns": "Towns",
        "route": "Route",
        "reach": "Reachable",
        "gaps": "Coverage gaps",
        "sites": "Proposed sites",
        "grids": "Grids",
        "cases": "Cases",
        "open": "open now",
        "closed": "closed now",
        "hours": "Hours",
        "amenities": "Amenities",
        "outdoor_worker_station": "Outdoor-worker station",
        "service_centre": "Worker-service centre",
        "rider_home": "Riders' home",
        "driver_home": "Drivers' home",
        "minutes": "min",
        "suppressed": "fewer than 5 (hidden)",
        "uncovered": "uncovered people",
        "member": "Grid member",
        "town_coverage": "Coverage by town",
        "cities": "Cities",
        "city_coverage": "Coverage by city",
        "covered_share": "people covered",
        "people": "people",
        "sites_item": "proposed site (numbered by priority)",
        "before_after": "Coverage",
        "at_time": " at {when} (stations open then)",
    },
}
REACH_COLOURS = ("#1a9850", "#91cf60", "#d9ef8b", "#fee08b")
GAP_COLOURS = ("#fcbba1", "#fb6a4a", "#cb181d", "#67000d")


def _geojson(gdf: gpd.GeoDataFrame, coord: CoordSystem) -> dict[str, Any]:
    """Features in ``coord`` with every text property made inert.

    folium's ``GeoJsonTooltip`` writes property values into the page as HTML, and the data
    itself passes through a Jinja template once more: :func:`maps.base.inert_html_text` keeps
    a name like ``<img onerror=...>`` or ``{{ ... }}`` a name.
    """
    shifted = gdf.copy()
    shifted.geometry = [shift(g, coord) for g in gdf.geometry]
    for col in shifted.columns:
        if col != shifted.geometry.name and (
            shifted[col].dtype == object or pd.api.types.is_string_dtype(shifted[col].dtype)
        ):
            shifted[col] = [inert_html_text(v) if isinstance(v, str) else v for v in shifted[col]]
    data: dict[str, Any] = shifted.__geo_interface__
    return data


def _classed(
    m: folium.Map,
    data: gpd.GeoDataFrame,
    *,
    coord: CoordSystem,
    name: str,
    colours: dict[int, str],
    fields: list[str],
    aliases: list[str],
    line: str = "#555",
    weight: float = 0.5,
    opacity: float = 0.6,
) -> None:
    """Polygons filled by their ``cls`` column's colour, with a tooltip of ``fields``."""
    folium.GeoJson(
        _geojson(data, coord),
        name=name,
        style_function=lambda f: {
            "color": line,
            "weight": weight,
            "fillOpacity": opacity,
            "fillColor": colours[f["properties"]["cls"]],
        },
        tooltip=folium.GeoJsonTooltip(fields, aliases=aliases),
    ).add_to(m)


def add_boundaries(
    m: folium.Map,
    districts: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None = None,
    *,
    coord: CoordSystem,
    lang: Lang,
) -> folium.Map:
    """District outlines (and town outlines), named on hover."""
    t = LABELS[lang]
    folium.GeoJson(
        _geojson(districts[["name", "geometry"]], coord),
        name=t["districts"],
        style_function=lambda _: {"color": "#333", "weight": 2, "fill": False},
        tooltip=folium.GeoJsonTooltip(["name"], labels=False),
    ).add_to(m)
    if towns is not None:
        folium.GeoJson(
            _geojson(towns[["name", "geometry"]], coord),
            name=t["towns"],
            style_function=lambda _: {
                "color": "#888",
                "weight": 0.7,
                "fill": False,
                "dashArray": "3",
            },
            tooltip=folium.GeoJsonTooltip(["name"], labels=False),
        ).add_to(m)
    return m


def add_stations(
    m: folium.Map,
    stations: Sequence[dict[str, Any]],
    *,
    coord: CoordSystem,
    lang: Lang,
    open_now: dict[int, bool] | None = None,
    cluster: bool = True,
    at: datetime | None = None,
) -> folium.Map:
    """Station markers coloured by kind, with amenities, hours and open-now popups.

    ``cluster`` groups nearby markers (the whole network); a short list — a rider's nearest
    stations — is drawn marker by marker. With ``at`` (naive local time), a closed station
    says when it opens next.
    """
    t = LABELS[lang]
    group: Layer = (
        LocalMarkerCluster(name=t["stations"], options={"maxClusterRadius": 40})
        if cluster
        else folium.FeatureGroup(name=t["stations"])
    )
    for s in stations:
        state = ""
        if open_now is not None:
            is_open = open_now.get(s["id"], False)
            colour = "#1a9850" if is_open else "#a33"
            state = f"<br><b style='color:{colour}'>{t['open' if is_open else 'closed']}</b>"
            nxt = next_opening(s["opening_hours"], at) if at and not is_open else None
            if nxt is not None and at is not None:
                state += f" · {inert_html_text(describe_next_opening(nxt, at, lang))}"
        amen = "、" if lang == "zh" else ", "
        amen = amen.join(label(Amenity, a, lang) for a in s.get("amenities") or [])
        hours = describe_hours(s.get("opening_hours") or "24/7", lang)
        popup = (
            f"<b>{inert_html_text(s['name'])}</b>"
            f"<br>{inert_html_text(label(StationKind, s['kind'], lang))}"
            f"{state}<br>{t['hours']}: {inert_html_text(hours)}"
            f"<br>{t['amenities']}: {inert_html_text(amen)}"
            + ("<br><i>synthetic 示例</i>" if s.get("synthetic") else "")
        )
        marker = folium.CircleMarker(
            point(s["lon"], s["lat"], coord),
            radius=10,  # large enough to tap on a phone
            weight=2,
            color="#222",
            fill=True,
            fill_opacity=0.9,
            fill_color=KIND_COLOURS.get(s["kind"], "#555"),
            class_name="yizhan-station",
        )
        marker.add_child(TextTooltip(s["name"]))
        marker.add_child(HtmlPopup(popup))
        marker.add_to(group)
    group.add_to(m)
    return add_legend(m, t["stations"], [(c, t[k]) for k, c in KIND_COLOURS.items()], lang=lang)


def add_route(
    m: folium.Map,
    coords: Sequence[Sequence[float]],
    *,
    coord: CoordSystem,
    lang: Lang,
    label: str = "",
) -> folium.Map:
    """A route line (WGS-84 lon/lat coordinates) with start and end marks."""
    pts = [point(x, y, coord) for x, y in coords]
    line = folium.PolyLine(
        pts, color="#0b63ce", weight=5, opacity=0.85, class_name="yizhan-route"
    ).add_to(m)
    line.add_child(TextTooltip(label or LABELS[lang]["route"]))
    folium.CircleMarker(pts[0], radius=6, color="#0b63ce", fill=True, fill_color="#fff").add_to(m)
    return m


def add_reach(
    m: folium.Map, areas: Sequence[tuple[float, Any]], *, coord: CoordSystem, lang: Lang
) -> folium.Map:
    """Reachable areas (largest first, so the smaller draw on top), with a legend."""
    t = LABELS[lang]
    ordered = sorted(areas, key=lambda a: -a[0])
    for i, (minutes, geom) in enumerate(ordered):
        colour = REACH_COLOURS[min(len(ordered) - 1 - i, len(REACH_COLOURS) - 1)]
        gdf = gpd.GeoDataFrame({"minutes": [minutes]}, geometry=[geom], crs=4326)
        folium.GeoJson(
            _geojson(gdf, coord),
            name=f"{t['reach']} {minutes:g} {t['minutes']}",
            style_function=lambda _, c=colour: {
                "color": c,
                "fillColor": c,
                "weight": 1,
                "fillOpacity": 0.35,
            },
        ).add_to(m)
    items = [
        (REACH_COLOURS[min(i, 3)], f"≤ {mm:g} {t['minutes']}")
        for i, (mm, _) in enumerate(sorted(areas, key=lambda a: a[0]))
    ]
    return add_legend(m, t["reach"], items, lang=lang)


def add_gaps(
    m: folium.Map, gaps: gpd.GeoDataFrame, *, coord: CoordSystem, lang: Lang
) -> folium.Map:
    """Gap areas (one town each) as a choropleth of uncovered people, ranked, with a legend."""
    t = LABELS[lang]
    if len(gaps) == 0:
        return m
    values = gaps["uncovered_demand"].to_numpy()
    edges = [0, 1_000, 10_000, 100_000]
    data = gaps[["rank", "uncovered_demand", "geometry"]].copy()
    data["town"] = gaps.get("town", "")
    data["uncovered"] = [f"{v:,.0f}" for v in values]
    data["cls"] = [sum(v >= e for e in edges[1:]) for v in values]
    _classed(
        m,
        data.drop(columns="uncovered_demand"),
        coord=coord,
        name=t["gaps"],
        colours=dict(enumerate(GAP_COLOURS)),
        fields=["rank", "town", "uncovered"],
        aliases=["#", t["towns"], t["uncovered"]],
        line="#67000d",
        opacity=0.55,
    )
    labels = ["< 1,000", "1,000–10,000", "10,000–100,000", "≥ 100,000"]
    return add_legend(
        m, f"{t['gaps']} ({t['uncovered']})", list(zip(GAP_COLOURS, labels, strict=True)), lang=lang
    )


SHARE_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#4393c3")
SHARE_EDGES = (0.5, 0.7, 0.85, 0.95)


def add_town_coverage(
    m: folium.Map,
    towns: gpd.GeoDataFrame,
    *,
    coord: CoordSystem,
    lang: Lang,
    unit: Literal["town", "city"] = "town",
    when: datetime | None = None,
) -> folium.Map:
    """Towns (or cities) coloured by the share of people covered (``share``, ``uncovered``).

    ``when``: the time the coverage is for (opening hours matter), said in the legend's title.
    """
    t = LABELS[lang]
    title, area = t[f"{unit}_coverage"], t["cities" if unit == "city" else "towns"]
    if when is not None:
        title += t["at_time"].format(when=when.strftime("%Y-%m-%d %H:%M"))
    data = towns[["name", "share", "uncovered", "geometry"]].copy()
    data["cls"] = [sum(v >= e for e in SHARE_EDGES) for v in data["share"].fillna(0)]
    data["covered_text"] = [f"{v:.0%}" for v in data["share"].fillna(0)]
    data["uncovered_text"] = [f"{v:,.0f}" for v in data["uncovered"]]
    _classed(
        m,
        data.drop(columns=["share", "uncovered"]),
        coord=coord,
        name=title,
        colours=dict(enumerate(SHARE_COLOURS)),
        fields=["name", "covered_text", "uncovered_text"],
        aliases=[area, t["covered_share"], t["uncovered"]],
        weight=0.6,
    )
    labels = ["< 50%", "50–70%", "70–85%", "85–95%", "≥ 95%"]
    items = list(zip(SHARE_COLOURS, labels, strict=True))
    return add_legend(m, title, items, lang=lang)


SITE_COLOUR = "#00796b"


def add_sites(
    m: folium.Map,
    sites: Sequence[dict[str, Any]],
    *,
    coord: CoordSystem,
    lang: Lang,
    summary: str = "",
) -> folium.Map:
    """Proposed new sites, numbered by rank, with the people each adds, and their legend."""
    t = LABELS[lang]
    group = folium.FeatureGroup(name=t["sites"])
    for s in sites:
        rank = int(s["rank"])
        added = s.get("added_demand")
        text = f"{t['sites']} #{rank}"
        if added is not None:
            text += f": +{float(added):,.0f} {t['people']}"
        marker = folium.Marker(
            point(s["lon"], s["lat"], coord),
            icon=folium.DivIcon(
                html=f"<div class='yizhan-site' style='background:{SITE_COLOUR};"
                "color:#fff;border:2px solid #fff;border-radius:4px;width:26px;height:26px;"
                "text-align:center;font:bold 13px/22px sans-serif;"
                f"box-shadow:0 1px 3px rgba(0,0,0,.5)'>{rank}</div>",
                icon_size=(26, 26),
                icon_anchor=(13, 13),
            ),
        ).add_to(group)
        marker.add_child(TextTooltip(text))
    group.add_to(m)
    return add_legend(m, t["sites"], [(SITE_COLOUR, t["sites_item"])], lang=lang, summary=summary)


def add_grids(
    m: folium.Map,
    grids: gpd.GeoDataFrame,
    *,
    coord: CoordSystem,
    lang: Lang,
    show_members: bool = False,
) -> folium.Map:
    """Grid outlines; member names only when ``show_members`` (authorised viewers)."""
    t = LABELS[lang]
    cols = ["code", "town"] + (["member"] if show_members and "member" in grids else [])
    folium.GeoJson(
        _geojson(grids[[*cols, "geometry"]], coord),
        name=t["grids"],
        style_function=lambda _: {"color": "#2e7d32", "weight": 1, "fillOpacity": 0.05},
        tooltip=folium.GeoJsonTooltip(cols),
    ).add_to(m)
    return add_legend(m, t["grids"], [("#2e7d32", t["grids"])], lang=lang)


def add_case_density(
    m: folium.Map, grids: gpd.GeoDataFrame, *, coord: CoordSystem, lang: Lang
) -> folium.Map:
    """Cases per grid (``cases`` column; None = suppressed small count), as a choropleth."""
    t = LABELS[lang]
    colours = {-1: "#ccc", 0: "#deebf7", 1: "#9ecae1", 2: "#4292c6", 3: "#08519c"}
    labels = (t["suppressed"], "5–9", "10–19", "20–49", "≥ 50")
    items = list(zip(colours.values(), labels, strict=True))
    if len(grids) == 0:
        return add_legend(m, t["cases"], items, lang=lang)
    data = grids[["code", "cases", "geometry"]].copy()
    hidden = [c is None or pd.isna(c) for c in data["cases"]]
    data["label"] = [
        t["suppressed"] if h else str(int(c)) for h, c in zip(hidden, data["cases"], strict=True)
    ]
    data["cls"] = [
        -1 if h else (0 if c < 10 else 1 if c < 20 else 2 if c < 50 else 3)
        for h, c in zip(hidden, data["cases"], strict=True)
    ]
    _classed(
        m,
        data.drop(columns="cases"),
        coord=coord,
        name=t["cases"],
        colours=colours,
        fields=["code", "label"],
        aliases=["grid", t["cases"]],
        opacity=0.7,
    )
    return add_legend(m, t["cases"], items, lang=lang)


def add_layer_control(m: folium.Map) -> folium.Map:
    """The layer switcher (call last)."""
    folium.LayerControl(collapsed=True).add_to(m)
    return m
