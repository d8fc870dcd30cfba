"""The base of every map: Leaflet from the app's own assets, a chosen base map, a legend.

Like ``GeoDataFrame.explore``, builders take data and an optional map ``m`` and return the
map; they do no analysis and know nothing of HTTP. Overlays are given in WGS-84 and shifted
to GCJ-02 when the base map is AutoNavi's (whose tiles are in GCJ-02), so they line up.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, cast

import folium
from branca.element import Figure, MacroElement, Template
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster

from geo.coords import from_wgs84, geometry_from_wgs84
from geo.vocabulary import CoordSystem

Lang = Literal["zh", "en"]
TileChoice = Literal["own", "none", "osm", "gaode", "tianditu", "custom"]
ASSETS_URL = "/maps/assets"
JIANGMEN_CENTRE = (22.40, 112.75)
SYNTHETIC_NOTE = {
    "zh": "示例数据：驿站、网格、人员与道路为生成数据，非真实记录",
    "en": "Sample data: stations, grids, people and roads are synthetic, not real records",
}


class LocalMap(folium.Map):
    """A folium map that loads Leaflet from the app, not from a CDN.

    ``data_note`` is what its first legend says of the data (None: the sample's note).

    Shown in a notebook (Jupyter, VS Code), where no app serves ``/maps/assets``, the map
    carries its scripts and styles inline instead, so it draws from any origin, offline.
    """

    default_js = [("leaflet", f"{ASSETS_URL}/leaflet/leaflet.js")]  # noqa: RUF012
    default_css = [("leaflet_css", f"{ASSETS_URL}/leaflet/leaflet.css")]  # noqa: RUF012
    data_note: str | None = None

    def _repr_html_(self, **kwargs: Any) -> str:
        from geo.settings import get_settings

        with self.assets_inline(get_settings().state_dir / "assets"):
            return str(super()._repr_html_(**kwargs))

    @contextmanager
    def assets_inline(self, assets: Path) -> Iterator[None]:
        """While open, the map and its children carry their scripts and styles inline."""
        elements = [self, *self._all_children()]
        saved = [(e, e.__dict__.get("default_js"), e.__dict__.get("default_css")) for e in elements]
        for e in elements:
            for attr in ("default_js", "default_css"):
                links = getattr(e, attr, None)
                if links:
                    setattr(e, attr, [(n, inline_url(u, assets)) for n, u in links])
        try:
            yield
        finally:
            for e, js, css in saved:
                for attr, value in (("default_js", js), ("default_css", css)):
                    if value is None:
                        e.__dict__.pop(attr, None)
                    else:
                        setattr(e, attr, value)

    def _all_children(self) -> list[Any]:
        out, stack = [], list(self._children.values())
        while stack:
            child = stack.pop()
            out.append(child)
            stack.extend(getattr(child, "_children", {}).values())
        return out


def inline_url(url: str, assets: Path) -> str:
    """An app asset URL as a ``data:`` URL with the file's content (others unchanged)."""
    if not url.startswith(ASSETS_URL + "/"):
        return url
    path = assets / url.removeprefix(ASSETS_URL + "/")
    kind = "text/css" if path.suffix == ".css" else "text/javascript"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


class LocalMarkerCluster(MarkerCluster):
    """Marker clustering from the app's own copy of Leaflet.markercluster."""

    default_js = [  # noqa: RUF012
        ("markerclusterjs", f"{ASSETS_URL}/markercluster/leaflet.markercluster.js")
    ]
    default_css = [  # noqa: RUF012
        ("markerclustercss", f"{ASSETS_URL}/markercluster/MarkerCluster.css"),
        ("markerclusterdefaultcss", f"{ASSETS_URL}/markercluster/MarkerCluster.Default.css"),
    ]


def base_map(
    *,
    center: tuple[float, float] = JIANGMEN_CENTRE,
    zoom: int = 9,
    tiles: TileChoice = "none",
    lang: Lang = "zh",
    tile_url: str | None = None,
    tianditu_key: str | None = None,
    note: str | None = None,
) -> tuple[folium.Map, CoordSystem]:
    """A map with the chosen base layer, and the coordinate system overlays must use.

    ``own`` draws the platform's own basemap (its vector tiles under ``/ogc/tiles``, so only
    where the app serves the page); ``none`` (the default here, for notebooks) draws no tiles
    — boundaries on a plain background.
    ``note`` is what the first legend says of the data (default: the sample's note).
    """
    coord = tiles_coord(tiles)
    lat, lon = center
    if coord == CoordSystem.GCJ02:
        glon, glat = from_wgs84(lon, lat, coord)
        lat, lon = float(glat), float(glon)
    m = LocalMap(
        location=(lat, lon),
        zoom_start=zoom,
        tiles=None,
        max_zoom=19,
        control_scale=True,
        prefer_canvas=False,
    )
    m.options["maxZoom"] = 19  # Leaflet.markercluster needs the map's own maxZoom
    m.data_note = note
    root = cast(Figure, m.get_root())
    if tiles == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr="© OpenStreetMap contributors",
            name="OpenStreetMap",
            max_zoom=19,
        ).add_to(m)
    elif tiles == "gaode":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            attr="© AutoNavi 高德",
            name="高德 AutoNavi",
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
    elif tiles == "tianditu" and tianditu_key:
        folium.TileLayer(
            f"https://t{{s}}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={tianditu_key}",
            attr="© 天地图 Tianditu",
            name="天地图 Tianditu",
            subdomains="01234567",
        ).add_to(m)
    elif tiles == "custom" and tile_url:
        folium.TileLayer(tile_url, attr="custom tiles", name="custom").add_to(m)
    elif tiles == "own":
        m.add_child(OwnBasemap(lang))
    else:
        root.header.add_child(
            folium.Element("<style>.leaflet-container{background:#eef2f5}</style>")
        )
    m.add_child(TextHelper())  # (folium's map brings the one viewport tag)
    return m, coord


def tiles_coord(tiles: str) -> CoordSystem:
    """The coordinate system a base layer draws in: GCJ-02 for AutoNavi's tiles, else WGS-84."""
    return CoordSystem.GCJ02 if tiles == "gaode" else CoordSystem.WGS84


def shift(geom: Any, coord: CoordSystem) -> Any:
    """A WGS-84 shapely geometry in ``coord``, to 6 decimals (about 0.1 m: lighter pages)."""
    return geometry_from_wgs84(geom, coord, decimals=6)


def point(lon: float, lat: float, coord: CoordSystem) -> tuple[float, float]:
    """A WGS-84 point as Leaflet's ``(lat, lon)`` in ``coord``, to 6 decimals."""
    x, y = from_wgs84(lon, lat, coord)
    return round(float(y), 6), round(float(x), 6)


_LEGEND = """
{% macro html(this, kwargs) %}
<div class="yizhan-legend" style="position:absolute;z-index:1000;bottom:24px;left:{{ this.left }}px;
  background:rgba(255,255,255,.92);padding:8px 10px;margin-bottom:16px;border-radius:6px;font:12px/1.4 sans-serif;
  max-width:240px;box-shadow:0 1px 4px rgba(0,0,0,.3)">
  <details open><summary style="cursor:pointer;font-weight:bold;min-height:24px">{{ this.title }}</summary>
  {% for color, label in this.items %}
  <div><span style="display:inline-block;width:12px;height:12px;background:{{ color }};
    margin-right:6px;border:1px solid #555;vertical-align:middle"></span>{{ label }}</div>
  {% endfor %}
  {% if this.summary %}<div style="margin-top:4px">{{ this.summary }}</div>{% endif %}
  </details>
  <div style="margin-top:4px;color:#a33">{{ this.note }}</div>
</div>
{% endmacro %}
"""


class Legend(MacroElement):
    """A fixed legend box with coloured entries and the synthetic-data note."""

    _template = Template(_LEGEND)

    def __init__(
        self,
        title: str,
        items: list[tuple[str, str]],
        note: str,
        *,
        left: int = 10,
        summary: str = "",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.title, self.items, self.note, self.left = title, items, note, left
        self.summary = summary


def add_legend(
    m: folium.Map, title: str, items: list[tuple[str, str]], *, lang: Lang, summary: str = ""
) -> folium.Map:
    """Add a collapsible legend (the first with the synthetic-data note) to ``m``."""
    count = sum(isinstance(c, Legend) for c in m._children.values())
    note = (getattr(m, "data_note", None) or SYNTHETIC_NOTE[lang]) if count == 0 else ""
    m.add_child(Legend(title, items, note, left=10 + 250 * count, summary=summary))
    return m


_FORM = """
{% macro html(this, kwargs) %}
<form class="yizhan-form" method="get" autocomplete="off" style="position:absolute;z-index:1001;top:10px;right:56px;
  background:rgba(255,255,255,.95);padding:6px 8px;border-radius:6px;font:13px/1.6 sans-serif;
  box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:280px">
  {% for name, label, kind, value, options in this.fields %}
  <label style="display:block">{{ label }}
    {% if kind == "select" %}<select name="{{ name }}" style="font:inherit;min-height:28px">
      {% for code, text in options %}<option value="{{ code }}"{% if code == value %} selected{% endif %}>{{ text }}</option>{% endfor %}
    </select>
    {% else %}<input name="{{ name }}" type="{{ kind }}" value="{{ value }}" style="font:inherit;width:9em;min-height:28px"
      {% for k, v in options %} {{ k }}="{{ v }}"{% endfor %}>{% endif %}
  </label>
  {% endfor %}
  {% for name, value in this.hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">{% endfor %}
  <button type="submit" style="font:inherit;min-height:32px;margin-top:4px">{{ this.submit }}</button>
</form>
{% endmacro %}
"""


class ParamForm(MacroElement):
    """A small form on a map page to change its parameters (the page reloads with them).

    ``fields`` are ``(name, label, kind, value, options)``: kind ``select`` with options
    ``(code, text)``, else an ``<input>`` type with attribute pairs. Values and options are
    the page's own validated parameters and labels (numbers, codes), never free text.
    """

    _template = Template(_FORM)

    def __init__(
        self,
        fields: list[tuple[str, str, str, Any, list[tuple[str, Any]]]],
        *,
        hidden: list[tuple[str, str]],
        submit: str,
    ) -> None:
        super().__init__()
        self._name = "ParamForm"
        self.fields, self.hidden, self.submit = fields, hidden, submit


#: At phone size the panels start closed (a tap opens one) and the legends stack at the left,
#: each at most half the width, so the map stays visible and nothing covers another panel.
_PHONE_LAYOUT = """
(function () {
  if (!window.matchMedia || !window.matchMedia("(max-width: 600px)").matches) { return; }
  document.querySelectorAll(".yizhan-legend details, details.yizhan-area-table")
    .forEach(function (d) { d.open = false; });
  var bottom = 24;
  document.querySelectorAll(".yizhan-legend").forEach(function (el) {
    el.style.left = "10px"; el.style.bottom = bottom + "px"; el.style.maxWidth = "46vw";
    el.style.marginBottom = "0";
    bottom += el.offsetHeight + 6;
  });
  document.querySelectorAll(".yizhan-area-table").forEach(function (el) { el.style.maxWidth = "46vw"; });
})();
"""


def render_page(m: folium.Map, *, lang: Lang, title: str) -> str:
    """The map as a whole HTML page with a ``<title>`` and the page's language."""
    root = cast(Figure, m.get_root())
    root.header.add_child(folium.Element(f"<title>{inert_html_text(title)}</title>"), name="title")
    root.script.add_child(folium.Element(_PHONE_LAYOUT), name="phone_layout")
    page = root.render()
    return page.replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)


_BBOX_LAYER = """
{% macro script(this, kwargs) %}
(function() {
  var map = {{ this._parent.get_name() }};
  var layer = L.geoJSON(null, {
    pointToLayer: function (f, latlng) {
      return L.circleMarker(latlng, {radius: 3, weight: 0, fillOpacity: 0.7,
                                     fillColor: {{ this.colour|tojson }}, className: "yizhan-bbox-feature"});
    },
    style: function () { return {color: {{ this.colour|tojson }}, weight: 1, fillOpacity: 0.1}; },
    onEachFeature: function (f, l) { if (f.properties && f.properties.name) { l.bindTooltip(yizhanText(f.properties.name)); } }
  }).addTo(map);
  function load() {
    if (map.getZoom() < {{ this.min_zoom }}) { layer.clearLayers(); return; }
    var b = map.getBounds();
    var url = {{ this.url|tojson }} + "?limit={{ this.limit }}&bbox=" +
      [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    fetch(url).then(function (r) { return r.json(); }).then(function (fc) {
      layer.clearLayers(); layer.addData(fc);
    });
  }
  map.on("moveend", load);
  load();
})();
{% endmacro %}
"""


class BboxLayer(MacroElement):
    """A layer too big to inline: features fetched for the visible area from the OGC API."""

    _template = Template(_BBOX_LAYER)

    def __init__(
        self, url: str, *, colour: str = "#555", limit: int = 2000, min_zoom: int = 11
    ) -> None:
        super().__init__()
        self._name = "BboxLayer"
        self.url, self.colour, self.limit, self.min_zoom = url, colour, limit, min_zoom


_JS_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "'": "\\u0027", "{": "\\u007b", "}": "\\u007d"}
)


def js_string(text: str) -> str:
    """``text`` as a JavaScript string literal safe inside a page's ``<script>``.

    Beyond JSON's own escaping (quotes, backslashes, line separators as unicode escapes):
    ``<``, ``>``, ``&`` and ``'`` so no text closes the script or opens a tag, and ``{`` and
    ``}`` because branca renders every macro's output once more as a Jinja template — a name
    holding ``{{ ... }}`` would otherwise be run as template code on the server.
    """
    return json.dumps(text, ensure_ascii=True).translate(_JS_ESCAPES)


def inert_html_text(text: str) -> str:
    """``text`` escaped for HTML, with braces as entities (see :func:`js_string`)."""
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


class TextTooltip(MacroElement):
    """A tooltip showing ``text`` as text, never as HTML or script.

    folium's own tooltip puts its text into a JavaScript template literal, where a backtick or
    ``${...}`` in a station's name would run as code; here the text travels as a safe string
    literal (:func:`js_string`) into a text node.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindTooltip(yizhanText({{ this.text_js }}), "
        "{sticky: true});"
        "{% endmacro %}"
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "TextTooltip"
        self.text_js = js_string(text)


_TEXT_HELPER = """
{% macro header(this, kwargs) %}
<script>function yizhanText(s) { var d = document.createElement("div"); d.textContent = String(s); return d; }</script>
{% endmacro %}
"""


#: the own basemap's style (the pages' script, so every map draws the same streets)
BASEMAP_JS = Path(__file__).resolve().parent.parent / "pages" / "static" / "basemap.js"


class OwnBasemap(JSCSSMixin, MacroElement):
    """The platform's own basemap under the map: vector tiles from ``/ogc/tiles``.

    Its attribution (generated roads, or OpenStreetMap's credit) is read from the tileset's
    TileJSON, so a map page needs no database to say what its streets are.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this.style_js }}\n"
        "yizhanBasemap({{ this._parent.get_name() }}, {{ this.options_js }});"
        "{% endmacro %}"
    )
    default_js = [("protomaps", f"{ASSETS_URL}/protomaps/protomaps-leaflet.js")]  # noqa: RUF012

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "OwnBasemap"
        self.style_js = BASEMAP_JS.read_text(encoding="utf-8")
        self.options_js = json.dumps(
            {
                "url": "/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}",
                "tilejson": "/ogc/tiles/WebMercatorQuad?f=tilejson",
                "lang": lang,
            }
        )


class TextHelper(MacroElement):
    """The one page-level helper :class:`TextTooltip` and :class:`BboxLayer` use."""

    _template = Template(_TEXT_HELPER)

    def __init__(self) -> None:
        super().__init__()
        self._name = "TextHelper"


class HtmlPopup(MacroElement):
    """A popup bound with Leaflet's own ``bindPopup`` (folium's Popup needs jQuery).

    ``html`` is markup the caller built with every text escaped (:func:`inert_html_text`).
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.bindPopup({{ this.html_js }}, {maxWidth: {{ this.width }}});"
        "{% endmacro %}"
    )

    def __init__(self, html: str, *, width: int = 260) -> None:
        super().__init__()
        self._name = "HtmlPopup"
        self.html_js, self.width = js_string(html), width
