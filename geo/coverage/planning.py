"""Planning workflows on the road graph: candidate sites, their travel times, scenarios.

Costs are road travel times from the routing engine: a candidate site is snapped to the
road like a station and one bounded Dijkstra on the reversed graph gives the time from
every demand point to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from geo.coverage.analysis import CoverageModel, CoverageResult, coverage_delta, to_records
from geo.coverage.sites import MaximalCoverage, PMedian, SiteSelection
from geo.errors import ValidationError
from geo.routing.engine import RoutingEngine, StationRecord
from geo.routing.table import point_table

SCENARIO_ID_BASE = 10_000_000  # ids given to stations added in a scenario


def default_candidates(result: CoverageResult, *, max_candidates: int = 300) -> pd.DataFrame:
    """Candidate sites in the gaps: centres of the uncovered cells with the most demand."""
    frame = result.demand.frame
    out = frame[result.gap]  # never in the water or where no road reaches
    top = out.sort_values("weight", ascending=False).head(max_candidates)
    return pd.DataFrame(
        {"id": top["id"].astype(str), "lon": top["lon"], "lat": top["lat"], "source": "gap cell"}
    ).reset_index(drop=True)


def candidate_times(
    model: CoverageModel, candidates: pd.DataFrame, *, profile: str, limit_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Travel time (s) from every demand point to every candidate, ``inf`` beyond ``limit_s``.

    Returns the ``(demand, candidate)`` table and a mask of candidates that met a road
    (the others get ``inf`` throughout).
    """
    engine = model.engine
    sites = engine.snap_points(candidates[["lon", "lat"]].to_numpy(dtype=float), profile)
    times = point_table(engine, model.snaps(profile), sites, profile=profile, limit_s=limit_s)
    return times, sites.edge >= 0


@dataclass(frozen=True)
class SitePlan:
    """New sites chosen for a coverage target, with what they add."""

    selection: SiteSelection
    candidates: pd.DataFrame
    sites: pd.DataFrame
    before: CoverageResult
    after: CoverageResult


def plan_sites(
    model: CoverageModel,
    *,
    k: int,
    minutes: float,
    profile: str = "e_bike",
    objective: str = "coverage",
    at: datetime | None = None,
    candidates: pd.DataFrame | None = None,
    max_candidates: int = 300,
    method: str = "auto",
) -> SitePlan:
    """Choose ``k`` new sites keeping the existing stations (MCLP or p-median)."""
    if objective not in ("coverage", "p_median"):
        msg = "objective must be 'coverage' or 'p_median'"
        raise ValidationError(msg)
    before = model.compute(minutes=minutes, profile=profile, at=at)
    cands = (
        candidates
        if candidates is not None
        else default_candidates(before, max_candidates=max_candidates)
    )
    if len(cands) == 0:
        msg = "no candidate sites: everything is covered already, or no candidates were given"
        raise ValidationError(msg)
    limit = minutes * 60.0 if objective == "coverage" else max(minutes * 60.0 * 4, 3600.0)
    times, ok = candidate_times(model, cands, profile=profile, limit_s=limit)
    w = model.demand.frame["weight"].to_numpy()
    if objective == "coverage":
        problem: MaximalCoverage | PMedian = MaximalCoverage.from_cost_matrix(
            times, w, minutes * 60.0, already_covered=before.covered
        )
    else:
        problem = PMedian.from_cost_matrix(times, w, existing=before.times)
    selection = problem.solve(min(k, len(cands)), method=method)  # type: ignore[arg-type]
    picked = list(selection.selected)
    gains: list[float] | None = None
    if isinstance(problem, MaximalCoverage):  # numbered by priority, each with people it adds
        ordered = problem.by_priority(picked)
        picked, gains = [j for j, _ in ordered], [g for _, g in ordered]
    chosen = cands.iloc[picked].reset_index(drop=True)
    added = [
        StationRecord(
            SCENARIO_ID_BASE + i,
            f"new site {i + 1}",
            "outdoor_worker_station",
            float(lon),
            float(lat),
        )
        for i, (lon, lat) in enumerate(
            zip(chosen["lon"].to_numpy(), chosen["lat"].to_numpy(), strict=True)
        )
    ]
    after = model.compute(
        minutes=minutes, profile=profile, at=at, engine=model.engine.scenario(add=added)
    )
    sites = chosen.assign(rank=np.arange(1, len(chosen) + 1), snapped=ok[picked])
    if gains is not None:
        sites = sites.assign(added_demand=gains)
    return SitePlan(selection, cands.assign(on_road=ok), sites, before, after)


@dataclass(frozen=True)
class ScenarioResult:
    """Coverage before and after a what-if change, per area."""

    before: CoverageResult
    after: CoverageResult
    delta: pd.DataFrame
    overall: dict[str, Any]


def run_scenario(
    model: CoverageModel,
    *,
    minutes: float,
    profile: str = "e_bike",
    at: datetime | None = None,
    add: Sequence[tuple[float, float]] = (),
    close: Sequence[int] = (),
    move: dict[int, tuple[float, float]] | None = None,
    by: str = "town_code",
) -> ScenarioResult:
    """Coverage deltas for added, closed and moved stations; stored data is not touched."""
    added = [
        StationRecord(
            SCENARIO_ID_BASE + i, f"scenario site {i + 1}", "outdoor_worker_station", lon, lat
        )
        for i, (lon, lat) in enumerate(add)
    ]
    engine: RoutingEngine = model.engine.scenario(add=added, close=close, move=move)
    before = model.compute(minutes=minutes, profile=profile, at=at)
    after = model.compute(minutes=minutes, profile=profile, at=at, engine=engine)
    delta = coverage_delta(before, after, by=by)
    b, a = before.summary().iloc[0], after.summary().iloc[0]
    overall = {
        "demand": float(b["demand"]),
        "covered_before": float(b["covered"]),
        "covered_after": float(a["covered"]),
        "share_before": float(b["share"]),
        "share_after": float(a["share"]),
        "covered_change": float(a["covered"] - b["covered"]),
    }
    return ScenarioResult(before, after, delta, overall)


def plan_answer(plan: SitePlan) -> dict[str, Any]:
    """A site plan as GeoJSON: the sites as numbered points, and how they were chosen."""
    before, after = plan.before.summary().iloc[0], plan.after.summary().iloc[0]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")},
        }
        for r in to_records(plan.sites)
    ]
    sel = plan.selection
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "objective": sel.objective,
            "method": sel.method,
            "value": sel.value,
            "bound": sel.bound,
            "optimality_gap": sel.gap,
            "solve_seconds": round(sel.seconds, 3),
            "candidates": len(plan.candidates),
            "covered_before": float(before["covered"]),
            "covered_after": float(after["covered"]),
            "share_before": _finite(before["share"]),
            "share_after": _finite(after["share"]),
            "mean_time_before_s": _finite(before["mean_time_s"]),
            "mean_time_after_s": _finite(after["mean_time_s"]),
        },
    }


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
