"""What a planner reads without hovering: each town's share on the map, and a table to sort.

:func:`add_share_labels` writes each area's covered share at its centre (legible at the city
view); :func:`add_area_table` adds a panel beside the map with one row per area — people,
covered, share and the 95th-percentile minutes to a station — whose columns sort by a tap.
Every text is escaped: names come from the data.
"""

from __future__ import annotations

import html
import math
from typing import Any

import folium
import geopandas as gpd
from branca.element import MacroElement, Template

from geo.vocabulary import CoordSystem
from maps.base import Lang, add_legend, point, shift

WORDS = {
    "zh": {
        "table": "各镇街覆盖表（点击表头排序）",
        "area": "镇街",
        "people": "人口",
        "covered": "已覆盖",
        "share": "覆盖率",
        "p95": "95%在（分钟）内",
    },
    "en": {
        "table": "Towns (tap a heading to sort)",
        "area": "Town",
        "people": "People",
        "covered": "Covered",
        "share": "Share",
        "p95": "95% within (min)",
    },
}

_TABLE = """
{% macro html(this, kwargs) %}
<details class="yizhan-area-table" open style="position:absolute;z-index:1000;bottom:28px;right:10px;
  background:rgba(255,255,255,.96);border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);
  font:12px/1.5 sans-serif;max-width:min(420px,90vw)">
  <summary style="cursor:pointer;padding:6px 8px;font-weight:600">{{ this.caption }}</summary>
  <div style="max-height:38vh;overflow:auto;padding:0 8px 6px">
  <table style="border-collapse:collapse;width:100%">
    <thead><tr>{% for name, numeric in this.headings %}<th data-numeric="{{ numeric }}"
      style="position:sticky;top:0;background:#fff;text-align:{{ 'right' if numeric else 'left' }};
      padding:2px 6px;cursor:pointer;border-bottom:1px solid #ccc">{{ name }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in this.rows %}<tr>{% for text, value in row %}<td data-value="{{ value }}"
      style="padding:1px 6px;text-align:{{ 'left' if loop.first else 'right' }}">{{ text }}</td>{% endfor %}</tr>{% endfor %}</tbody>
  </table></div>
</details>
{% endmacro %}
{% macro script(this, kwargs) %}
document.querySelectorAll(".yizhan-area-table th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = th.getAttribute("data-numeric") === "True";
    var down = th.getAttribute("data-order") !== "desc";
    th.setAttribute("data-order", down ? "desc" : "asc");
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-value"), y = b.cells[col].getAttribute("data-value");
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y, "zh");
      return down ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
{% endmacro %}
"""  # noqa: E501 (the panel's HTML template)


class AreaTable(MacroElement):
    """The panel of areas beside the map (rows already escaped)."""

    _template = Template(_TABLE)

    def __init__(
        self, caption: str, headings: list[tuple[str, bool]], rows: list[list[tuple[str, str]]]
    ) -> None:
        super().__init__()
        self._name = "AreaTable"
        self.caption, self.headings, self.rows = caption, headings, rows


def _number(value: Any) -> float:
    number = float(value) if value is not None else math.nan
    return number if math.isfinite(number) else math.nan


def add_share_labels(
    m: folium.Map, areas: gpd.GeoDataFrame, *, coord: CoordSystem, lang: Lang
) -> folium.Map:
    """Each area's name and covered share written at its centre (``name``, ``share``)."""
    group = folium.FeatureGroup(name=WORDS[lang]["share"], control=False)
    for name, share, geom in zip(areas["name"], areas["share"], areas.geometry, strict=True):
        value = _number(share)
        if geom is None or geom.is_empty or math.isnan(value):
            continue
        centre = geom.representative_point()
        folium.Marker(
            point(centre.x, centre.y, coord),
            icon=folium.DivIcon(
                html=(
                    "<div class='yizhan-share' style='transform:translate(-50%,-50%);"
                    "white-space:nowrap;text-align:center;font:11px/1.2 sans-serif;color:#222;"
                    "text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff'>"
                    f"{html.escape(str(name))}<br><b>{value:.0%}</b></div>"
                ),
                icon_size=(0, 0),
            ),
            interactive=False,
        ).add_to(group)
    group.add_to(m)
    return m


def add_area_table(m: folium.Map, areas: gpd.GeoDataFrame, *, lang: Lang) -> folium.Map:
    """The sortable table of areas: ``name``, ``people``, ``covered``, ``share``, ``p95_min``."""
    w = WORDS[lang]
    headings = [
        (w["area"], False),
        (w["people"], True),
        (w["covered"], True),
        (w["share"], True),
        (w["p95"], True),
    ]
    rows = []
    ordered = areas.sort_values("share", na_position="first")
    for _, a in ordered.iterrows():
        people, covered = _number(a.get("people")), _number(a.get("covered"))
        share, p95 = _number(a.get("share")), _number(a.get("p95_min"))
        rows.append(
            [
                (html.escape(str(a["name"])), html.escape(str(a["name"]))),
                (f"{people:,.0f}" if not math.isnan(people) else "–", f"{people:.0f}"),
                (f"{covered:,.0f}" if not math.isnan(covered) else "–", f"{covered:.0f}"),
                (f"{share:.0%}" if not math.isnan(share) else "–", f"{share:.4f}"),
                (f"{p95:.0f}" if not math.isnan(p95) else "–", f"{p95:.1f}"),
            ]
        )
    m.add_child(AreaTable(w["table"], headings, rows))
    return m


def add_site_table(
    m: folium.Map, sites: list[dict[str, Any]], *, summary: str, lang: Lang
) -> folium.Map:
    """The proposed sites beside the map: number, people each adds, where; the share's change."""
    zh = lang == "zh"
    headings = [
        ("#", True),
        ("新增覆盖人口" if zh else "People added", True),
        ("位置" if zh else "Where (lat, lon)", False),
    ]
    rows = []
    for s in sorted(sites, key=lambda s: int(s["rank"])):
        added = _number(s.get("added_demand"))
        where = f"{float(s['lat']):.5f}, {float(s['lon']):.5f}"
        rows.append(
            [
                (str(int(s["rank"])), str(int(s["rank"]))),
                (f"+{added:,.0f}" if not math.isnan(added) else "–", f"{added:.0f}"),
                (where, where),
            ]
        )
    caption = ("建议新址 · " if zh else "Proposed sites · ") + html.escape(summary)
    m.add_child(AreaTable(caption, headings, rows))
    return m


ROADLESS_COLOUR = "#8da9c4"


def add_roadless(
    m: folium.Map, area: gpd.GeoDataFrame, *, coord: CoordSystem, lang: Lang
) -> folium.Map:
    """Where demand lies that no road reaches, in its own colour (not a gap), with a legend."""
    if len(area) == 0:
        return m
    zh = lang == "zh"
    title = "无道路可达（水面、无路地带）" if zh else "No road reaches (water, roadless land)"
    people = float(area["people"].sum())
    note = f"{people:,.0f} " + ("人，不计为缺口" if zh else "people, not counted as gaps")
    folium.GeoJson(
        {
            "type": "Feature",
            "properties": {},
            "geometry": shift(area.geometry.iloc[0], coord).__geo_interface__,
        },
        name=title,
        style_function=lambda _: {
            "color": ROADLESS_COLOUR,
            "weight": 0.5,
            "fillColor": ROADLESS_COLOUR,
            "fillOpacity": 0.45,
            "dashArray": "3 3",
        },
        interactive=False,
    ).add_to(m)
    return add_legend(m, title, [(ROADLESS_COLOUR, note)], lang=lang)
