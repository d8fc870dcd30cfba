"""Turn restrictions from OpenStreetMap: read from the extract, resolved to banned edge pairs.

OSM maps a forbidden (or the only allowed) turn as a relation ``type=restriction`` with a
``from`` way, a ``via`` node and a ``to`` way, and a ``restriction`` value: ``no_left_turn``,
``no_right_turn``, ``no_straight_on``, ``no_u_turn``, ``no_entry``, ``no_exit`` forbid that turn;
``only_left_turn``, ``only_right_turn``, ``only_straight_on``, ``only_u_turn`` forbid every
other turn from the ``from`` way at the ``via`` node. ``restriction=*`` binds every vehicle
(cyclists and drivers, not people on foot); ``restriction:bicycle`` or ``restriction:motorcar``
one mode; ``except=bicycle;…`` exempts a mode.

What is left out, and counted (``yizhan network info``, ``/health``): restrictions with a
``via`` way (rare; they need a search over way sequences), and time-dependent ones
(``restriction:conditional``, ``time``/``day_on``/``hour_on``), which a static travel-time field
cannot hold — those turns stay allowed.
"""

from __future__ import annotations

import bz2
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np

from geo.routing.access import MODES, Mode

#: the ``restriction:<key>`` suffixes that bind each mode
_MODE_KEYS: Mapping[str, tuple[Mode, ...]] = {
    "": ("bicycle", "motor", "hgv"),
    "bicycle": ("bicycle",),
    "motorcar": ("motor",),
    "hgv": ("hgv",),
    "motor_vehicle": ("motor", "hgv"),
    "vehicle": ("bicycle", "motor", "hgv"),
}
#: ``except`` values that exempt each mode
_EXEMPT: Mapping[str, tuple[Mode, ...]] = {
    "bicycle": ("bicycle",),
    "motorcar": ("motor",),
    "hgv": ("hgv",),
    "motor_vehicle": ("motor", "hgv"),
}
_TIME_TAGS = ("time", "day_on", "day_off", "hour_on", "hour_off")


@dataclass(frozen=True)
class Restriction:
    """One turn restriction: from any of ``from_ways`` through ``via`` to any of ``to_ways``.

    ``only`` is True for ``only_*`` (every other turn is forbidden); ``modes`` are the
    :data:`geo.routing.access.MODES` it binds.
    """

    from_ways: tuple[int, ...]
    via: int
    to_ways: tuple[int, ...]
    only: bool
    u_turn: bool
    modes: frozenset[Mode]


def read_restrictions(path: Path) -> tuple[list[Restriction], Counter[str]]:
    """The turn restrictions of an OSM XML file (``.osm`` or ``.osm.bz2``), and what was left out.

    The counter says how many relations were ``read`` and how many were ``skipped_via_way``,
    ``skipped_conditional`` or ``skipped_other`` (incomplete, or for other vehicles only).
    """
    found: list[Restriction] = []
    counts: Counter[str] = Counter()
    opener: Any = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rb") as fh:
        for _, el in ElementTree.iterparse(fh, events=("end",)):
            if el.tag == "relation":
                tags = {t.get("k", ""): t.get("v", "") for t in el.iter("tag")}
                if tags.get("type") == "restriction":
                    members = [
                        (m.get("type", ""), m.get("ref", ""), m.get("role", ""))
                        for m in el.iter("member")
                    ]
                    restriction, why = _parse(tags, members)
                    counts[why] += 1
                    if restriction is not None:
                        found.append(restriction)
            if el.tag in ("node", "way", "relation"):
                el.clear()
    return found, counts


def _parse(
    tags: Mapping[str, str], members: Sequence[tuple[str, str, str]]
) -> tuple[Restriction | None, str]:
    if "restriction:conditional" in tags or any(k in tags for k in _TIME_TAGS):
        return None, "skipped_conditional"
    modes: set[Mode] = set()
    value = ""
    for key, bound in _MODE_KEYS.items():
        v = tags.get(f"restriction:{key}" if key else "restriction", "")
        if v:
            value = value or v
            modes.update(bound)
    for exempt in tags.get("except", "").split(";"):
        modes.difference_update(_EXEMPT.get(exempt.strip(), ()))
    if any(t == "way" and role == "via" for t, _, role in members):
        return None, "skipped_via_way"
    from_ways = tuple(int(r) for t, r, role in members if t == "way" and role == "from")
    to_ways = tuple(int(r) for t, r, role in members if t == "way" and role == "to")
    via = [int(r) for t, r, role in members if t == "node" and role == "via"]
    kind = value.split("_", 1)[0]
    if not (modes and from_ways and to_ways and len(via) == 1 and kind in ("no", "only")):
        return None, "skipped_other"
    u_turn = value.endswith("u_turn")
    return Restriction(from_ways, via[0], to_ways, kind == "only", u_turn, frozenset(modes)), "read"


def banned_turns(
    restrictions: Iterable[Restriction],
    node_index: Mapping[int, int],
    u: np.ndarray,
    v: np.ndarray,
    edge_ways: Sequence[frozenset[int]],
) -> tuple[np.ndarray, np.ndarray, int]:
    """Resolve restrictions to banned (arriving edge, leaving edge) pairs of a compiled graph.

    Parameters
    ----------
    restrictions
        As read by :func:`read_restrictions`.
    node_index
        OSM node id -> graph node index.
    u, v
        Each edge's end nodes (graph indexes).
    edge_ways
        The OSM way ids each edge was made of (osmnx merges ways when simplifying).

    Returns
    -------
    pairs
        ``(k, 2)`` edge indexes: arriving at the via node by the first, leaving by the second.
    modes
        ``(k, len(MODES))`` whether the ban binds each mode.
    unmatched
        Restrictions whose via node or ways are not in the graph.
    """
    into: dict[int, list[int]] = {}
    out_of: dict[int, list[int]] = {}
    for e, (a, b) in enumerate(zip(u.tolist(), v.tolist(), strict=True)):
        out_of.setdefault(a, []).append(e)
        into.setdefault(b, []).append(e)
    pairs: list[tuple[int, int]] = []
    modes: list[list[bool]] = []
    unmatched = 0
    for r in restrictions:
        via = node_index.get(r.via)
        if via is None:
            unmatched += 1
            continue
        ins = [x for x in into.get(via, []) if edge_ways[x] & set(r.from_ways)]
        outs = [e for e in out_of.get(via, []) if edge_ways[e] & set(r.to_ways)]
        if not ins or not outs:
            unmatched += 1
            continue
        for x in ins:
            if r.only:
                banned = [e for e in out_of[via] if e not in outs]
            elif r.u_turn:  # back the way it came, not on through the via node
                banned = [e for e in outs if v[e] == u[x]]
            else:
                banned = outs
            for e in banned:
                pairs.append((x, e))
                modes.append([m in r.modes for m in MODES])
    return (
        np.array(pairs, dtype=np.int64).reshape(-1, 2),
        np.array(modes, dtype=bool).reshape(-1, len(MODES)),
        unmatched,
    )
