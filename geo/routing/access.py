"""Who may use a road: OSM's access tags, read once per edge for each way of travelling.

OSM says who may use a way with a general ``access`` tag and more specific ones that win over
it: ``foot``; ``bicycle`` (then ``vehicle``); ``motorcar`` (then ``motor_vehicle``, then
``vehicle``). ``no``, ``private`` and the like forbid; ``yes``, ``designated``, ``permissive``,
``destination``... allow (even on a class the profile would not use, e.g. a footway with
``bicycle=designated``); ``bicycle=dismount`` means pushing the bike (walking speed). A
one-way street with ``oneway:bicycle=no`` or an ``opposite`` cycleway may be ridden both ways.
Where osmnx merged several ways into one edge, a value that forbids on any of them forbids.
E-bikes count as bicycles (in China they are non-motor vehicles and use bicycle lanes).

Heavy goods vehicles (``hgv``) follow ``hgv``, then ``motor_vehicle``, ``vehicle``, ``access``,
and are kept off ways whose ``maxweight``, ``maxheight`` or ``maxlength`` is below the truck
the drivers' homes (司机之家) serve: China's legal largest articulated truck (GB 1589-2016:
49 t, 4 m high, 18.1 m long).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

Mode = Literal["foot", "bicycle", "motor", "hgv"]
MODES: tuple[Mode, ...] = ("foot", "bicycle", "motor", "hgv")
#: the tags that decide, most specific first
KEYS: Mapping[Mode, tuple[str, ...]] = {
    "foot": ("foot", "access"),
    "bicycle": ("bicycle", "vehicle", "access"),
    "motor": ("motorcar", "motor_vehicle", "vehicle", "access"),
    "hgv": ("hgv", "motor_vehicle", "vehicle", "access"),
}
#: the tags that speak of this mode alone
OWN_KEYS: Mapping[Mode, frozenset[str]] = {
    "foot": frozenset({"foot"}),
    "bicycle": frozenset({"bicycle"}),
    "motor": frozenset({"motorcar", "motor_vehicle"}),
    "hgv": frozenset({"hgv"}),
}
#: the truck of the drivers' homes (GB 1589-2016's largest): a way posted lower is closed to it
TRUCK_LIMITS = {"maxweight": 49.0, "maxheight": 4.0, "maxlength": 18.1}
#: way tags osmnx must keep for this (besides its defaults)
WAY_TAGS = (
    "foot",
    "bicycle",
    "vehicle",
    "motor_vehicle",
    "motorcar",
    "oneway:bicycle",
    "cycleway",
    "cycleway:left",
    "cycleway:right",
    "cycleway:both",
    "hgv",
    *TRUCK_LIMITS,
)
UNKNOWN, FORBIDDEN, ALLOWED, DISMOUNT = -1, 0, 1, 2
_NO = frozenset({"no", "private", "agricultural", "forestry", "military", "use_sidepath"})
_YES = frozenset({"yes", "designated", "permissive", "destination", "delivery", "customers"})


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [str(v).strip().lower() for v in items if v is not None]


def _metres_or_tonnes(value: str) -> float | None:
    """A posted limit as a number, None for what is not one (``default``, ``none``).

    ``7.5``, ``7.5 t``, ``3.8 m``; ``12'6"`` is feet and inches, in metres.
    """
    feet = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*'\s*(?:(\d+(?:\.\d+)?)\s*\"?)?\s*", value)
    if feet:
        return float(feet.group(1)) * 0.3048 + float(feet.group(2) or 0) * 0.0254
    number = re.match(r"\s*(\d+(?:\.\d+)?)\s*(t|m)?\s*$", value)
    return float(number.group(1)) if number else None


def too_small_for_trucks(tags: Mapping[str, Any]) -> bool:
    """Whether a way is posted below the truck of :data:`TRUCK_LIMITS` (weight, height, length)."""
    for key, truck in TRUCK_LIMITS.items():
        for value in _values(tags.get(key)):
            limit = _metres_or_tonnes(value)
            if limit is not None and limit < truck:
                return True
    return False


def edge_access(tags: Mapping[str, Any], mode: Mode) -> int:
    """:data:`ALLOWED`, :data:`FORBIDDEN`, :data:`DISMOUNT` or :data:`UNKNOWN` (class decides).

    The most specific tag present decides. Only the mode's own tags (``foot``, ``bicycle``,
    ``motorcar``/``motor_vehicle``) can open a way of a class the profile would not use; a
    general ``access=yes`` leaves that to the class (no walking on motorways).
    """
    own = OWN_KEYS[mode]
    if mode == "hgv" and too_small_for_trucks(tags):
        return FORBIDDEN
    for key in KEYS[mode]:
        values = _values(tags.get(key))
        if not values:
            continue
        if any(v in _NO for v in values):
            return FORBIDDEN
        if mode == "bicycle" and "dismount" in values:
            return DISMOUNT
        if any(v in _YES for v in values):
            return ALLOWED if key in own else UNKNOWN
    return UNKNOWN


def bicycle_contraflow(tags: Mapping[str, Any]) -> bool:
    """Whether bicycles may ride a one-way street against its direction."""
    if "no" in _values(tags.get("oneway:bicycle")):
        return True
    cycleways = [
        v
        for k in ("cycleway", "cycleway:left", "cycleway:right", "cycleway:both")
        for v in _values(tags.get(k))
    ]
    return any(v.startswith("opposite") for v in cycleways)


def access_arrays(edges: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Per edge: an ``(m, 4)`` int8 array of access by mode (:data:`MODES` order), contraflow."""
    access = np.array([[edge_access(d, mode) for mode in MODES] for d in edges], dtype=np.int8)
    contraflow = np.array([bicycle_contraflow(d) for d in edges], dtype=bool)
    return access.reshape(len(edges), len(MODES)), contraflow
