"""Province coverage as one Dask graph partitioned by city.

Each city is one task: generate (or read from the cache) its sample, compile its roads,
route every demand cell to its nearest station and rank its gaps. A last task joins the
cities into the province table and the province's gaps ranked together. The graph runs on
whatever Dask client it is given — a ``LocalCluster`` of worker processes from the CLI, the
jobs cluster from the API — so the work scales with the workers, and a city's timings let
the wall time on *N* workers be projected.
"""

from __future__ import annotations

import heapq
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import psutil
from dask.delayed import Delayed, delayed

from geo.coverage.analysis import CoverageModel, coverage_gaps
from geo.profiles import build_profiles
from geo.province.sample import PROVINCE_STATIONS, City, generate_city
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine

#: Why a city's figure here is not the service's (said with every province run: table, map, API).
BASIS = {
    "en": (
        "Every city is a generated sample over its real outline: the province's"
        f" ~{PROVINCE_STATIONS:,} union stations shared out by population, people at"
        " Jiangmen's census density, generated roads and towns. Use it to compare cities."
        " For a city the service runs on its own data (Jiangmen: the union's own stations,"
        " roads and demand) the service's coverage (/v1/coverage, /maps/coverage) is that"
        " city's figure; this one differs because its stations, roads and people are"
        " different ones."
    ),
    "zh": (
        f"每个城市都是在其真实边界上生成的示例：全省约 {PROVINCE_STATIONS:,} 个工会驿站按人口分配，"
        "人口按江门普查密度，道路和镇街均为生成。用于城市之间的比较。对服务以自有数据运行的城市"
        "（江门：工会自己的驿站、道路和需求），该城市的覆盖率以服务的结果（/v1/coverage、/maps/coverage）"
        "为准；此处数字不同，是因为驿站、道路和人口都不是同一套。"
    ),
}
#: The ``data`` column of every city row: what its figure is made of.
SYNTHETIC_SAMPLE = "synthetic sample"


@dataclass(frozen=True)
class ProvinceQuestion:
    """What to measure in every city."""

    minutes: float = 15.0
    profile: str = "e_bike"
    seed: int = 20240501
    gaps_per_city: int = 20
    max_snap_m: float = 1000.0


@dataclass(frozen=True)
class ProvinceResult:
    """Per-city table (one row a city, with its timings) and the province's ranked gaps."""

    cities: pd.DataFrame
    gaps: gpd.GeoDataFrame
    outlines: gpd.GeoDataFrame

    @property
    def overall(self) -> dict[str, float]:
        """Province totals: people, covered, share."""
        people = float(self.cities["population"].sum())
        covered = float(self.cities["covered"].sum())
        return {"population": people, "covered": covered, "share": covered / people}


def city_coverage(city: City, question: ProvinceQuestion, cache_dir: Path) -> dict[str, Any]:
    """One city's coverage: its table row (with seconds and memory) and its top gaps."""
    start = time.perf_counter()
    sample = generate_city(city, seed=question.seed, cache_dir=cache_dir)
    built = time.perf_counter()
    profiles = build_profiles()
    engine = RoutingEngine(  # no station fields: hundreds of stations are searched in batches
        CompiledGraph.from_graph(sample.graph, crs=city.crs),
        {question.profile: profiles[question.profile]},
        max_snap_m=question.max_snap_m,
    )
    points = np.array([(s.lon, s.lat) for s in sample.stations], dtype=float).reshape(-1, 2)
    ids = np.array([s.id for s in sample.stations], dtype=np.int64)
    result = CoverageModel(engine, sample.demand).compute_to(
        points, ids, minutes=question.minutes, profile=question.profile
    )
    summary = result.summary().iloc[0]
    gaps = coverage_gaps(result, towns=sample.towns, metric_crs=city.crs)
    gaps = gaps.head(question.gaps_per_city).assign(city=city.name, adcode=city.adcode)
    row = {
        "adcode": city.adcode,
        "name": city.name,
        "data": SYNTHETIC_SAMPLE,
        "towns": len(sample.towns),
        "stations": len(sample.stations),
        "road_nodes": sample.graph.number_of_nodes(),
        "demand_cells": len(sample.demand),
        "population": float(summary["demand"]),
        "covered": float(summary["covered"]),
        "share": float(summary["share"]),
        "mean_time_s": float(summary["mean_time_s"]),
        "p95_time_s": float(summary["p95_time_s"]),
        "no_road": float(summary["no_road"]),  # people no road reaches: not a gap
        "sample_s": round(built - start, 2),
        "coverage_s": round(time.perf_counter() - built, 2),
        "seconds": round(time.perf_counter() - start, 2),
        "worker_rss_mb": round(psutil.Process(os.getpid()).memory_info().rss / 2**20),
    }
    return {"row": row, "gaps": gaps.drop(columns=["town_codes"], errors="ignore")}


def join_cities(parts: Sequence[dict[str, Any]], cities: Sequence[City]) -> ProvinceResult:
    """The per-city rows as one table and every city's gaps ranked across the province."""
    table = pd.DataFrame([p["row"] for p in parts]).sort_values("adcode").reset_index(drop=True)
    frames = [p["gaps"] for p in parts if len(p["gaps"])]
    gaps = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
        if frames
        else gpd.GeoDataFrame({"uncovered_demand": []}, geometry=[], crs="EPSG:4326")
    )
    gaps = gaps.sort_values("uncovered_demand", ascending=False).reset_index(drop=True)
    gaps["rank"] = range(1, len(gaps) + 1)
    outlines = gpd.GeoDataFrame(
        {"adcode": [c.adcode for c in cities], "name": [c.name for c in cities]},
        geometry=[c.outline for c in cities],
        crs="EPSG:4326",
    ).merge(table[["adcode", "share", "population", "covered"]], on="adcode")
    outlines["uncovered"] = outlines["population"] - outlines["covered"]
    return ProvinceResult(table, gaps, outlines)


def province_graph(
    cities: Sequence[City], question: ProvinceQuestion, cache_dir: Path
) -> tuple[list[Delayed], Delayed]:
    """The Dask graph: one task per city (largest first) and the task joining them."""
    ordered = sorted(cities, key=lambda c: -c.outline.area)
    parts = [
        delayed(city_coverage, pure=True)(c, question, cache_dir, dask_key_name=f"city-{c.adcode}")
        for c in ordered
    ]
    joined = delayed(join_cities, pure=True)(parts, ordered, dask_key_name="province")
    return parts, joined


def projected_wall_time(seconds: Sequence[float], workers: int) -> float:
    """Wall time of city tasks on ``workers`` workers, largest first (LPT scheduling)."""
    loads = [0.0] * max(1, workers)
    for s in sorted(seconds, reverse=True):
        least = heapq.heappop(loads)
        heapq.heappush(loads, least + s)
    return max(loads)
