"""The province's coverage as a process: the cities fanned out over the cluster."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field

from geo.analyses.base import JobContext, Process
from geo.coverage.analysis import to_records
from geo.province.run import BASIS, ProvinceQuestion, join_cities, province_graph
from geo.province.sample import PROVINCE_TASK_GIB, province_cities

if TYPE_CHECKING:
    from geo.platform import Platform
    from geo.settings import Settings


class ProvinceInputs(BaseModel):
    """Coverage of every city of the province (synthetic samples), one Dask task a city."""

    model_config = ConfigDict(extra="forbid")
    cities: list[str] = Field(
        default_factory=list, max_length=30, description="adcodes (default: every city)"
    )
    minutes: float = Field(15, gt=0, le=60, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"
    limit: int = Field(100, ge=1, le=1000, description="how many of the province's gaps")


def _province(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    """Fan the cities out over the cluster from inside the job (the job's own task waits)."""
    from distributed import as_completed, worker_client

    assert isinstance(inputs, ProvinceInputs)
    cities = province_cities(platform.settings.region_dir, inputs.cities)
    question = ProvinceQuestion(minutes=inputs.minutes, profile=inputs.profile)
    parts, _ = province_graph(cities, question, platform.settings.cache_dir)
    with worker_client() as client:
        futures = client.compute(parts)
        for done, _future in enumerate(as_completed(futures), start=1):
            job.progress(round(95 * done / len(futures)))
        result = join_cities(client.gather(futures), cities)
    gaps = result.gaps.head(inputs.limit)
    wound = gaps.set_geometry(shapely.orient_polygons(gaps.geometry.to_numpy()), crs=gaps.crs)
    return {
        "overall": result.overall,
        "basis": BASIS["en"],
        "basis_zh": BASIS["zh"],
        "minutes": inputs.minutes,
        "profile": inputs.profile,
        "cities": to_records(result.cities),
        "gaps": json.loads(wound.to_json(na="null", show_bbox=False, drop_id=True)),
    }


def _province_check(inputs: BaseModel, settings: Settings) -> None:
    assert isinstance(inputs, ProvinceInputs)
    province_cities(settings.region_dir, inputs.cities)  # unknown cities refused by name


def _province_bytes(inputs: BaseModel, demand_points: int) -> int:
    """The largest city's task: its road graph, engine and demand (measured, see benchmarks)."""
    return int(PROVINCE_TASK_GIB * 2**30)


PROVINCE = Process(
    "province-coverage",
    "Province coverage 全省覆盖",
    "Coverage within a time limit in every city of the province, on synthetic samples "
    "over the real city outlines; one Dask task a city, a table per city and the "
    "province's gaps ranked together.",
    ProvinceInputs,
    _province,
    _province_bytes,
    "cities",
    _province_check,
)
