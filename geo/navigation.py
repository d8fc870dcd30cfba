"""Hand-off to the navigation apps riders use, in China and elsewhere.

AutoNavi (高德), Baidu and Tencent maps in China; Google Maps, Apple Maps and any map app (a
``geo:`` URI) elsewhere. Web URIs: inside WeChat's browser app schemes are blocked, and each
web URI opens the app when it is installed. AutoNavi and Tencent take GCJ-02 coordinates, Baidu
BD-09; positions come in WGS-84 and are converted here. Outside China every link is WGS-84.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from geo.coords import from_wgs84
from geo.vocabulary import CHINA_NAVIGATION, NavigationApp

#: travel mode of each profile, per app (their links know no trucks: a truck driver drives)
MODES = {
    "amap": {"e_bike": "ride", "walk": "walk", "drive": "car", "truck": "car"},
    "baidu": {"e_bike": "riding", "walk": "walking", "drive": "driving", "truck": "driving"},
    "tencent": {"e_bike": "bike", "walk": "walk", "drive": "drive", "truck": "drive"},
    "google": {"e_bike": "bicycling", "walk": "walking", "drive": "driving", "truck": "driving"},
    "apple": {"e_bike": "w", "walk": "w", "drive": "d", "truck": "d"},  # Apple's: no cycling
}


def _in(lon: float, lat: float, coord: str) -> tuple[float, float]:
    x, y = from_wgs84(lon, lat, coord)  # type: ignore[arg-type]
    return round(float(x), 6), round(float(y), 6)


def navigation_links(
    lon: float, lat: float, name: str, *, profile: str = "e_bike", app_name: str = "yizhan"
) -> dict[str, str]:
    """Web URIs that start navigation to a WGS-84 point, keyed ``amap``, ``baidu``, ``tencent``.

    Parameters
    ----------
    lon, lat
        The destination in WGS-84.
    name
        The destination's name, shown by the app.
    profile
        ``e_bike`` (riding), ``walk`` or ``drive``.
    app_name
        Who is asking (``src`` / ``referer`` of the URIs).

    Returns
    -------
    dict
        ``{"amap": ..., "baidu": ..., "tencent": ...}``.
    """
    glon, glat = _in(lon, lat, "gcj02")
    blon, blat = _in(lon, lat, "bd09")
    amap = "https://uri.amap.com/navigation?" + urlencode(
        {
            "to": f"{glon},{glat},{name}",
            "mode": MODES["amap"][profile],
            "coordinate": "gaode",
            "callnative": 1,
            "src": app_name,
        }
    )
    baidu = "https://api.map.baidu.com/direction?" + urlencode(
        {
            "origin": "我的位置",
            "destination": f"latlng:{blat},{blon}|name:{name}",
            "mode": MODES["baidu"][profile],
            "coord_type": "bd09ll",
            "output": "html",
            "src": app_name,
        }
    )
    tencent = "https://apis.map.qq.com/uri/v1/routeplan?" + urlencode(
        {
            "type": MODES["tencent"][profile],
            "to": name,
            "tocoord": f"{glat},{glon}",
            "referer": app_name,
        }
    )
    return {"amap": amap, "baidu": baidu, "tencent": tencent}


def world_links(lon: float, lat: float, name: str, *, profile: str = "e_bike") -> dict[str, str]:
    """WGS-84 hand-offs: Google Maps, Apple Maps and a ``geo:`` URI any map app opens."""
    google = "https://www.google.com/maps/dir/?" + urlencode(
        {"api": 1, "destination": f"{lat:.6f},{lon:.6f}", "travelmode": MODES["google"][profile]}
    )
    apple = "https://maps.apple.com/?" + urlencode(
        {"daddr": f"{lat:.6f},{lon:.6f}", "q": name, "dirflg": MODES["apple"][profile]}
    )
    osm = f"geo:{lat:.6f},{lon:.6f}?" + urlencode({"q": f"{lat:.6f},{lon:.6f}({name})"})
    return {"google": google, "apple": apple, "osm": osm}


def hand_offs(
    lon: float,
    lat: float,
    name: str,
    *,
    profile: str = "e_bike",
    apps: Sequence[str] = CHINA_NAVIGATION,
    lang: str = "zh",
) -> list[dict[str, str]]:
    """The region's navigation links to a WGS-84 point, in its order, labelled in ``lang``.

    Each is ``{"app": code, "label": words, "href": URI}``.
    """
    links = {}
    if any(a in CHINA_NAVIGATION for a in apps):
        links.update(navigation_links(lon, lat, name, profile=profile))
    if any(a not in CHINA_NAVIGATION for a in apps):
        links.update(world_links(lon, lat, name, profile=profile))
    return [
        {"app": a, "label": NavigationApp(a).label(lang), "href": links[a]}
        for a in apps
        if a in links
    ]
