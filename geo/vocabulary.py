"""Words people read for the platform's codes, in Chinese and English, with icons.

Station kinds, amenities and travel profiles, each with the icon a rider recognises.

Codes stay the API's and the database's; these labels are what pages, maps and exports show.
A code without a label (a union's own amenity added with ``YIZHAN_AMENITIES``) shows as itself.
"""

from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    """How a code reads in Chinese and English, and its icon."""

    zh: str
    en: str
    icon: str = ""


AMENITIES: dict[str, Label] = {
    "water": Label("饮水", "Water", "💧"),
    "toilet": Label("卫生间", "Toilet", "🚻"),
    "charging": Label("充电", "Charging", "🔌"),
    "battery_swap": Label("换电", "Battery swap", "🔋"),
    "microwave": Label("微波炉", "Microwave", "🍱"),
    "rest_area": Label("休息区", "Rest area", "🪑"),
    "air_conditioning": Label("空调", "Air conditioning", "❄️"),
    "first_aid": Label("急救包", "First aid", "🩹"),
    "medicine": Label("药品", "Medicine", "💊"),
    "wifi": Label("Wi-Fi", "Wi-Fi", "📶"),
}

STATION_KINDS: dict[str, Label] = {
    "outdoor_worker_station": Label("户外劳动者驿站", "Outdoor-worker station", "🏠"),
    "service_centre": Label("职工服务中心", "Worker-service centre", "🏢"),
    "rider_home": Label("骑行之家", "Riders' home", "🛵"),
    "driver_home": Label("司机之家", "Drivers' home", "🚚"),
}

PROFILES: dict[str, Label] = {
    "e_bike": Label("电动车", "E-bike", "🛵"),
    "walk": Label("步行", "Walk", "🚶"),
    "drive": Label("驾车", "Drive", "🚗"),
}


CASE_CATEGORIES: dict[str, Label] = {
    "wage_arrears": Label("拖欠工资", "Wage arrears"),
    "labour_contract": Label("劳动合同", "Labour contract"),
    "work_injury": Label("工伤", "Work injury"),
    "social_insurance": Label("社会保险", "Social insurance"),
    "occupational_safety": Label("职业安全", "Occupational safety"),
    "mediation": Label("劳动争议调解", "Mediation"),
    "other": Label("其他", "Other"),
}


def category_label(code: str, lang: str) -> str:
    """A case category in words (the code itself when it has no label)."""
    return label(CASE_CATEGORIES, code, lang)


def label(table: dict[str, Label], code: str, lang: str) -> str:
    """The ``lang`` label of ``code`` in ``table`` (the code itself when it has none)."""
    found = table.get(code)
    if found is None:
        return code
    return found.zh if lang == "zh" else found.en
