"""The riders' nearest-station question, declared once: fields, defaults, bounds, two readers.

Three doors ask it — the documented operation ``GET /v1/stations/nearest`` (FastAPI reads its
signature, whose bounds and defaults come from here), the fast path in front of it
(:func:`strict`: a plainly valid query or nothing) and the riders' page (:func:`lenient`:
keep what is good, note what is not, never refuse). ``tests/api/test_nearest_query.py``
walks the operation's OpenAPI parameters against :class:`NearestQuery`, so a default or a
bound changed in one door is changed in all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl

from geo.vocabulary import CoordSystem, Profile

#: how many stations a rider may ask for
K_MIN, K_MAX = 1, 20
#: latitude and longitude bounds (degrees)
LAT_RANGE, LON_RANGE = (-90.0, 90.0), (-180.0, 180.0)
_NUMBER = re.compile(r"-?\d{1,3}(\.\d{1,12})?")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}
#: the words a page's checkbox or a link may use for "yes"
_YES = ("1", "true", "on")


@dataclass(frozen=True)
class NearestQuery:
    """A nearest-station request, validated: the operation's parameters and their defaults."""

    lat: float
    lon: float
    k: int = 3
    profile: Profile = Profile.E_BIKE
    amenity: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    open_at: datetime | None = None
    coord: CoordSystem = CoordSystem.WGS84
    include_closed: bool = False
    geometry: bool = True


#: parameters given once, and those that may repeat (``lang``: every operation's language)
SINGLE = frozenset(
    {"lat", "lon", "k", "profile", "open_at", "coord", "include_closed", "geometry", "lang"}
)
LISTS = frozenset({"amenity", "kind"})


def strict(raw: bytes, amenities: Sequence[str], kinds: Sequence[str]) -> NearestQuery | None:
    """The query when every parameter is known and plainly valid; else None (ask FastAPI).

    Stricter than the operation's own validation, never looser: what this accepts, the
    operation accepts with the same meaning.
    """
    try:
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    single: dict[str, str] = {}
    lists: dict[str, list[str]] = {"amenity": [], "kind": []}
    for key, value in pairs:
        if key in LISTS:
            lists[key].append(value)
        elif key in SINGLE and key not in single:
            single[key] = value
        else:
            return None  # unknown, or a single parameter given twice
    try:
        return _strict(single, lists, amenities, kinds)
    except (KeyError, ValueError):
        return None


def _strict(
    single: Mapping[str, str],
    lists: Mapping[str, list[str]],
    amenities: Sequence[str],
    kinds: Sequence[str],
) -> NearestQuery | None:
    lat, lon = single["lat"], single["lon"]
    if not (_NUMBER.fullmatch(lat) and _NUMBER.fullmatch(lon)):
        return None
    if not (_within(float(lat), LAT_RANGE) and _within(float(lon), LON_RANGE)):
        return None
    k = single.get("k", str(NearestQuery.k))
    if not (k.isascii() and k.isdigit() and K_MIN <= int(k) <= K_MAX):
        return None
    if not (set(lists["amenity"]) <= set(amenities) and set(lists["kind"]) <= set(kinds)):
        return None
    open_at = datetime.fromisoformat(single["open_at"]) if "open_at" in single else None
    return NearestQuery(
        lat=float(lat),
        lon=float(lon),
        k=int(k),
        profile=Profile(single.get("profile", NearestQuery.profile.value)),
        amenity=tuple(lists["amenity"]),
        kind=tuple(lists["kind"]),
        open_at=open_at,
        coord=CoordSystem(single.get("coord", NearestQuery.coord.value)),
        include_closed=_BOOLEANS[single.get("include_closed", "false")],
        geometry=_BOOLEANS[single.get("geometry", "true")],
    )


def _within(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


@dataclass(frozen=True)
class LenientReading:
    """What a page could read of a nearest question: the good values, and what was wrong."""

    lat: float | None
    lon: float | None
    profile: Profile
    amenity: tuple[str, ...]
    kind: tuple[str, ...]
    coord: CoordSystem
    include_closed: bool
    problems: list[str] = field(default_factory=list)


def lenient(
    params: Mapping[str, str],
    lists: Mapping[str, Sequence[str]],
    *,
    amenities: Sequence[str],
    kinds: Sequence[str],
    profiles: Sequence[Profile] = tuple(Profile),
) -> LenientReading:
    """The question as far as it can be read: bad values fall back to the defaults.

    Parameters
    ----------
    params
        The query's single values (the first of each).
    lists
        The query's repeated values (``amenity``, ``kind``).
    amenities, kinds
        The codes there are; others are dropped.
    profiles
        The profiles the page offers; others fall back to the default.
    """
    lat, lon = _number(params.get("lat"), LAT_RANGE), _number(params.get("lon"), LON_RANGE)
    problems = []
    if (params.get("lat") or params.get("lon")) and (lat is None or lon is None):
        problems.append("bad_position")
        lat = lon = None
    wanted = params.get("profile")
    return LenientReading(
        lat=lat,
        lon=lon,
        profile=Profile(str(wanted)) if wanted in profiles else NearestQuery.profile,
        amenity=tuple(a for a in lists.get("amenity", ()) if a in amenities),
        kind=tuple(k for k in lists.get("kind", ()) if k in kinds),
        coord=CoordSystem.of(str(params.get("coord"))) or NearestQuery.coord,
        include_closed=params.get("include_closed") in _YES,
        problems=problems,
    )


def _number(text: str | None, bounds: tuple[float, float]) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and _within(value, bounds) else None
