"""Opening hours in OpenStreetMap ``opening_hours`` syntax, evaluated in local time.

Parsing and evaluation use the ``opening-hours-py`` library (a full implementation of the OSM
specification, including ranges that cross midnight, ``24/7`` and ``off``). Times are
evaluated in the service region's time zone (Asia/Shanghai for Jiangmen; a region of the
user's own brings its own, set for the process by :func:`use_timezone` when the platform
starts): an aware datetime is converted first; a naive one is taken as local time already.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import opening_hours

from geo.errors import ValidationError

DEFAULT_TZ = "Asia/Shanghai"
#: the zone of the region this process serves (one region a process)
_REGION_ZONE = {"tz": DEFAULT_TZ}


def use_timezone(tz: str) -> None:
    """Read local times in ``tz`` (an IANA name) from now on, in this process."""
    ZoneInfo(tz)  # unknown names fail here, not in a request
    _REGION_ZONE["tz"] = tz


def region_timezone() -> str:
    """The IANA zone local times are read in (see :func:`use_timezone`)."""
    return _REGION_ZONE["tz"]


@lru_cache(maxsize=4096)
def parse_opening_hours(expression: str) -> opening_hours.OpeningHours:
    """Parse an ``opening_hours`` expression, raising a clear error when it is not valid."""
    try:
        return opening_hours.OpeningHours(expression)
    except (opening_hours.ParserError, ValueError, TypeError) as exc:  # type: ignore[attr-defined]
        first = str(exc).splitlines()[0] if str(exc) else "syntax error"
        msg = f"opening_hours {expression!r} is not valid OSM opening_hours syntax ({first})"
        zh = f"开放时间「{expression[:60]}」的写法无效（OSM 格式，例如 Mo-Fr 08:00-18:00）"
        raise ValidationError(msg, zh=zh) from exc


#: Years a time asked about may fall in (opening hours make no sense far outside them).
YEARS = (1970, 2200)


def local_time(at: datetime | None, tz: str | None = None) -> datetime:
    """``at`` as naive local time in ``tz`` (now when ``None``).

    Raises
    ------
    ValidationError
        When ``at`` lies outside :data:`YEARS` (or cannot be converted to local time).
    """
    zone = ZoneInfo(tz or region_timezone())
    if at is None:
        return datetime.now(zone).replace(tzinfo=None)
    if not YEARS[0] <= at.year <= YEARS[1]:
        msg = f"the time must fall in the years {YEARS[0]} to {YEARS[1]}, got {at.isoformat()}"
        raise ValidationError(msg, zh=f"时间须在 {YEARS[0]} 至 {YEARS[1]} 年之间")
    if at.tzinfo is not None:
        return at.astimezone(zone).replace(tzinfo=None)
    return at


def minute_stamp(at: datetime | None) -> datetime | int:
    """A cheap name for the minute ``at`` falls in: ``at`` itself, or now's minute since 1970.

    A key for memos of what holds for a minute (:func:`local_minute` turns it into the minute),
    made without a time-zone conversion.
    """
    return int(time.time() // 60) if at is None else at


def local_minute(stamp: datetime | int, tz: str | None = None) -> datetime:
    """The local minute (naive, seconds dropped) that a :func:`minute_stamp` names.

    Raises
    ------
    ValidationError
        As :func:`local_time`.
    """
    at = datetime.fromtimestamp(stamp * 60, UTC) if isinstance(stamp, int) else stamp
    return local_time(at, tz).replace(second=0, microsecond=0)


#: the hour a coverage map is computed for unless asked otherwise: a working day's noon, when
#: riders are on the road and stations open (coverage differs by hour: opening hours)
TYPICAL_HOUR = 12


def typical_hour(tz: str | None = None) -> datetime:
    """Today at :data:`TYPICAL_HOUR`, local time (naive)."""
    today = local_time(None, tz)
    return today.replace(hour=TYPICAL_HOUR, minute=0, second=0, microsecond=0)


def local_iso(at: datetime, tz: str | None = None) -> str:
    """A naive local time as ISO 8601 with the region's offset (``...+08:00``)."""
    return at.replace(tzinfo=ZoneInfo(tz or region_timezone())).isoformat()


def aware(at: datetime, tz: str | None = None) -> datetime:
    """A time with its zone: a naive one is read in the region's zone (years checked)."""
    local = local_time(at, tz)
    return local.replace(tzinfo=ZoneInfo(tz or region_timezone()))


def utc_iso(at: datetime) -> str:
    """A stored (aware) time as ISO 8601 in UTC (``...+00:00``); naive ones are taken as UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def is_open(expression: str, at: datetime | None = None, *, tz: str | None = None) -> bool:
    """Whether a place with these opening hours is open at ``at`` (default: now)."""
    return bool(parse_opening_hours(expression).is_open(local_time(at, tz)))


def open_mask(
    expressions: Sequence[str], at: datetime | None = None, *, tz: str | None = None
) -> np.ndarray:
    """Boolean array: which of ``expressions`` are open at ``at``."""
    minute = local_time(at, tz).replace(second=0, microsecond=0)  # hours are to the minute
    return np.fromiter((_open_in(expr, minute) for expr in expressions), bool, len(expressions))


@lru_cache(maxsize=8192)
def _open_in(expression: str, minute: datetime) -> bool:
    """Whether ``expression`` is open in this (naive, local) minute; asked once a minute."""
    return bool(parse_opening_hours(expression).is_open(minute))
