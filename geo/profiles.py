"""Travel-time profiles: who may use which road, and how fast.

All speeds are in km/h, by OSM ``highway`` class, in one place (override any of them with
``YIZHAN_PROFILE_SPEEDS``, e.g. ``{"e_bike": {"primary": 22}}``). A class missing from a
profile's table is a road that profile may not use.

* ``e_bike`` — China's e-bike standard GB 17761-2018 caps e-bikes at 25 km/h; they may not use
  motorways/expressways (or their ramps) nor footways; cycleways are fine. One-way rules apply.
* ``walk`` — about 5 km/h anywhere but motorways, both directions of one-way streets.
* ``drive`` — the tagged ``maxspeed`` where there is one, else the class speed; no footways,
  cycleways or paths; one-way rules apply.
* ``truck`` — a heavy goods vehicle, the drivers' homes' (司机之家) traveller: the car's roads
  but no living streets or tracks, at most 80 km/h (heavy trucks' limit on China's
  expressways is 100 and in practice lower; 80 is the usual posted truck limit), OSM's ``hgv``
  access and posted weight, height and length limits (:mod:`geo.routing.access`), and slower
  turns. Only where the extract says something of trucks (a way's ``hgv`` or limits differ
  from the car's): elsewhere it would only be the car, and the riders' driver mode uses ``drive``.
  Built when first asked for (not at start).

On real OSM roads OSM's access tags for the profile's ``mode`` then close, open or slow
single ways (:mod:`geo.routing.access`). Every profile waits at traffic signals; e-bikes and
cars also pay for turns and obey OSM's turn restrictions (:class:`TurnCosts`,
:mod:`geo.routing.turns`); people on foot do neither.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from geo.errors import ValidationError

#: e-bike speeds by class, calibrated against Valhalla's bicycle costing at 25 km/h on the
#: same real OSM extracts (central Helsinki, with its traffic lights, and West Oakland's
#: residential grid), with stations and riders at junctions and in the middle of segments:
#: the median of yizhan ÷ Valhalla over trips of 15 minutes or less lies within 0.85–1.15 for
#: every city and layout (``benchmarks/bench_calibration.py``; README, "Calibration").
#: Valhalla rides every paved class at the set speed and charges a few seconds a junction
#: (``src/sif/bicyclecost.cc``: stop impact x turn cost, 0.15–5 s); here small streets are
#: slower (residential 22, service 18) and signals and turns cost their own seconds (below).
_E_BIKE = {
    "trunk": 25,
    "trunk_link": 22,
    "primary": 25,
    "primary_link": 22,
    "secondary": 24,
    "secondary_link": 22,
    "tertiary": 22,
    "tertiary_link": 20,
    "unclassified": 22,
    "residential": 22,
    "living_street": 12,
    "service": 18,
    "track": 12,
    "cycleway": 22,
    "path": 12,
    "road": 20,
}
_WALK = dict.fromkeys(
    (
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "track",
        "cycleway",
        "path",
        "footway",
        "pedestrian",
        "steps",
        "road",
    ),
    5.0,
)
_WALK["steps"] = 2.0
DRIVE_SPEEDS_KPH: dict[str, float] = {
    "motorway": 100,
    "motorway_link": 40,
    "trunk": 80,
    "trunk_link": 40,
    "primary": 60,
    "primary_link": 30,
    "secondary": 50,
    "secondary_link": 30,
    "tertiary": 40,
    "tertiary_link": 30,
    "unclassified": 40,
    "residential": 30,
    "living_street": 10,
    "service": 20,
    "track": 20,
    "road": 30,
}


@dataclass(frozen=True)
class TurnCosts:
    """Seconds lost turning at an intersection, and whether OSM's turn restrictions bind.

    The cost grows with the turn's angle along a sigmoid (the shape OSRM's car and bicycle
    profiles fitted to measured turns), shifted so that going straight on costs nothing (OSRM's
    two halves meet at a small step there) and a full reversal ``penalty_s``. ``bias`` above 1
    makes turns across traffic (left, where traffic keeps right — China, Finland) dearer than
    turns with it. Turning back the way one came adds
    ``u_turn_s``. Passing a node where only two roads meet costs nothing (it is a bend).

    Attributes
    ----------
    penalty_s
        The most a turn costs (s).
    bias
        Left/right asymmetry (1: none).
    u_turn_s
        Extra seconds for turning back along the same road.
    restrictions
        Whether ``type=restriction`` relations bind (for this profile's mode).
    """

    penalty_s: float
    bias: float
    u_turn_s: float
    restrictions: bool = True

    def seconds(self, angle_deg: np.ndarray, u_turn: np.ndarray) -> np.ndarray:
        """Cost of turns by signed angle (degrees, + to the right, 0 straight on)."""
        a = np.abs(angle_deg) / 180.0
        right = angle_deg >= 0
        steep = np.where(right, 13.0 / self.bias, 13.0 * self.bias)
        shift = np.where(right, 6.5 * self.bias, 6.5 / self.bias)
        at = 1.0 / (1.0 + np.exp(-(steep * a - shift)))
        flat = 1.0 / (1.0 + np.exp(shift))  # the sigmoid at 0: taken off, straight on is free
        cost = self.penalty_s * (at - flat) / (1.0 - flat)
        return np.asarray(cost + np.where(u_turn, self.u_turn_s, 0.0), dtype=float)

    def __post_init__(self) -> None:
        if not (self.penalty_s >= 0 and self.bias > 0 and math.isfinite(self.u_turn_s)):
            msg = "turn costs need a penalty >= 0, a positive bias and a finite u-turn cost"
            raise ValidationError(msg)


@dataclass(frozen=True)
class TravelProfile:
    """How one kind of traveller moves on the road graph.

    Attributes
    ----------
    name
        ``e_bike``, ``walk``, ``drive`` or ``truck``.
    speeds_kph
        Speed by ``highway`` class; classes not listed may not be used.
    max_speed_kph
        A hard cap applied after everything else (the e-bike's 25 km/h).
    use_maxspeed
        Take an edge's tagged ``maxspeed`` (osmnx's ``speed_kph``) where it is lower.
    respect_oneway
        Whether one-way streets may only be used in their direction.
    """

    name: str
    speeds_kph: Mapping[str, float]
    max_speed_kph: float | None = None
    use_maxspeed: bool = False
    respect_oneway: bool = True
    description: str = field(default="", compare=False)
    #: whose OSM access rules apply: ``foot``, ``bicycle`` (e-bikes too) or ``motor``
    mode: str = "bicycle"
    #: speed on a way of a class not in the table that OSM explicitly opens to this mode
    allowed_kph: float = 10.0
    #: mean seconds lost at a traffic signal (``highway=traffic_signals`` on the way)
    signal_s: float = 0.0
    #: turn costs and restrictions (None: turns are free and restrictions ignored)
    turns: TurnCosts | None = None
    #: built only when first asked for: not part of a start or of a warm-up
    on_demand: bool = False

    @functools.cached_property
    def key(self) -> tuple[object, ...]:
        """Everything that decides its travel times, hashable (a view of a graph is kept by it).

        Made once (every answer looks its profile's view up by it).
        """
        return (
            self.name,
            tuple(sorted(self.speeds_kph.items())),
            self.max_speed_kph,
            self.use_maxspeed,
            self.respect_oneway,
            self.mode,
            self.allowed_kph,
            self.signal_s,
            self.turns,
        )

    def edge_speed(self, highway: str | list[str], tagged_kph: float | None) -> float | None:
        """Speed on an edge of these classes (None: not allowed for this profile)."""
        classes = highway if isinstance(highway, list) else [highway]
        speeds = [self.speeds_kph.get(c) for c in classes]
        if not speeds or any(s is None for s in speeds):
            return None
        speed = min(s for s in speeds if s is not None)
        if self.use_maxspeed and tagged_kph and tagged_kph > 0:
            speed = min(speed, tagged_kph) if speed else tagged_kph
        if self.max_speed_kph is not None:
            speed = min(speed, self.max_speed_kph)
        return float(speed)


#: mean wait at a traffic signal: a 90 s cycle red half the time loses 45^2 / (2 x 90) = 11 s
#: on average; rounded down (riders turn right on red, lights on main roads are coordinated)
SIGNAL_WAIT_S = 8.0
#: turns for e-bikes: the shape of OSRM's bicycle profile (``bicycle.lua``: bias 1.4), its
#: size that of Valhalla's bicycle turn costs (about 2-2.5 s across traffic, 5 s to reverse);
#: OSRM's own 6 s and 20 s made central Helsinki's ETAs 1.19x Valhalla's (README, "Calibration")
BICYCLE_TURNS = TurnCosts(penalty_s=3.0, bias=1.4, u_turn_s=5.0)
#: turns for cars: OSRM's car profile (``car.lua``), right-hand traffic
CAR_TURNS = TurnCosts(penalty_s=7.5, bias=1.075, u_turn_s=20.0)
#: turns for heavy trucks: the car's shape, twice the cost (our choice, not a measured figure:
#: an articulated truck turns at walking pace and cannot turn back on an ordinary street)
TRUCK_TURNS = TurnCosts(penalty_s=15.0, bias=1.075, u_turn_s=120.0)
TRUCK_SPEEDS_KPH = {
    c: v for c, v in DRIVE_SPEEDS_KPH.items() if c not in ("living_street", "track")
}

DEFAULT_PROFILES: Mapping[str, TravelProfile] = MappingProxyType(
    {
        "e_bike": TravelProfile(
            "e_bike",
            _E_BIKE,
            max_speed_kph=25.0,
            description="e-bike, at most 25 km/h, no expressways",
            mode="bicycle",
            signal_s=SIGNAL_WAIT_S,
            turns=BICYCLE_TURNS,
        ),
        "walk": TravelProfile(
            "walk",
            _WALK,
            respect_oneway=False,
            description="walking, 5 km/h",
            mode="foot",
            allowed_kph=5.0,
            signal_s=SIGNAL_WAIT_S,
        ),
        "drive": TravelProfile(
            "drive",
            DRIVE_SPEEDS_KPH,
            use_maxspeed=True,
            description="car",
            mode="motor",
            signal_s=SIGNAL_WAIT_S,
            turns=CAR_TURNS,
        ),
        "truck": TravelProfile(
            "truck",
            TRUCK_SPEEDS_KPH,
            max_speed_kph=80.0,
            use_maxspeed=True,
            description="heavy truck (49 t, 4 m, 18.1 m), at most 80 km/h",
            mode="hgv",
            signal_s=SIGNAL_WAIT_S,
            turns=TRUCK_TURNS,
            on_demand=True,
        ),
    }
)


def everyday(profiles: Mapping[str, TravelProfile]) -> list[str]:
    """The profiles built at start and warmed: all but those built when first asked for."""
    return [name for name, p in profiles.items() if not p.on_demand]


def build_profiles(
    overrides: Mapping[str, Mapping[str, float]] | None = None,
) -> dict[str, TravelProfile]:
    """The default profiles with speed overrides merged in (unknown profile names refused)."""
    profiles = dict(DEFAULT_PROFILES)
    for name, speeds in (overrides or {}).items():
        if name not in profiles:
            msg = f"unknown profile {name!r} in speed overrides; known: {', '.join(profiles)}"
            raise ValidationError(msg)
        base = profiles[name]
        merged = {**base.speeds_kph, **{k: float(v) for k, v in speeds.items()}}
        profiles[name] = dataclasses.replace(base, speeds_kph=merged)
    return profiles
