"""The riders' page: what it shows of a nearest-station answer, in the rider's language.

Pure presentation: a :class:`~geo.routing.engine.NearestResult` (and the time it was asked
for) in, plain data out — the same items for the HTML the server renders and for the JSON the
page's script fetches when a chip changes. No SQL, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from geo.coords import from_wgs84
from geo.hours import is_open
from geo.hours_words import describe_hours, describe_next_opening, next_opening
from geo.navigation import hand_offs
from geo.routing.answers import NearestHit, NearestResult
from geo.vocabulary import (
    CHINA_NAVIGATION,
    Amenity,
    CoordSystem,
    Profile,
    StationKind,
    StationProblem,
    icon,
    label,
)

#: distinct colours of the listed routes (1st, 2nd, ...), readable on a light map
ROUTE_COLOURS = ("#0b63ce", "#e4572e", "#2e7d32", "#8e24aa", "#f2a541")
#: how many stations the page lists
LIST_SIZE = 5

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "找驿站",
        "heading": "附近的驿站",
        "subtitle": "按电动车骑行时间排序",
        "locating": "正在获取您的位置…",
        "located": "您的位置",
        "denied": "无法获取您的位置。请在地图上点选位置，或选择所在镇街。",
        "pick_town": "选择镇街",
        "outside": "您的位置不在{region}服务范围内。已为您定位到范围内最近的地点。",
        "no_road": "这个位置附近没有可通行的道路，请在地图上另选一点。",
        "error": "暂时无法查询，请稍后再试。",
        "none": "附近没有符合条件的驿站。可以减少筛选条件，或关闭“正在开放”。",
        "open_now": "正在开放",
        "open": "开放中",
        "closed": "未开放",
        "minutes": "分钟",
        "km": "公里",
        "m": "米",
        "navigate": "导航",
        "details": "详情",
        "call": "拨打电话",
        "address": "地址",
        "hours": "开放时间",
        "amenities": "设施",
        "kinds": "类型",
        "profile": "出行方式",
        "synthetic": "示例数据：驿站、道路为生成数据，非真实记录",
        "lang_switch": "English",
        "photo": "驿站照片",
        "map": "地图",
        "list": "列表",
        "retry": "重新定位",
        "beyond": "{minutes} 分钟内没有符合条件的驿站。下面是最近的一个；也可以拨打工会热线。",
        "far": "较远",
        "hotline": "工会热线",
        "snapped": "您的位置不在道路上，已从最近的道路（约 {metres} 米外）查询。",
        "drive_subtitle": "按驾车时间排序",
        "report": "报告问题",
        "confirm": "开放正常 👍",
        "confirmed": "已确认，谢谢！",
        "report_what": "遇到了什么问题？",
        "report_amenity": "哪项设施？",
        "report_text": "补充说明（选填）",
        "report_photo": "拍照（选填）",
        "photo_sent": "照片已上传。",
        "report_send": "提交",
        "report_sent": "已收到，谢谢！工会会尽快处理。编号 {reference}",
        "report_failed": "没能提交，请稍后再试。",
        "report_busy": "提交太频繁了，请稍后再试。",
        "confirmed_ago": "{ago}有骑手确认开放",
        "reports_week": "本周 {n} 条问题反馈",
        "checked": "资料更新于 {date}",
        "just_now": "刚刚",
        "minutes_ago": "{n} 分钟前",
        "hours_ago": "{n} 小时前",
        "days_ago": "{n} 天前",
        "last_list": "显示的是上次（{time}）的结果，正在更新…",
        "offline": "网络不佳，显示的是上次（{time}）的结果。",
    },
    "en": {
        "title": "Find a station",
        "heading": "Stations near you",
        "subtitle": "by riding time on an e-bike",
        "locating": "Finding your position…",
        "located": "You are here",
        "denied": "Your position is not available. Tap the map or choose your town.",
        "pick_town": "Choose a town",
        "outside": "You are outside the {region} service area; showing the nearest point inside.",
        "no_road": "No road near this point; tap another place on the map.",
        "error": "The search is not available right now; please try again.",
        "none": "No station matches nearby. Remove a filter or turn off “Open now”.",
        "open_now": "Open now",
        "open": "Open",
        "closed": "Closed",
        "minutes": "min",
        "km": "km",
        "m": "m",
        "navigate": "Navigate",
        "details": "Details",
        "call": "Call",
        "address": "Address",
        "hours": "Hours",
        "amenities": "Amenities",
        "kinds": "Kinds",
        "profile": "Travel by",
        "synthetic": "Sample data: stations and roads are generated, not real records",
        "lang_switch": "中文",
        "photo": "Station photo",
        "map": "Map",
        "list": "List",
        "retry": "Locate me again",
        "beyond": "No matching station within {minutes} min. The nearest one is below; "
        "or call the union hotline.",
        "far": "Far",
        "hotline": "Union hotline",
        "snapped": "Your position is off the road network; searched from the nearest road, "
        "about {metres} m away.",
        "drive_subtitle": "by driving time",
        "report": "Report a problem",
        "confirm": "Open and fine 👍",
        "confirmed": "Thank you for confirming!",
        "report_what": "What was wrong?",
        "report_amenity": "Which amenity?",
        "report_text": "Anything to add (optional)",
        "report_photo": "A photo (optional)",
        "photo_sent": "Photo added.",
        "report_send": "Send",
        "report_sent": "Received, thank you! The union will see to it. Reference {reference}",
        "report_failed": "Could not send; please try again later.",
        "report_busy": "Too many reports from here; please try again later.",
        "confirmed_ago": "confirmed open {ago}",
        "reports_week": "{n} problem reports this week",
        "checked": "details checked {date}",
        "just_now": "just now",
        "minutes_ago": "{n} min ago",
        "hours_ago": "{n} h ago",
        "days_ago": "{n} days ago",
        "last_list": "Showing your last list (from {time}) while a new one loads…",
        "offline": "Weak or no signal: showing your last list, from {time}.",
    },
}


#: the sample region's name in each language
SAMPLE_REGION = {"zh": "江门市", "en": "Jiangmen"}


def page_text(lang: str, region: str | None = None, note: str | None = None) -> dict[str, str]:
    """The page's texts in ``lang`` for a region (default: the Jiangmen sample and its note)."""
    t = dict(TEXT[lang])
    t["outside"] = t["outside"].format(region=region or SAMPLE_REGION[lang])
    if note:
        t["synthetic"] = note
    return t


def distance_text(metres: float, lang: str) -> str:
    """``850 米`` / ``1.2 公里`` (``850 m`` / ``1.2 km``)."""
    t = TEXT[lang]
    if metres < 1000:
        return f"{round(metres / 10) * 10:.0f} {t['m']}"
    return f"{metres / 1000:.1f} {t['km']}"


def whole_minutes(seconds: float) -> int:
    """Minutes as riders read them: whole, and at least 1 (the API keeps the seconds)."""
    return max(1, round(seconds / 60))


#: a rider is told the search started from a road when their position is farther from it
SNAP_NOTE_M = 150.0


def listed_hits(result: NearestResult, cutoff_s: float) -> tuple[list[NearestHit], bool]:
    """The hits the page lists, and whether none was within ``cutoff_s``.

    Stations beyond the cut-off are not listed as if near: when none is within it, only the
    nearest one is offered (marked far), beside the hotline.
    """
    near = [h for h in result.hits if h.route.travel_time_s <= cutoff_s]
    if near or not result.hits:
        return near, False
    return result.hits[:1], True


def _line(coords: np.ndarray, coord: CoordSystem) -> list[list[float]]:
    """Route coordinates as Leaflet's ``[lat, lon]`` in ``coord``, 6 decimals."""
    x, y = from_wgs84(coords[:, 0], coords[:, 1], coord)
    return np.round(np.column_stack([y, x]), 6).tolist()


def station_items(
    result: NearestResult,
    *,
    at: datetime,
    lang: str,
    map_coord: CoordSystem = CoordSystem.WGS84,
    hits: Sequence[NearestHit] | None = None,
    apps: Sequence[str] = CHINA_NAVIGATION,
) -> list[dict[str, Any]]:
    """The listed stations, nearest first, ready to show.

    Parameters
    ----------
    result
        The engine's answer for the rider's position.
    at
        The (naive, local) time the answer is for: open status and next opening.
    lang
        ``zh`` or ``en``.
    map_coord
        Coordinate system of the map's positions (``gcj02`` on AutoNavi tiles).
    hits
        The hits to show (default: all of the answer's).
    apps
        The navigation apps to hand off to, in order (the region's).
    """
    t = TEXT[lang]
    items = []
    for rank, hit in enumerate(result.hits if hits is None else hits, start=1):
        s, route = hit.station, hit.route
        open_now = is_open(s.opening_hours, at)
        nxt = None if open_now else next_opening(s.opening_hours, at)
        photo = s.extra.get("photo")
        mlat, mlon = _line(np.array([[s.lon, s.lat]]), map_coord)[0]
        items.append(
            {
                "id": s.id,
                "rank": rank,
                "name": s.name,
                "kind": s.kind,
                "kind_label": label(StationKind, s.kind, lang),
                "minutes": whole_minutes(route.travel_time_s),
                "travel_time_s": round(route.travel_time_s, 1),
                "distance_m": round(route.distance_m, 1),
                "distance_text": distance_text(route.distance_m, lang),
                "open": open_now,
                "open_label": t["open"] if open_now else t["closed"],
                "next_open": describe_next_opening(nxt, at, lang) if nxt else None,
                "hours": describe_hours(s.opening_hours, lang),
                "amenities": [
                    {"code": a, "label": label(Amenity, a, lang), "icon": _icon(a)}
                    for a in sorted(s.amenities, key=_amenity_order)
                ],
                "address": s.extra.get("address"),
                "phone": s.extra.get("phone"),
                "photo_url": f"/v1/stations/{s.id}/photo?v={photo[:12]}" if photo else None,
                "synthetic": bool(s.extra.get("synthetic")),
                "lat": mlat,
                "lon": mlon,
                "colour": ROUTE_COLOURS[(rank - 1) % len(ROUTE_COLOURS)],
                "route": _line(route.drawn, map_coord),
                "nav": hand_offs(
                    s.lon, s.lat, s.name, profile=result.profile, apps=apps, lang=lang
                ),
            }
        )
    return items


def ago_text(then: datetime, now: datetime, lang: str) -> str:
    """How long ago, in words riders read: 刚刚 / 5 分钟前 / 3 小时前 / 2 天前."""
    t = TEXT[lang]
    minutes = max(0, int((now - then).total_seconds() // 60))
    if minutes < 1:
        return t["just_now"]
    if minutes < 60:
        return t["minutes_ago"].format(n=minutes)
    if minutes < 24 * 60:
        return t["hours_ago"].format(n=minutes // 60)
    return t["days_ago"].format(n=minutes // (24 * 60))


def riders_word(counts: Mapping[str, Any], now: datetime, lang: str) -> dict[str, Any]:
    """What the card says of riders' reports and confirmations and of the data's last check.

    ``counts`` as :func:`geo.station_feedback.station_counts` gives them; ``now`` aware (UTC).
    """
    t = TEXT[lang]
    confirmed = counts.get("last_confirmed_at")
    checked = counts.get("checked_at")
    reports = int(counts.get("problem_reports_7d") or 0)
    return {
        "confirmed": t["confirmed_ago"].format(ago=ago_text(confirmed, now, lang))
        if confirmed
        else None,
        "reports": t["reports_week"].format(n=reports) if reports else None,
        "reports_7d": reports,
        "checked": t["checked"].format(date=f"{checked:%Y-%m-%d}") if checked else None,
    }


def problem_options(lang: str) -> list[dict[str, str]]:
    """The problems a rider may report, labelled."""
    return [{"code": p.value, "label": p.label(lang)} for p in StationProblem]


def _icon(code: str) -> str:
    return icon(Amenity, code) or "•"


def _amenity_order(code: str) -> tuple[int, str]:
    order = Amenity.codes()
    return (order.index(code) if code in order else len(order), code)


def chip_options(
    amenities: Sequence[str],
    kinds: Sequence[str],
    lang: str,
    profiles: Sequence[Profile] = (Profile.E_BIKE, Profile.WALK),
) -> dict[str, list[dict[str, str]]]:
    """The filter chips: amenities, station kinds and travel profiles, labelled."""
    return {
        "amenities": [
            {"code": a, "label": label(Amenity, a, lang), "icon": _icon(a)}
            for a in sorted(amenities, key=_amenity_order)
        ],
        "kinds": [{"code": k, "label": label(StationKind, k, lang)} for k in kinds],
        "profiles": [{"code": p.value, "label": p.label(lang), "icon": p.icon} for p in profiles],
    }
