"""Batch assignment of 1,000 open cases to the 605-person grid team, against greedy.

Cases are drawn at workplaces (where workers report from), with random categories. Members
are the sample's, with their capacity, leave and skills; nobody has open cases yet. Both
methods get the same travel-time matrix (e-bike, member base -> case, from one bounded
search per member, computed once and timed separately).

Run: ``.venv/bin/python -m benchmarks.bench_cases``.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import headline, load_sample
from geo.cases.batch import assign_greedy, assign_min_cost
from geo.routing.table import point_field
from geo.sample.build import read_sample_layer
from geo.settings import DEFAULT_CASE_CATEGORIES, Settings

N_CASES = 1000


def main() -> None:
    settings = Settings()
    sample = load_sample(settings)
    syn = settings.region_dir / "synthetic"
    members = read_sample_layer(syn, "grid_members")
    workplaces = read_sample_layer(syn, "workplaces")
    rng = np.random.default_rng(5)
    picks = rng.choice(len(workplaces), size=N_CASES, replace=False)
    cases = workplaces.iloc[picks].reset_index(drop=True)
    categories = rng.choice(DEFAULT_CASE_CATEGORIES, size=N_CASES)
    engine = sample.engine

    t = time.perf_counter()
    bases = np.column_stack([members.geometry.x.to_numpy(), members.geometry.y.to_numpy()])
    field = point_field(engine, bases, profile="e_bike", limit_s=3600)
    build_s = time.perf_counter() - t

    t = time.perf_counter()
    places = np.column_stack([cases.geometry.x.to_numpy(), cases.geometry.y.to_numpy()])
    cost = field.to(engine.snap_points(places, "e_bike")).T
    town = cases["town_code"].to_numpy()
    allowed = town[:, None] == members["town_code"].to_numpy()[None, :]
    allowed &= ~members["on_leave"].to_numpy(dtype=bool)[None, :]
    allowed &= np.array([[c in s for s in members["skills"]] for c in categories])
    capacity = members["capacity"].to_numpy()
    load = np.zeros(len(members), dtype=int)
    matrix_s = time.perf_counter() - t
    t = time.perf_counter()
    best = assign_min_cost(cost, allowed, capacity, load, town)
    solve_s = time.perf_counter() - t
    greedy = assign_greedy(cost, allowed, capacity, load)

    def loads(res) -> np.ndarray:
        out = load.copy()
        for mem in res.assignment.values():
            out[mem] += 1
        return out

    print(
        f"\nbatch assignment: {N_CASES} cases, {len(members)} members "
        f"({int(members['on_leave'].sum())} on leave)"
    )
    print(f"  member travel-time fields (once, cached): {build_s * 1000:8.1f} ms")
    print(f"  cost matrix for the batch:                 {matrix_s * 1000:8.1f} ms")
    for name, res, secs in (
        ("min-cost (linear_sum_assignment)", best, matrix_s + solve_s),
        ("greedy baseline", greedy, matrix_s + greedy.seconds),
    ):
        lo = loads(res)
        print(
            f"  {name:<34} assigned {len(res.assignment):5d}  total {res.total_travel_time_s / 3600:8.2f} h"
            f"  max load {lo.max():3d}  capacity respected {bool((lo <= capacity).all())}"
            f"  time {secs * 1000:7.1f} ms"
        )
    ratio = best.total_travel_time_s / greedy.total_travel_time_s
    print(
        f"  total travel time min-cost / greedy = {ratio:.4f} (target ≤ 1, same cases assigned: "
        f"{len(best.assignment)} vs {len(greedy.assignment)}); batch time target ≤ 1 s: "
        f"{'met' if matrix_s + solve_s <= 1 else 'NOT met'}"
    )
    respected = bool((loads(best) <= capacity).all())
    headline(
        f"{N_CASES:,} cases to {len(members)} members in {(matrix_s + solve_s):.2f} s (members' "
        f"fields {build_s:.1f} s once); total travel time {ratio:.3f}x greedy's, capacities "
        f"respected: {'yes' if respected else 'NO'}"
    )


if __name__ == "__main__":
    main()
