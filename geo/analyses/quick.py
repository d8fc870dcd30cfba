"""Quick analyses of public requests, computed on worker processes of their own.

A rider-facing API process must not compute: Python work holds the interpreter lock, and a few
uploads of 1.8 MB demand files or 60-minute drive isochrones pushed riders' p99 from 25 ms to
1.6 s when they ran on threads of the API. These requests are answered at once (no job row),
but computed on a small local Dask cluster of their own (``analysis_workers`` processes, each
with the platform open, like the jobs' workers), so long jobs never hold them up; the API only
waits. With ``YIZHAN_DASK_SCHEDULER`` they go to that cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd
from distributed import TimeoutError
from distributed.scheduler import KilledWorker

from geo.analyses.cluster import AnalysisCluster, warm_worker, worker_platform
from geo.analyses.coverage_jobs import demand_answer, gaps_table
from geo.coverage.analysis import coverage_gaps, roadless_area, to_records, town_shares
from geo.coverage.demand import candidate_points, read_demand_points
from geo.coverage.planning import plan_answer, plan_sites, run_scenario
from geo.db.layers import area_names, read_towns
from geo.errors import NotReadyError, ValidationError
from geo.settings import Settings

if TYPE_CHECKING:
    from geo.platform import Platform

T = TypeVar("T")


def _platform() -> Platform:
    """The worker's platform, its stations as stored now."""
    platform = worker_platform()
    platform.refresh_stations()
    return platform


def coverage_tables(
    demand: str, minutes: float, profile: str, at: datetime | None, by: str
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, str]]:
    """Coverage overall (a record), per area column ``by``, and the areas' names by code.

    Runs on a worker.
    """
    platform = _platform()
    result = platform.coverage_model(demand).compute(minutes=minutes, profile=profile, at=at)
    return to_records(result.summary())[0], result.summary(by), _area_names(platform)


def _area_names(platform: Platform) -> dict[str, str]:
    with platform.db.connect() as conn:
        return area_names(conn)


def ranked_gaps(minutes: float, profile: str, at: datetime | None, limit: int) -> Any:
    """The ``limit`` largest coverage gaps, a GeoDataFrame (runs on a worker)."""
    return gaps_table(_platform(), minutes=minutes, profile=profile, limit=limit, at=at)


def demand_size(demand: str) -> int:
    """How many demand points the ``demand`` layer holds, snapped (runs on a worker)."""
    return len(_platform().coverage_model(demand).demand.frame)


def site_plan(
    demand: str,
    at: datetime | None,
    candidates: dict[str, Any] | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """New sites (``k``, ``minutes``... in ``options``) as a GeoJSON answer (runs on a worker)."""
    frame = candidate_points(candidates) if candidates is not None else None
    plan = plan_sites(_platform().coverage_model(demand), at=at, candidates=frame, **options)
    return plan_answer(plan)


def what_if(
    demand: str, at: datetime | None, by: str, change: dict[str, Any], options: dict[str, Any]
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, str]]:
    """Coverage before and after stations added, closed or moved, and the areas' names.

    Runs on a worker.
    """
    platform = _platform()
    res = run_scenario(platform.coverage_model(demand), at=at, by=by, **change, **options)
    return res.overall, res.delta, _area_names(platform)


def demand_coverage(
    content: bytes,
    fmt: str,
    weight_column: str,
    minutes: float,
    profile: str,
    at: datetime | None,
) -> dict[str, Any]:
    """Coverage of uploaded demand points, with every bad row (runs on a worker)."""
    demand, errors = read_demand_points(content, fmt=fmt, weight_column=weight_column)
    return demand_answer(_platform(), demand, errors, minutes=minutes, profile=profile, at=at)


def town_coverage(
    minutes: float, profile: str, at: datetime | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Each town's covered share, the gaps between, and where no road reaches (on a worker)."""
    platform = _platform()
    result = platform.coverage_model("population").compute(minutes=minutes, profile=profile, at=at)
    with platform.db.connect() as conn:
        towns = read_towns(conn)
    return town_shares(result, towns), coverage_gaps(result, towns=towns), roadless_area(result)


def sites_drawing(
    k: int, minutes: float, profile: str, at: datetime | None, max_candidates: int
) -> dict[str, Any]:
    """New sites as a map draws them: the sites, the gaps before, the shares before and after.

    Runs on a worker.
    """
    platform = _platform()
    model = platform.coverage_model("population")
    plan = plan_sites(
        model, k=k, minutes=minutes, profile=profile, at=at, max_candidates=max_candidates
    )
    with platform.db.connect() as conn:
        towns = read_towns(conn)
    columns = [c for c in ("rank", "lon", "lat", "added_demand") if c in plan.sites]
    return {
        "sites": plan.sites[columns].to_dict("records"),
        "gaps": coverage_gaps(plan.before, towns=towns),
        "before": float(plan.before.summary().iloc[0]["share"]),
        "after": float(plan.after.summary().iloc[0]["share"]),
    }


def isochrones(lon: float, lat: float, minutes: Sequence[float], profile: str) -> Any:
    """Areas reachable from one place (runs on a worker): the engine's answer as it is."""
    return worker_platform().require_routing().isochrones(lon, lat, minutes, profile=profile)


class QuickAnalyses(AnalysisCluster):
    """The quick analyses' own cluster (started on first use) and a blocking call into it.

    Its workers answer people waiting (isochrones, a town's coverage): once started by a
    server, each opens its platform and warms every profile, isochrones included, so that
    the first answer is as quick as the next. (The jobs' workers open theirs at their first job.)
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, workers=settings.analysis_workers, name="quick analyses")
        self.warm = warm_worker

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a worker; waits up to ``analysis_timeout_s`` (blocks the caller).

        Errors of the analysis come back as they were raised (a bad file stays a 4xx); a
        worker that died (out of memory) or a timeout is a 503 with a plain message.
        """
        future = self.client().submit(fn, *args, pure=False, priority=10)
        try:
            result: T = future.result(timeout=self.settings.analysis_timeout_s)
        except TimeoutError as exc:
            future.cancel()
            msg = "the analysis took too long; ask for less and try again"
            raise NotReadyError(msg) from exc
        except (KilledWorker, MemoryError) as exc:
            msg = "the analysis needed more memory than a worker has; send less at once"
            raise ValidationError(msg) from exc
        except RecursionError as exc:  # a structure nested too deeply for the worker's parser
            msg = "the input nests too deeply to be read"
            raise ValidationError(msg) from exc
        return result
