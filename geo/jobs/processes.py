"""The analyses offered as processes: their inputs, an estimate of their size, how they run.

Each process validates its inputs (a pydantic model, whose JSON schema the OGC API publishes),
says before any work how much memory it will need (so that what cannot fit is refused with
the knob to lower), and runs on a Dask worker against the worker's own platform.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field

from geo.coverage.analysis import coverage_gaps, to_records
from geo.coverage.planning import plan_answer, plan_sites, run_scenario
from geo.db.layers import area_names, read_towns
from geo.errors import NotFoundError, ValidationError

if TYPE_CHECKING:
    from geo.platform import Platform


class SiteSelectionInputs(BaseModel):
    """A site-selection question: ``k`` new sites for a coverage target."""

    model_config = ConfigDict(extra="forbid")
    k: int = Field(ge=1, le=50, description="how many new sites")
    minutes: float = Field(15, gt=0, le=120, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"
    objective: Literal["coverage", "p_median"] = "coverage"
    demand: Literal["population", "workplaces"] = "population"
    max_candidates: int = Field(300, ge=1, le=2000, description="candidate sites considered")
    method: Literal["auto", "milp", "greedy"] = "auto"


def _site_selection(platform: Platform, inputs: BaseModel) -> dict[str, Any]:
    assert isinstance(inputs, SiteSelectionInputs)
    model = platform.coverage_model(inputs.demand)
    plan = plan_sites(
        model,
        k=inputs.k,
        minutes=inputs.minutes,
        profile=inputs.profile,
        objective=inputs.objective,
        max_candidates=inputs.max_candidates,
        method=inputs.method,
    )
    return plan_answer(plan)


class Place(BaseModel):
    """A WGS-84 location."""

    model_config = ConfigDict(extra="forbid")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class Moved(Place):
    """A station moved to a new location."""

    id: int = Field(ge=1)


class ScenarioInputs(BaseModel):
    """A what-if: stations added, closed or moved (nothing stored is changed)."""

    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(15, gt=0, le=120, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"
    demand: Literal["population", "workplaces"] = "population"
    by: Literal["district", "town"] = "town"
    add: list[Place] = Field(default_factory=list, max_length=100)
    close: list[int] = Field(default_factory=list, max_length=500)
    move: list[Moved] = Field(default_factory=list, max_length=100)


BY_COLUMN = {"district": "district_adcode", "town": "town_code"}


def _scenario(platform: Platform, inputs: BaseModel) -> dict[str, Any]:
    assert isinstance(inputs, ScenarioInputs)
    res = run_scenario(
        platform.coverage_model(inputs.demand),
        minutes=inputs.minutes,
        profile=inputs.profile,
        add=[(p.lon, p.lat) for p in inputs.add],
        close=inputs.close,
        move={m.id: (m.lon, m.lat) for m in inputs.move},
        by=BY_COLUMN[inputs.by],
    )
    with platform.db.connect() as conn:
        names = area_names(conn)
    areas = res.delta.rename(columns={BY_COLUMN[inputs.by]: "code"})
    areas.insert(1, "name", areas["code"].map(names))
    return {"overall": res.overall, "by": inputs.by, "areas": to_records(areas)}


def _scenario_bytes(inputs: BaseModel, demand_points: int) -> int:
    """Two coverage results over the demand (a few arrays of it) and the changed fields."""
    return int(0.3 * 2**30) + 64 * demand_points


class GapsInputs(BaseModel):
    """Where is nobody within reach: uncovered areas, largest uncovered population first."""

    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(15, gt=0, le=120, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"
    limit: int = Field(100, ge=1, le=1000, description="how many gaps, at most")


def _gaps(platform: Platform, inputs: BaseModel) -> dict[str, Any]:
    assert isinstance(inputs, GapsInputs)
    result = platform.coverage_model("population").compute(
        minutes=inputs.minutes, profile=inputs.profile
    )
    with platform.db.connect() as conn:
        towns = read_towns(conn)
    gaps = coverage_gaps(result, towns=towns).head(inputs.limit)
    wound = gaps.set_geometry(shapely.orient_polygons(gaps.geometry.to_numpy()), crs=gaps.crs)
    answer: dict[str, Any] = json.loads(wound.to_json(na="null", show_bbox=False, drop_id=True))
    return answer


def _gaps_bytes(inputs: BaseModel, demand_points: int) -> int:
    """One coverage result and the uncovered cells' polygons."""
    return int(0.3 * 2**30) + 2000 * demand_points


def _site_selection_bytes(inputs: BaseModel, demand_points: int) -> int:
    """A fixed part, and a part per demand-candidate pair.

    Maximal coverage keeps the travel-time table (8 bytes a pair) and a sparse cover of it:
    about 32 bytes a pair over 0.3 GiB. p-median's MILP holds a variable and a constraint
    row per pair: measured on the Jiangmen sample (about 10,000 population cells), 1.75 GB
    at 50 candidates and 5.1 GB at 300 — about 1,000 bytes a pair over the same fixed part.
    """
    assert isinstance(inputs, SiteSelectionInputs)
    pairs = demand_points * inputs.max_candidates
    return int(0.3 * 2**30) + (32 if inputs.objective == "coverage" else 1000) * pairs


@dataclass(frozen=True)
class Process:
    """An analysis offered as a job."""

    id: str
    title: str
    description: str
    inputs: type[BaseModel]
    run: Callable[[Platform, BaseModel], dict[str, Any]]
    memory: Callable[[BaseModel, int], int]
    #: the input to lower when a request is too large
    knob: str


PROCESSES: dict[str, Process] = {
    p.id: p
    for p in (
        Process(
            "site-selection",
            "Site selection 新址选择",
            "k new stations that cover the most demand within a time limit (maximal coverage) "
            "or shorten the mean trip (p-median), keeping the existing stations.",
            SiteSelectionInputs,
            _site_selection,
            _site_selection_bytes,
            "max_candidates",
        ),
        Process(
            "coverage-scenario",
            "What if 情景分析",
            "Coverage before and after adding, closing or moving stations, overall and per "
            "district or town; the stored stations are not changed.",
            ScenarioInputs,
            _scenario,
            _scenario_bytes,
            "add",
        ),
        Process(
            "coverage-gaps",
            "Coverage gaps 覆盖盲区",
            "Areas beyond the time limit of every open station, merged from population cells "
            "and ranked by the people they leave out (GeoJSON polygons).",
            GapsInputs,
            _gaps,
            _gaps_bytes,
            "limit",
        ),
    )
}


def admit(proc: Process, inputs: BaseModel, demand: int, limit: int) -> int:
    """The bytes a run will need; refused (naming the input to lower) beyond ``limit``."""
    need = proc.memory(inputs, demand)
    if need > limit:
        msg = (
            f"this analysis would need about {need / 2**30:.1f} GiB, more than the "
            f"{limit / 2**30:.1f} GiB a worker has; lower {proc.knob}"
        )
        raise ValidationError(msg)
    return need


def process(process_id: str) -> Process:
    """A process by id (404 naming the known ones)."""
    found = PROCESSES.get(process_id)
    if found is None:
        msg = f"process {process_id!r} not found; available: {', '.join(PROCESSES)}"
        raise NotFoundError(msg)
    return found
