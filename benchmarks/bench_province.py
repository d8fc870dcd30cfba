"""Province coverage on Dask: wall time on 1 and 2 local workers, and projected on N.

Every city's sample is generated (and its roads built through osmnx) once, outside the
timings; then the whole province runs as one Dask graph — one task a city — on a
``LocalCluster`` of 1, then 2 worker processes. Per-city seconds from the 1-worker run
project the wall time on N workers (largest city first); the worker memory is the largest
resident size a city task saw.

Run: ``.venv/bin/python -m benchmarks.bench_province`` (``PROVINCE_CITIES=440400,442000``
for a part of the province).
"""

from __future__ import annotations

import os
import time

from distributed import Client, LocalCluster

from benchmarks.common import headline
from geo.province.run import ProvinceQuestion, ProvinceResult, projected_wall_time, province_graph
from geo.province.sample import generate_city, province_cities
from geo.settings import Settings


def run_on(workers: int, settings: Settings, wanted: list[str]) -> tuple[float, ProvinceResult]:
    """Wall seconds of the province graph on ``workers`` local worker processes."""
    cities = province_cities(settings.region_dir, wanted)
    _parts, joined = province_graph(cities, ProvinceQuestion(), settings.cache_dir)
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            memory_limit=settings.job_memory_limit,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: None)
        start = time.perf_counter()
        result: ProvinceResult = client.compute(joined).result()
        return time.perf_counter() - start, result


def main() -> None:
    settings = Settings()
    wanted = [c for c in os.environ.get("PROVINCE_CITIES", "").split(",") if c]
    cities = province_cities(settings.region_dir, wanted)
    start = time.perf_counter()
    for city in cities:  # road files and graphs made once: what is timed is the analysis
        generate_city(city, seed=ProvinceQuestion().seed, cache_dir=settings.cache_dir)
    print(
        f"\nprovince: {len(cities)} cities, {sum(c.stations for c in cities):,} stations; "
        f"samples ready in {time.perf_counter() - start:.0f} s (cached after the first run)"
    )
    one_s, one = run_on(1, settings, wanted)
    two_s, two = run_on(2, settings, wanted)
    table = one.cities
    cols = ["name", "stations", "road_nodes", "demand_cells", "share", "seconds", "worker_rss_mb"]
    print(table[cols].to_string(index=False))
    print(f"  province covered: {one.overall['share']:.1%} of {one.overall['population']:,.0f}")
    print(f"  wall time, 1 worker : {one_s:7.1f} s")
    print(f"  wall time, 2 workers: {two_s:7.1f} s   (speed-up {one_s / two_s:.2f}x)")
    seconds = table["seconds"].tolist()
    for n in (2, 4, 8, 21):
        print(f"  projected on {n:>2} workers: {projected_wall_time(seconds, n):7.1f} s")
    print(
        f"  memory per worker: largest city task {table['worker_rss_mb'].max():,.0f} MB "
        f"({table.loc[table['worker_rss_mb'].idxmax(), 'name']}); limit "
        f"{settings.job_memory_limit}"
    )
    assert two.cities["share"].round(9).tolist() == table["share"].round(9).tolist()
    headline(
        f"{len(cities)} cities, {sum(c.stations for c in cities):,} stations, "
        f"{one.overall['population'] / 1e6:,.0f} M synthetic people: {one_s:.1f} s on 1 worker, "
        f"{two_s:.1f} s on 2 ({one_s / two_s:.2f}x); projected "
        f"{projected_wall_time(seconds, 8):.0f} s on 8 workers; largest city task "
        f"{table['worker_rss_mb'].max():,.0f} MB a worker"
    )


if __name__ == "__main__":
    main()
