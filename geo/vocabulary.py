"""The platform's codes, once: each a ``StrEnum`` member with its Chinese and English words.

Station kinds and statuses, amenities, travel profiles, case statuses and categories, intake
channels, user roles and coordinate systems. Codes stay the API's and the database's (an
enum member *is* its code string); the labels are what pages, maps and exports show. The
database CHECK constraints, settings defaults, request parameters, Open311 services and the
OpenAPI enums are all built from these classes.

A union may add its own station kinds, amenities and case categories through settings; a code
without a label shows as itself (:func:`label`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self


class Vocabulary(StrEnum):
    """A code with its words in Chinese and English, and an icon people recognise."""

    zh: str
    en: str
    icon: str

    def __new__(cls, code: str, zh: str = "", en: str = "", icon: str = "") -> Self:
        """A member from its code, words and icon (the code alone labels itself)."""
        member = str.__new__(cls, code)
        member._value_ = code
        member.zh, member.en, member.icon = zh or code, en or code, icon
        return member

    def label(self, lang: str) -> str:
        """The member's words in ``lang`` (``zh``, anything else is English)."""
        return self.zh if lang == "zh" else self.en

    @classmethod
    def codes(cls) -> tuple[str, ...]:
        """Every code, in declaration order."""
        return tuple(m.value for m in cls)

    @classmethod
    def of(cls, code: str) -> Self | None:
        """The member with ``code``, or None."""
        return cls._value2member_map_.get(code)  # type: ignore[return-value]


class StationKind(Vocabulary):
    """What kind of place a station is."""

    OUTDOOR_WORKER_STATION = (
        "outdoor_worker_station",
        "户外劳动者驿站",
        "Outdoor-worker station",
        "🏠",
    )
    SERVICE_CENTRE = "service_centre", "职工服务中心", "Worker-service centre", "🏢"
    RIDER_HOME = "rider_home", "骑行之家", "Riders' home", "🛵"
    DRIVER_HOME = "driver_home", "司机之家", "Drivers' home", "🚚"


class StationStatus(Vocabulary):
    """Whether a station receives workers."""

    ACTIVE = "active", "开放", "Open"
    CLOSED = "closed", "已关闭", "Closed"
    PLANNED = "planned", "规划中", "Planned"


class Amenity(Vocabulary):
    """What a station offers."""

    WATER = "water", "饮水", "Water", "💧"
    TOILET = "toilet", "卫生间", "Toilet", "🚻"
    CHARGING = "charging", "充电", "Charging", "🔌"
    BATTERY_SWAP = "battery_swap", "换电", "Battery swap", "🔋"
    MICROWAVE = "microwave", "微波炉", "Microwave", "🍱"
    REST_AREA = "rest_area", "休息区", "Rest area", "🪑"
    AIR_CONDITIONING = "air_conditioning", "空调", "Air conditioning", "❄️"
    FIRST_AID = "first_aid", "急救包", "First aid", "🩹"
    MEDICINE = "medicine", "药品", "Medicine", "💊"
    WIFI = "wifi", "Wi-Fi", "Wi-Fi", "📶"


class Profile(Vocabulary):
    """How a worker travels."""

    E_BIKE = "e_bike", "电动车", "E-bike", "🛵"
    WALK = "walk", "步行", "Walk", "🚶"
    DRIVE = "drive", "驾车", "Drive", "🚗"
    TRUCK = "truck", "货车", "Truck", "🚚"


class CaseCategory(Vocabulary):
    """What a worker's case is about."""

    WAGE_ARREARS = "wage_arrears", "拖欠工资", "Wage arrears"
    LABOUR_CONTRACT = "labour_contract", "劳动合同", "Labour contract"
    WORK_INJURY = "work_injury", "工伤", "Work injury"
    SOCIAL_INSURANCE = "social_insurance", "社会保险", "Social insurance"
    OCCUPATIONAL_SAFETY = "occupational_safety", "职业安全", "Occupational safety"
    MEDIATION = "mediation", "劳动争议调解", "Mediation"
    OTHER = "other", "其他", "Other"
    STATION_PROBLEM = "station_problem", "驿站问题", "Station problem"


#: what workers report through the case intake (a station problem comes from the station card)
REPORTED_CASE_CATEGORIES: tuple[str, ...] = tuple(
    c.value for c in CaseCategory if c is not CaseCategory.STATION_PROBLEM
)


class StationProblem(Vocabulary):
    """What a rider found wrong at a station (a report from the station card)."""

    CLOSED_WHEN_OPEN = "closed_when_open", "应开放时关门", "Closed when it should be open"
    AMENITY_BROKEN = "amenity_broken", "设施不能用", "An amenity is not working"
    MOVED = "moved", "位置不对或已搬迁", "Moved, or not where the map says"
    OTHER = "other", "其他问题", "Something else"


class StationFeedbackKind(Vocabulary):
    """A rider's word on a station: a problem, or that it is open and fine."""

    REPORT = "report", "问题报告", "Problem report"
    CONFIRMATION = "confirmation", "确认正常", "Confirmed open and fine"


class CaseStatus(Vocabulary):
    """Where a case stands (the allowed moves are in :mod:`geo.cases.lifecycle`)."""

    SUBMITTED = "submitted", "已受理", "Submitted"
    ASSIGNED = "assigned", "已派单", "Assigned"
    ACCEPTED = "accepted", "已签收", "Accepted"
    IN_PROGRESS = "in_progress", "办理中", "In progress"
    ESCALATED = "escalated", "督办中", "Escalated"
    RETURNED = "returned", "已退单", "Returned"
    RESOLVED = "resolved", "已办结", "Resolved"
    CLOSED = "closed", "已关闭", "Closed"
    REOPENED = "reopened", "已重启", "Reopened"
    CANCELLED = "cancelled", "已撤销", "Cancelled"
    REJECTED = "rejected", "不予受理", "Rejected"


#: the statuses of cases still being worked on (counted in workloads, escalated when late)
OPEN_CASE_STATUSES: tuple[CaseStatus, ...] = (
    CaseStatus.SUBMITTED,
    CaseStatus.ASSIGNED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.ESCALATED,
    CaseStatus.RETURNED,
    CaseStatus.REOPENED,
)


class NavigationApp(Vocabulary):
    """The apps a rider's page hands navigation to (web URIs that open the app)."""

    AMAP = "amap", "高德地图", "AutoNavi (Amap)"
    BAIDU = "baidu", "百度地图", "Baidu Maps"
    TENCENT = "tencent", "腾讯地图", "Tencent Maps"
    GOOGLE = "google", "Google 地图", "Google Maps"
    APPLE = "apple", "Apple 地图", "Apple Maps"
    OSM = "osm", "其他地图应用", "Another map app"


#: the hand-offs of a region in mainland China, where these apps read GCJ-02 / BD-09
CHINA_NAVIGATION: tuple[str, ...] = ("amap", "baidu", "tencent")
#: the hand-offs elsewhere (WGS-84): Google, Apple and any map app through a ``geo:`` URI
WORLD_NAVIGATION: tuple[str, ...] = ("google", "apple", "osm")
#: the languages the pages are written in (the first is the default)
PAGE_LANGUAGES: tuple[str, ...] = ("zh", "en")


class Channel(Vocabulary):
    """How a case reached the union."""

    WEB = "web", "网页", "Web"
    OPEN311 = "open311", "Open311", "Open311"
    PHONE = "phone", "电话", "Phone"
    WECHAT = "wechat", "微信", "WeChat"
    WALK_IN = "walk_in", "来访", "Walk-in"
    HOTLINE = "hotline", "热线", "Hotline"
    LETTER = "letter", "来信", "Letter"
    OTHER = "other", "其他", "Other"


#: how staff may say a call reached them (受理登记)
STAFF_CHANNELS: tuple[str, ...] = ("hotline", "walk_in", "wechat", "letter", "other")


class Role(Vocabulary):
    """What a user account may do."""

    ADMIN = "admin", "管理员", "Administrator"
    MANAGER = "manager", "网格管理员", "Grid manager"
    MEMBER = "member", "网格员", "Grid member"
    PLANNER = "planner", "规划人员", "Planner"


class JobStatus(Vocabulary):
    """Where an analysis job stands (OGC API - Processes' status codes)."""

    ACCEPTED = "accepted", "排队中", "Queued"
    RUNNING = "running", "计算中", "Running"
    SUCCESSFUL = "successful", "已完成", "Done"
    FAILED = "failed", "失败", "Failed"
    DISMISSED = "dismissed", "已取消", "Cancelled"


class CoordSystem(Vocabulary):
    """A datum coordinates come in (Chinese map apps send GCJ-02 or BD-09)."""

    WGS84 = "wgs84", "WGS-84（GPS）", "WGS-84 (GPS)"
    GCJ02 = "gcj02", "GCJ-02（高德、腾讯、微信）", "GCJ-02 (Amap, Tencent, WeChat)"
    BD09 = "bd09", "BD-09（百度）", "BD-09 (Baidu)"


def label(vocabulary: type[Vocabulary], code: str, lang: str) -> str:
    """The ``lang`` words of ``code`` in ``vocabulary`` (the code itself when it has none)."""
    found = vocabulary.of(code)
    return code if found is None else found.label(lang)


def icon(vocabulary: type[Vocabulary], code: str) -> str:
    """The icon of ``code`` in ``vocabulary`` ("" when it has none)."""
    found = vocabulary.of(code)
    return "" if found is None else found.icon


#: the image types a station photo may be
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

#: what ``yizhan import`` reads from a union's own files (service centres are stations by kind)
IMPORT_KINDS = ("stations", "members", "grids", "workplaces")
