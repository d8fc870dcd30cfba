"""The province map: cities coloured by coverage, the province's largest gaps on top."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from maps.base import Lang, LocalMap, base_map, render_page
from maps.layers import add_gaps, add_layer_control, add_town_coverage

TITLE = {"zh": "全省驿站覆盖（示例数据）", "en": "Province coverage (sample data)"}


def province_page(
    outlines: gpd.GeoDataFrame,
    gaps: gpd.GeoDataFrame,
    *,
    lang: Lang = "zh",
    assets: Path | None = None,
    note: str | None = None,
) -> str:
    """A whole HTML page of the province run.

    Parameters
    ----------
    outlines
        Cities (``name``, ``share``, ``uncovered``, polygons in WGS-84).
    gaps
        Ranked gaps (``rank``, ``uncovered_demand``, ``town``, polygons).
    lang
        Page language.
    assets
        The app's asset folder: given, Leaflet is carried inline and the file opens anywhere,
        offline; otherwise the page loads it from the app.
    note
        What the legend says of the data (the province run's basis: why a city's figure is
        not the service's).
    """
    centre = outlines.geometry.union_all().centroid
    m, coord = base_map(center=(centre.y, centre.x), zoom=7, lang=lang, note=note)
    add_town_coverage(m, outlines, coord=coord, lang=lang, unit="city")
    add_gaps(m, gaps, coord=coord, lang=lang)
    add_layer_control(m)
    m.fit_bounds([[b[1], b[0]] for b in (outlines.total_bounds[:2], outlines.total_bounds[2:])])
    if assets is None:
        return render_page(m, lang=lang, title=TITLE[lang])
    assert isinstance(m, LocalMap)
    with m.assets_inline(assets):
        return render_page(m, lang=lang, title=TITLE[lang])
