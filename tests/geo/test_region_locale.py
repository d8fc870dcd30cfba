"""A region speaks its own language: its pages' language and navigation apps by where it lies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.custom_region import RegionSpec, checked_locale, local_defaults, zone_at
from geo.errors import ValidationError
from geo.navigation import hand_offs
from geo.settings import Settings


@pytest.mark.parametrize(
    ("lon", "lat", "language", "apps", "china"),
    [
        (113.08, 22.58, "zh", ("amap", "baidu", "tencent"), True),  # Jiangmen
        (87.62, 43.82, "zh", ("amap", "baidu", "tencent"), True),  # Ürümqi
        (24.94, 60.17, "en", ("google", "apple", "osm"), False),  # Helsinki
        (-76.61, 39.29, "en", ("google", "apple", "osm"), False),  # Baltimore
        (114.17, 22.32, "en", ("google", "apple", "osm"), False),  # Hong Kong: WGS-84 there
    ],
)
def test_the_defaults_follow_where_the_region_lies(
    lon: float, lat: float, language: str, apps: tuple[str, ...], china: bool
) -> None:
    found = local_defaults(zone_at(lon, lat))
    assert (found.language, found.navigation, found.in_china) == (language, apps, china)


def test_told_values_are_checked() -> None:
    told = checked_locale("zh", ["google", "amap"], "Europe/Helsinki")
    assert (told.language, told.navigation, told.in_china) == ("zh", ("google", "amap"), False)
    with pytest.raises(ValidationError, match="--language"):
        checked_locale("fi", None, "Europe/Helsinki")
    with pytest.raises(ValidationError, match="--navigation: unknown waze"):
        checked_locale(None, ["waze"], "Europe/Helsinki")


def test_a_region_made_before_languages_gets_its_zones(tmp_path: Path) -> None:
    old = {
        "name": "old",
        "title": "Old",
        "metric_srid": 32649,
        "timezone": "Asia/Shanghai",
        "network": "x.osm",
        "towns_source": "squares",
        "population_source": "assumed",
        "stations": None,
        "created": "2026-11-30T00:00:00+00:00",
    }
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "region.json").write_text(json.dumps(old))
    spec = RegionSpec.read(tmp_path / "old")
    assert (spec.language, spec.navigation, spec.in_china) == (
        "zh",
        ("amap", "baidu", "tencent"),
        True,
    )
    settings = Settings(region="old", regions_dir=tmp_path)
    assert settings.language == "zh"
    assert settings.navigation == ("amap", "baidu", "tencent")
    assert settings.chinese_coordinates is True


def test_world_hand_offs_are_wgs84_and_labelled() -> None:
    links = hand_offs(24.9475, 60.1675, "Esplanadi", apps=("google", "apple", "osm"), lang="en")
    assert [n["app"] for n in links] == ["google", "apple", "osm"]
    assert "destination=60.167500%2C24.947500" in links[0]["href"]
    assert "daddr=60.167500%2C24.947500" in links[1]["href"]
    assert links[2]["href"].startswith("geo:60.167500,24.947500?")
    assert links[0]["label"] == "Google Maps"


def test_settings_refuse_a_language_the_pages_are_not_written_in() -> None:
    with pytest.raises(ValueError, match="YIZHAN_LANGUAGE"):
        Settings(language="fi")
    with pytest.raises(ValueError, match="YIZHAN_NAVIGATION"):
        Settings(navigation=("waze",))
