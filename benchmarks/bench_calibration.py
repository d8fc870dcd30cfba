"""The e-bike's minutes against Valhalla's, per city and per station layout.

A rider is told "12 minutes by e-bike"; the figure should be what an independent router says
for the same trip. Valhalla's ``bicycle`` costing at 25 km/h (China's e-bike cap, GB
17761-2018; ``bicycle_type`` Hybrid, as in ``bench_peers``) on the same OSM extract is the
reference. Two layouts per city, because fixed costs (signals, turns, the first and last
metres) weigh most on short trips and depend on where stations and riders stand:

- **nodes** — stations and riders at road junctions;
- **mid-edge** — stations and riders in the middle of road segments (where real stations
  and riders mostly are).

For each rider the ratio is yizhan's time ÷ Valhalla's time **to the same station** (yizhan's
nearest, so the station choice does not move the figure); the benchmark prints the median per
city and layout, with its interquartile range and the distance ratio beside it (a time ratio
far from the distance ratio is speed or fixed costs; near it, the path). The target band is
0.85–1.15.

Cities: central Helsinki (``data/osm_fixtures/Helsinki.osm.pbf``) and West Oakland
(``West-Oakland.osm.bz2``) — the real extracts the project ships; ``--sample`` adds the
generated Jiangmen network (not a city: its roads are made up).

Run: ``.venv/bin/python -m benchmarks.bench_calibration [--sample]`` (about a minute; the
peers' venv is made the first time, see ``bench_peers``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from benchmarks.bench_peers import VALHALLA_BICYCLE, as_pbf, peers_python
from benchmarks.common import headline
from geo.network import load_compiled
from geo.profiles import DEFAULT_PROFILES, TravelProfile
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.table import point_table
from geo.routing.views import profile_view
from geo.settings import PROJECT_ROOT, Settings
from geo.workspace import ensure_sample_network

PROFILE = "e_bike"
NOON = datetime(2026, 11, 25, 12)
BAND = (0.85, 1.15)
FIXTURES = PROJECT_ROOT / "data" / "osm_fixtures"
CITIES = {
    "helsinki": FIXTURES / "Helsinki.osm.pbf",
    "west-oakland": FIXTURES / "West-Oakland.osm.bz2",
}
LAYOUTS = ("nodes", "mid-edge")
#: the pairs that count: trips Valhalla times at 15 minutes or less (a rider's range)
WITHIN_S = 15 * 60.0


@dataclass(frozen=True)
class Layout:
    """Where the stations and the riders of one run stand (WGS-84 lon/lat rows)."""

    name: str
    stations: np.ndarray
    riders: np.ndarray


def places(compiled: CompiledGraph, layout: str, rng: np.random.Generator) -> Layout:
    """Stations (one per ~40 usable nodes, 6 to 60) and up to 300 riders for ``layout``."""
    pg = profile_view(compiled, DEFAULT_PROFILES[PROFILE])
    usable = np.flatnonzero(pg.usable)
    nodes = np.unique(pg.u[usable])
    n_stations = min(max(len(nodes) // 40, 6), 60)
    n_riders = min(300, len(nodes) - n_stations)
    if layout == "nodes":
        picks = rng.choice(nodes, size=n_stations + n_riders, replace=False)
        xy = compiled.node_xy[picks]
    else:  # the middle of segments at least 40 m long (shorter ones are junctions in all but name)
        long_enough = usable[pg.length[usable] >= 40.0]
        size = min(n_stations + n_riders, len(long_enough))
        picks = rng.choice(long_enough, size=size, replace=False)
        mids = shapely.line_interpolate_point(pg.geoms[picks], 0.5, normalized=True)
        xy = shapely.get_coordinates(mids)
    lon, lat = compiled.to_wgs84.transform(*xy.T)
    lonlat = np.column_stack([lon, lat])
    return Layout(layout, lonlat[:n_stations], lonlat[n_stations:])


@dataclass(frozen=True)
class Ours:
    """yizhan's answers: every rider's time to every station, and the nearest one's route."""

    table_s: np.ndarray
    station: list[int]
    time_s: list[float]
    length_m: list[float]


def ours(compiled: CompiledGraph, layout: Layout, profile: TravelProfile) -> Ours:
    """yizhan's times from every rider to every station, and each rider's nearest station."""
    records = [
        StationRecord(i, f"s{i}", "outdoor_worker_station", float(x), float(y))
        for i, (x, y) in enumerate(layout.stations)
    ]
    engine = RoutingEngine(compiled, {PROFILE: profile}, records)
    table_s = point_table(engine, layout.riders, layout.stations, profile=PROFILE)
    station, time_s, length_m = [], [], []
    for lon, lat in layout.riders:
        hits = engine.nearest(float(lon), float(lat), profile=PROFILE, k=1, at=NOON).hits
        station.append(hits[0].station.id if hits else -1)
        time_s.append(hits[0].route.travel_time_s if hits else np.inf)
        length_m.append(hits[0].route.distance_m if hits else np.inf)
    return Ours(table_s, station, time_s, length_m)


def theirs(python: Path, pbf: Path, layout: Layout, work: Path) -> dict[str, Any]:
    """Valhalla's times and distances from every rider to every station (the peers' venv)."""
    job = {
        "pbf": str(pbf),
        "workdir": str(work),
        "stations": layout.stations.tolist(),
        "origins": layout.riders.tolist(),
        "valhalla_bicycle": VALHALLA_BICYCLE,
        "peers": ["valhalla-times"],
    }
    work.mkdir(parents=True, exist_ok=True)
    job_file = work / f"{layout.name}.json"
    job_file.write_text(json.dumps(job))
    out = subprocess.run(
        [str(python), str(Path(__file__).with_name("peers_runner.py")), str(job_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])["valhalla-times"]
    return found


def pair_ratios(mine: Ours, other: dict[str, Any]) -> np.ndarray:
    """yizhan ÷ Valhalla for every rider-station pair Valhalla reaches within 15 minutes."""
    theirs_s = np.array([[np.nan if t is None else t for t in row] for row in other["time_s"]])
    ok = np.isfinite(mine.table_s) & (theirs_s > 0) & (theirs_s <= WITHIN_S)
    return np.asarray(mine.table_s[ok] / theirs_s[ok])


def ratios(mine: Ours, other: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per rider with an answer from both: time ratio and distance ratio to yizhan's station."""
    station, time_s, length_m = mine.station, mine.time_s, mine.length_m
    t, d = [], []
    for i, j in enumerate(station):
        if j < 0:
            continue
        vt, vd = other["time_s"][i][j], other["distance_m"][i][j]
        if vt and vd and np.isfinite(time_s[i]) and time_s[i] > 0 and vd > 1:
            t.append(time_s[i] / vt)
            d.append(length_m[i] / vd)
    return np.asarray(t), np.asarray(d)


def main() -> None:
    """Print the ratio per city and layout, and whether each is within the band."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", action="store_true", help="the generated Jiangmen network too")
    args = parser.parse_args()
    python = peers_python()
    settings = Settings()
    cities = dict(CITIES)
    if args.sample:
        cities["jiangmen-sample"] = ensure_sample_network(settings)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-calibration-") as tmp:
        work = Path(tmp)
        for city, path in cities.items():
            compiled, _ = load_compiled(path, cache_dir=settings.cache_dir)
            pbf = as_pbf(path, work)
            for name in LAYOUTS:
                layout = places(compiled, name, np.random.default_rng(7))
                t = time.perf_counter()
                mine = ours(compiled, layout, DEFAULT_PROFILES[PROFILE])
                other = theirs(python, pbf, layout, work / f"{city}-{name}")
                pairs = pair_ratios(mine, other)
                near, distance = ratios(mine, other)
                rows.append(Row(city, name, len(layout.stations), pairs, near, distance))
                print(f"{city} {name}: {time.perf_counter() - t:.0f} s", flush=True)
    print_table(rows)


@dataclass(frozen=True)
class Row:
    """One city and layout: the pairs' time ratios, and the nearest station's time and distance."""

    city: str
    layout: str
    stations: int
    pairs: np.ndarray
    nearest: np.ndarray
    distance: np.ndarray

    @property
    def median(self) -> float:
        """The headline: the median time ratio over the pairs."""
        return float(np.median(self.pairs))

    @property
    def within(self) -> bool:
        """Whether the headline lies in the band."""
        return BAND[0] <= self.median <= BAND[1]


def print_table(rows: list[Row]) -> None:
    """The table, its legend, and one README line per city and layout."""
    head = (
        f"{'city':<16}{'layout':<10}{'stations':>9}{'pairs':>7}{'time':>7}{'IQR':>12}"
        f"{'nearest':>9}{'dist':>7}  band"
    )
    print("\n" + head + "\n" + "-" * len(head))
    for r in rows:
        q1, q3 = np.percentile(r.pairs, [25, 75])
        print(
            f"{r.city:<16}{r.layout:<10}{r.stations:>9}{len(r.pairs):>7}{r.median:>7.2f}"
            f"{q1:>7.2f}–{q3:<4.2f}{np.median(r.nearest):>9.2f}{np.median(r.distance):>7.2f}  "
            + ("within" if r.within else "OUTSIDE")
        )
    print(
        "\ntime: median yizhan ÷ Valhalla (bicycle, 25 km/h) over rider-station pairs Valhalla "
        "times at 15 min or less; IQR: its quartiles; nearest: the same for each rider's nearest "
        "station only; dist: route length ratio to that station; band "
        f"{BAND[0]}–{BAND[1]}"
    )
    for r in rows:
        headline(
            f"calibration {r.city} {r.layout}: yizhan ÷ Valhalla {r.median:.2f} over "
            f"{len(r.pairs)} trips of 15 min or less "
            + ("(within 0.85–1.15)" if r.within else "(outside 0.85–1.15)")
        )


if __name__ == "__main__":
    main()
