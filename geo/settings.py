"""One settings object for the whole platform (environment prefix ``YIZHAN_``).

Every knob lives here: where the database is, where data and state are kept, the service
region, the road network to load. Values come from the environment or a ``.env`` file.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.vocabulary import (
    CHINA_NAVIGATION,
    PAGE_LANGUAGES,
    REPORTED_CASE_CATEGORIES,
    WORLD_NAVIGATION,
    Amenity,
    CaseCategory,
    NavigationApp,
    Profile,
    StationKind,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: the sample city's metric CRS (UTM zone 49N, EPSG:32649); a region may set its own
DEFAULT_METRIC_SRID = 32649

#: Station kinds known to the platform; extend with ``YIZHAN_STATION_KINDS``.
DEFAULT_STATION_KINDS = StationKind.codes()
#: Amenities a station may offer; extend with ``YIZHAN_AMENITIES``.
DEFAULT_AMENITIES = Amenity.codes()
#: Case categories the grid team handles; extend with ``YIZHAN_CASE_CATEGORIES``.
DEFAULT_CASE_CATEGORIES = REPORTED_CASE_CATEGORIES
#: IANA zones of mainland China (where GCJ-02 and the Chinese navigation apps apply)
MAINLAND_CHINA_ZONES = frozenset({"Asia/Shanghai", "Asia/Urumqi", "Asia/Chongqing", "Asia/Harbin"})
#: the riders' page lists stations within these minutes of travel (per profile)
DEFAULT_RIDER_CUTOFF_MIN = {"e_bike": 30, "walk": 20, "drive": 45, "truck": 45}


#: Passwords that ship in documentation and development set-ups; never accepted in production.
DEVELOPMENT_PASSWORDS = frozenset({"admin", "changethis", "password", "12345678", "admin123"})
MIN_SECRET_KEY_BYTES = 32
MIN_PRODUCTION_PASSWORD = 12


#: a production secret key must hold at least this much entropy (by its letters' frequencies)
MIN_SECRET_BITS = 96


def secret_bits(key: bytes) -> float:
    """An estimate of the entropy of ``key`` in bits: its length times its letters' Shannon entropy.

    32 x ``a`` has none; 32 random hex digits about 118, 43 base64 letters about 190.
    """
    if not key:
        return 0.0
    counts = Counter(key)
    per_letter = -sum(c / len(key) * math.log2(c / len(key)) for c in counts.values())
    return per_letter * len(key)


#: words that common passwords are made of (lists of leaked passwords, reduced to their stems)
_STEM_WORDS = """
password passw0rd p@ssword p@ssw0rd qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm qwe asd
zxc abc abcd abcdef abcdefg admin administrator root user guest test welcome letmein
iloveyou monkey dragon football baseball sunshine princess master shadow superman batman
trustno1 hello hellokitty freedom whatever starwars secret changeme changethis default
login access union yizhan jiangmen woaini aini qazwsx 1q2w3e 1qaz2wsx zaq12wsx summer
winter spring autumn love china beijing shanghai guangdong
"""
COMMON_PASSWORD_STEMS = frozenset(_STEM_WORDS.split())


def _common_stem(password: str) -> bool:
    """Whether ``password`` is a common word or digits only, give or take digits and symbols."""
    lowered = password.lower()
    stem = lowered.strip("0123456789!@#$%^&*()_-+=.,?~ ")
    if not stem:  # digits and symbols only (12345678901…)
        return True
    return stem in COMMON_PASSWORD_STEMS or len(set(stem)) == 1


def password_weakness(password: str, username: str) -> str | None:
    """Why ``password`` is too weak for a production admin, or None when it is acceptable.

    Parameters
    ----------
    password
        The candidate password.
    username
        The account's name (a password containing it is refused).

    Returns
    -------
    str or None
        A sentence naming the problem.
    """
    if password.lower() in DEVELOPMENT_PASSWORDS:
        return "it is a well-known default"
    if len(password) < MIN_PRODUCTION_PASSWORD:
        return f"use at least {MIN_PRODUCTION_PASSWORD} characters"
    if _common_stem(password):
        return "it is a common password with digits or symbols added"
    if username and username.lower() in password.lower():
        return "it contains the user name"
    if len(set(password)) < 5:
        return "it repeats too few characters"
    return None


class Settings(BaseSettings):
    """Platform settings, read from ``YIZHAN_*`` environment variables and ``.env``.

    Attributes
    ----------
    mode
        ``development`` allows convenience defaults (an ``admin``/``admin`` login, a
        generated secret key); ``production`` refuses to start without real secrets.
    database_url
        A SQLAlchemy URL of a PostGIS database. Unset: the embedded cluster in
        ``state_dir / "pg"`` is provisioned and used.
    data_dir
        The folder holding the shipped sample (``data/``).
    state_dir
        Where run-time state goes: the embedded cluster, caches, generated networks.
    region
        The name of the sample region; ``data_dir / region`` holds its files.
    """

    model_config = SettingsConfigDict(env_prefix="YIZHAN_", env_file=".env", extra="ignore")
    #: whether ``region`` is one of the user's own (``region.json`` found when validated)
    _custom: bool = PrivateAttr(default=False)

    mode: Literal["development", "production"] = "development"
    database_url: str | None = None
    data_dir: Path = PROJECT_ROOT / "data"
    state_dir: Path = PROJECT_ROOT / ".yizhan"
    region: str = Field(
        default="jiangmen",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="the shipped sample (data/NAME) or a region made with 'yizhan region create'",
    )
    regions_dir: Path | None = Field(
        default=None, description="where 'yizhan region create' keeps regions (state_dir/regions)"
    )
    region_srid_metric: int = Field(
        default=DEFAULT_METRIC_SRID, description="metric CRS for measuring (Jiangmen: UTM 49N)"
    )
    pg_bin_dir: Path | None = None
    pg_port: int = Field(
        default=5432, ge=1, le=65535, description="embedded cluster socket port number"
    )
    database_name: str = "yizhan"
    network_file: Path | None = Field(
        default=None,
        description="an .osm/.osm.bz2 road network to use instead of the sample network",
    )
    sample_seed: int = 20241017
    secret_key: SecretStr | None = None
    admin_user: str | None = None
    admin_password: SecretStr | None = None
    station_kinds: tuple[str, ...] = DEFAULT_STATION_KINDS
    amenities: tuple[str, ...] = DEFAULT_AMENITIES
    case_categories: tuple[str, ...] = DEFAULT_CASE_CATEGORIES
    case_deadlines: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="per category, over the built-in ones: [hours to accept (签收时限), days to "
        'resolve (办结时限)], e.g. {"wage_arrears": [12, 15]}',
    )
    return_review: tuple[str, ...] = Field(
        default=(),
        description="categories whose returns (退单) by a grid member wait for a manager's "
        'approval, e.g. ["wage_arrears"], or ["*"] for all; none: returns go straight back',
    )
    timezone: str = "Asia/Shanghai"
    max_snap_m: float = Field(
        default=1000.0, gt=0, description="farthest a point may be from a road"
    )
    rider_cutoff_min: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_RIDER_CUTOFF_MIN),
        description='the riders\' page lists stations within these minutes, e.g. {"walk": 15}',
    )
    language: str = Field(
        default="zh", description="the pages' language unless a link asks (?lang=): zh or en"
    )
    navigation: tuple[str, ...] = Field(
        default=CHINA_NAVIGATION,
        description="the navigation apps the riders' page hands off to, in order",
    )
    chinese_coordinates: bool = Field(
        default=True,
        description="whether GCJ-02/BD-09 apply (mainland China): AutoNavi tiles are offered",
    )
    union_hotline: str = Field(
        default="12351",
        max_length=32,
        description="the hotline the riders' page offers when no station is near "
        "(12351: the trade unions' national workers' hotline)",
    )
    profile_speeds: dict[str, dict[str, float]] = Field(
        default_factory=dict, description='speed overrides, e.g. {"e_bike": {"primary": 22}}'
    )
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    escalation_interval_s: float = Field(
        default=300.0, ge=0, description="how often overdue cases are escalated (0: never)"
    )
    webhook_urls: tuple[str, ...] = Field(
        default=(),
        description="URLs the notifications are POSTed to (an SMS or WeChat Work gateway)",
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="shared secret of the webhooks' HMAC-SHA256 signatures"
    )
    webhook_interval_s: float = Field(
        default=5.0, gt=0, description="how often the notifications outbox is delivered"
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 14, description="how long a workbench sign-in lasts"
    )
    cors_origins: tuple[str, ...] = Field(
        default=(), description="origins allowed to call the API from a browser (CORS)"
    )
    frame_ancestors: str = Field(
        default="*", description="who may embed the maps in an iframe (CSP frame-ancestors)"
    )
    map_tiles: Literal["own", "none", "osm", "gaode", "tianditu", "custom"] = Field(
        default="own",
        description="the maps' base layer unless a link asks for another (?tiles=): own (the "
        "platform's vector tiles, nothing fetched from outside), none, or an online one",
    )
    tile_url: str | None = Field(default=None, description="a custom tile URL template")
    tianditu_key: str | None = None
    inline_feature_limit: int = Field(
        default=2000, ge=1, description="bigger map layers load by bounding box instead"
    )
    max_body_bytes: int = Field(default=2_000_000, ge=1024, description="largest request body")
    max_json_depth: int = Field(
        default=32, ge=4, le=1000, description="deepest nesting of a JSON request body"
    )
    photo_max_bytes: int = Field(
        default=1_500_000, ge=1024, description="largest station photo accepted"
    )
    rate_limit_per_minute: float = Field(
        default=600, ge=0, description="public requests a minute per client (0: no limit)"
    )
    rate_limit_burst: int = Field(default=60, ge=1)
    dask_scheduler: str | None = Field(
        default=None, description="tcp://host:8786 of a Dask cluster; none: a local one"
    )
    job_workers: int = Field(default=1, ge=1, le=64, description="local Dask worker processes")
    job_nice: int = Field(
        default=10, ge=0, le=19, description="OS priority of analysis workers (riders first)"
    )
    jobs_at_start: bool = Field(
        default=False,
        description="start the Dask workers with the API (yizhan serve does) instead of at the "
        "first job",
    )
    keep_fields: bool = Field(
        default=True,
        description="keep the stations' travel-time fields on disk (cache/fields) and map them "
        "into every process: starts in seconds, one copy in memory for the API and its workers; "
        "off: each process computes and holds its own",
    )
    basemap: bool = Field(
        default=True,
        description="draw the own basemap (vector tiles) from the served network when it "
        "changes; off: maps show no streets",
    )
    job_memory_limit: str = Field(default="3GiB", description="memory per local worker")
    inline_analysis_mb: float = Field(
        default=512, ge=0, description="analyses estimated above this run as jobs on Dask"
    )
    jobs_per_user: int = Field(default=2, ge=1, description="open jobs one user may have")
    jobs_waiting: int = Field(default=8, ge=1, description="open jobs the cluster takes at once")
    job_timeout_s: float = Field(
        default=3600, gt=0, description="a job still running after this is stopped and failed"
    )
    job_wait_s: float = Field(
        default=20.0, ge=0, le=600, description="how long a synchronous execution may wait"
    )
    analysis_workers: int = Field(
        default=1, ge=1, le=16, description="worker processes for quick public analyses"
    )
    analysis_threads: int = Field(
        default=2, ge=1, le=32, description="threads for requests that compute (not riders')"
    )
    analysis_waiting: int = Field(
        default=8, ge=0, description="requests that compute which may wait for a thread"
    )
    analysis_timeout_s: float = Field(default=60, gt=0, description="limit of heavy analyses")
    db_connections: int = Field(
        default=24,
        ge=2,
        le=1000,
        description="database connections the API may hold, shared among its processes",
    )
    api_processes: int = Field(
        default=1, ge=1, le=64, description="API processes sharing db_connections (serve sets it)"
    )
    db_wait_s: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="how long a request may wait for a free connection before a 503",
    )
    login_attempts: int = Field(
        default=5, ge=1, description="failed logins per client and account before backing off"
    )
    login_client_attempts: int = Field(
        default=20, ge=1, description="failed logins per client (any account) per 15 minutes"
    )
    intake_per_hour: int = Field(
        default=20, ge=0, description="anonymous case reports per client an hour (0: no limit)"
    )
    staff_intake_per_hour: int = Field(
        default=600, ge=0, description="calls one staff account may register an hour (0: no limit)"
    )
    feedback_per_hour: int = Field(
        default=10,
        ge=0,
        description="riders' station reports and confirmations per client an hour (0: no limit)",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="reverse proxies whose X-Forwarded-For is believed (default: none)",
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="the service's public base URL; links in answers are built from it",
    )
    allowed_hosts: tuple[str, ...] = Field(
        default=("localhost", "127.0.0.1", "::1", "testserver"),
        description="Host header values accepted (besides the public URL's host)",
    )
    log_coordinate_decimals: int = Field(
        default=2, ge=-1, le=6, description="decimals of coordinates in access logs (-1: none)"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="log lines as text with a timestamp, or one JSON object each"
    )
    metrics_public: bool = Field(
        default=False, description="let anyone read /metrics (default: loopback and metrics_from)"
    )
    metrics_from: tuple[str, ...] = Field(
        default=(), description="addresses or networks (CIDR) that may read /metrics"
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.mode == "production":
            missing = [
                name
                for name in ("secret_key", "admin_password", "database_url")
                if getattr(self, name) in (None, "")
            ]
            if missing:
                names = ", ".join(f"YIZHAN_{n.upper()}" for n in missing)
                msg = f"production mode needs {names}; there are no default secrets"
                raise ValueError(msg)
            key = self.secret_key.get_secret_value().encode() if self.secret_key else b""
            if len(key) < MIN_SECRET_KEY_BYTES or secret_bits(key) < MIN_SECRET_BITS:
                msg = (
                    f"YIZHAN_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} random bytes in "
                    "production (e.g. the output of: openssl rand -base64 48)"
                )
                raise ValueError(msg)
            weakness = password_weakness(
                self.admin_password.get_secret_value() if self.admin_password else "",
                self.admin_user or "admin",
            )
            if weakness:
                msg = f"YIZHAN_ADMIN_PASSWORD is too weak for production: {weakness}"
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _deadlines_are_sensible(self) -> Settings:
        for category, (hours, days) in self.case_deadlines.items():
            if category not in self.known_case_categories or not (
                0 < hours <= 720 and 0 < days <= 365
            ):
                msg = (
                    f"YIZHAN_CASE_DEADLINES: {category!r}: [{hours}, {days}] — categories are "
                    f"{', '.join(self.known_case_categories)}; hours 0-720, days 0-365 (above 0)"
                )
                raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _cutoffs_are_minutes(self) -> Settings:
        known = {p.value for p in Profile}
        for profile, minutes in self.rider_cutoff_min.items():
            if profile not in known or not 1 <= minutes <= 600:
                msg = (
                    f"YIZHAN_RIDER_CUTOFF_MIN: {profile!r}: {minutes} — profiles are "
                    f"{', '.join(sorted(known))}, minutes 1 to 600"
                )
                raise ValueError(msg)
        return self

    @property
    def known_case_categories(self) -> tuple[str, ...]:
        """Every category a case may have: those reported through intake and station problems."""
        extra = (CaseCategory.STATION_PROBLEM.value,)
        return self.case_categories + tuple(c for c in extra if c not in self.case_categories)

    def rider_cutoff_s(self, profile: str) -> float:
        """Seconds of travel within which the riders' page lists stations for ``profile``."""
        minutes = self.rider_cutoff_min.get(profile, DEFAULT_RIDER_CUTOFF_MIN.get(profile, 30))
        return 60.0 * minutes

    @model_validator(mode="after")
    def _webhooks_are_signed(self) -> Settings:
        if self.webhook_urls and not self.webhook_secret:
            msg = "YIZHAN_WEBHOOK_URLS needs YIZHAN_WEBHOOK_SECRET (deliveries are signed)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _custom_region_facts(self) -> Settings:
        """A region of the user's own brings its CRS, time zone, network and database.

        (``region.json`` is read as plain JSON: settings stay light to import; its writer is
        :class:`geo.custom_region.RegionSpec`.)
        """
        spec_file = self.regions_root / self.region / "region.json"
        self._custom = not (self.data_dir / self.region).is_dir() and spec_file.is_file()
        if not self._custom:
            return self
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        told = self.model_fields_set
        if "region_srid_metric" not in told:
            self.region_srid_metric = int(spec["metric_srid"])
        if "timezone" not in told:
            self.timezone = str(spec["timezone"])
        if "network_file" not in told:
            self.network_file = spec_file.parent / str(spec["network"])
        if "database_name" not in told:
            self.database_name = f"yizhan_{self.region}"
        # a region made before it said its language and apps: China's if it lies in China
        in_china = bool(spec.get("in_china", str(spec["timezone"]) in MAINLAND_CHINA_ZONES))
        if "language" not in told:
            self.language = str(spec.get("language", "zh" if in_china else "en"))
        if "navigation" not in told:
            default = CHINA_NAVIGATION if in_china else WORLD_NAVIGATION
            self.navigation = tuple(spec.get("navigation", default))
        if "chinese_coordinates" not in told:
            self.chinese_coordinates = in_china
        return self

    @model_validator(mode="after")
    def _pages_speak_a_known_language(self) -> Settings:
        if self.language not in PAGE_LANGUAGES:
            msg = f"YIZHAN_LANGUAGE: the pages are written in {', '.join(PAGE_LANGUAGES)}"
            raise ValueError(msg)
        unknown = [a for a in self.navigation if a not in NavigationApp.codes()]
        if unknown or not self.navigation:
            msg = f"YIZHAN_NAVIGATION: choose among {', '.join(NavigationApp.codes())}"
            raise ValueError(msg)
        return self

    @property
    def regions_root(self) -> Path:
        """Folder of the regions made with ``yizhan region create``."""
        return self.regions_dir or self.state_dir / "regions"

    @property
    def custom_region(self) -> bool:
        """Whether the region was made by a user (not a shipped sample); known at validation."""
        return self._custom

    @property
    def pool_size(self) -> int:
        """Connections one API process keeps open: half its share of ``db_connections``.

        As many again may be opened for a moment under load (the pool's overflow).
        """
        return max(2, self.db_connections // self.api_processes // 2)

    @property
    def production(self) -> bool:
        """Whether the platform runs in production mode."""
        return self.mode == "production"

    @property
    def region_dir(self) -> Path:
        """Folder of the region: the shipped sample's, or the one ``region create`` made."""
        return (self.regions_root if self._custom else self.data_dir) / self.region

    @property
    def cache_dir(self) -> Path:
        """Folder for derived artefacts (built graphs, generated networks)."""
        return self.state_dir / "cache"

    def admin_credentials(self) -> tuple[str, str]:
        """The initial admin's user name and password (``admin``/``admin`` in development)."""
        if self.admin_password is not None:
            return self.admin_user or "admin", self.admin_password.get_secret_value()
        if self.mode == "development":
            return self.admin_user or "admin", "admin"
        msg = "YIZHAN_ADMIN_PASSWORD is required outside development mode"
        raise ValueError(msg)

    @property
    def metric_crs(self) -> str:
        """The region's metric CRS as ``EPSG:nnnnn``."""
        return f"EPSG:{self.region_srid_metric}"

    def token_secret(self) -> str:
        """The key that signs access tokens; in development one is made and kept in state_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.state_dir / "secret_key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def embedded(self) -> bool:
        """Whether the embedded local cluster is used (no ``database_url`` given)."""
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once from the environment."""
    return Settings()
