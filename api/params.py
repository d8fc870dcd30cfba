"""Shared query parameters and their parsing (errors say what is wrong)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query

from geo.errors import ValidationError
from geo.vocabulary import CoordSystem, Profile

CoordQuery = Annotated[
    CoordSystem, Query(description="coordinate system of the coordinates sent and returned")
]
ProfileQuery = Annotated[Profile, Query(description="travel profile")]
LatQuery = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="latitude")]
LonQuery = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, description="longitude")]
#: a case's id in a path
CaseId = Annotated[int, Path(ge=1, le=2**62)]


def parse_lat_lon(text: str, name: str) -> tuple[float, float]:
    """``"lat,lon"`` → ``(lon, lat)``."""
    parts = text.split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError as exc:
        msg = f"{name} must be 'lat,lon' (two numbers), got {text!r}"
        raise ValidationError(msg) from exc
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        msg = f"{name}: latitude must be within ±90 and longitude within ±180, got {text!r}"
        raise ValidationError(msg)
    return lon, lat


def parse_minutes(text: str, *, most: float, count: int) -> list[float]:
    """``"5,10,15"`` → ``[5.0, 10.0, 15.0]``, each in (0, most], at most ``count`` values."""
    try:
        values = sorted({float(p) for p in text.split(",") if p.strip()})
    except ValueError as exc:
        msg = f"minutes must be numbers separated by commas, got {text!r}"
        raise ValidationError(msg) from exc
    finite = all(math.isfinite(v) for v in values)
    if not finite or not values or len(values) > count or values[0] <= 0 or values[-1] > most:
        msg = f"minutes: give 1 to {count} values, each above 0 and at most {most:g}"
        raise ValidationError(msg)
    return values


def check_codes(values: list[str], allowed: tuple[str, ...], name: str) -> list[str]:
    """``values`` when each is one of ``allowed``; else a clear error naming the allowed ones."""
    unknown = [v for v in values if v not in allowed]
    if unknown:
        msg = f"unknown {name} {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}"
        raise ValidationError(msg)
    return values


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time from a form or link (empty: None, meaning now)."""
    if not text or not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError as exc:
        msg = f"time must be ISO 8601, e.g. 2026-11-25T12:00, got {text!r}"
        raise ValidationError(msg) from exc


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    """``"minlon,minlat,maxlon,maxlat"`` → a tuple, checked."""
    if text is None:
        return None
    try:
        a, b, c, d = (float(p) for p in text.split(","))
    except ValueError as exc:
        msg = f"bbox must be 'minlon,minlat,maxlon,maxlat', got {text!r}"
        raise ValidationError(msg) from exc
    if not (-180 <= a < c <= 180 and -90 <= b < d <= 90):
        msg = "bbox must have minlon < maxlon and minlat < maxlat within longitude/latitude range"
        raise ValidationError(msg)
    return a, b, c, d
