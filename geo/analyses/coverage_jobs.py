"""The planners' coverage analyses as processes.

Site selection, what-if scenarios, gaps, coverage of one's own demand points and batches of
isochrones: each with its inputs, its memory estimate and its run on a worker.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from geo.analyses.base import JobContext, Process
from geo.coverage.analysis import BY_COLUMN, CoverageModel, coverage_gaps, named_areas, to_records
from geo.coverage.demand import Demand, RowError, read_demand_points
from geo.coverage.planning import plan_answer, plan_sites, run_scenario
from geo.db.layers import area_names, read_towns
from geo.errors import YizhanError

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


def _site_selection(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, SiteSelectionInputs)
    model = platform.coverage_model(inputs.demand)
    job.progress(20)  # demand snapped; the travel-time table and the solver follow
    return plan_answer(plan_sites(model, **inputs.model_dump(exclude={"demand"})))


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


def _scenario(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, ScenarioInputs)
    model = platform.coverage_model(inputs.demand)
    job.progress(20)
    res = run_scenario(
        model,
        minutes=inputs.minutes,
        profile=inputs.profile,
        add=[(p.lon, p.lat) for p in inputs.add],
        close=inputs.close,
        move={m.id: (m.lon, m.lat) for m in inputs.move},
        by=BY_COLUMN[inputs.by],
    )
    with platform.db.connect() as conn:
        names = area_names(conn)
    return {
        "overall": res.overall,
        "by": inputs.by,
        "areas": named_areas(res.delta, inputs.by, names),
    }


def _scenario_bytes(inputs: BaseModel, demand_points: int) -> int:
    """Two coverage results over the demand (a few arrays of it) and the changed fields."""
    return int(0.3 * 2**30) + 64 * demand_points


class GapsInputs(BaseModel):
    """Where is nobody within reach: uncovered areas, largest uncovered population first."""

    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(15, gt=0, le=120, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"
    limit: int = Field(100, ge=1, le=1000, description="how many gaps, at most")


def gaps_table(
    platform: Platform,
    *,
    minutes: float,
    profile: str,
    limit: int,
    at: datetime | None = None,
    job: JobContext | None = None,
) -> gpd.GeoDataFrame:
    """The ``limit`` largest coverage gaps (a GeoDataFrame), for a job or a quick answer."""
    result = platform.coverage_model("population").compute(minutes=minutes, profile=profile, at=at)
    if job is not None:
        job.progress(50)  # coverage known; the gaps are merged next
    with platform.db.connect() as conn:
        towns = read_towns(conn)
    return coverage_gaps(result, towns=towns).head(limit)


def _gaps(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, GapsInputs)
    gaps = gaps_table(
        platform, minutes=inputs.minutes, profile=inputs.profile, limit=inputs.limit, job=job
    )
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


class DemandInputs(BaseModel):
    """Your own demand points: a GeoJSON FeatureCollection of points with a weight property."""

    model_config = ConfigDict(extra="forbid")
    points: dict[str, Any] = Field(description="a GeoJSON FeatureCollection of Point features")
    weight_property: str = Field("weight", max_length=60)
    minutes: float = Field(15, gt=0, le=120, allow_inf_nan=False, description="time limit")
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"


def demand_answer(
    platform: Platform,
    demand: Demand,
    errors: list[RowError],
    *,
    minutes: float,
    profile: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Coverage of read demand points, with every bad row, for a job or a quick answer."""
    summary = None
    if len(demand):
        model = CoverageModel(platform.require_routing(), demand)
        summary = to_records(model.compute(minutes=minutes, profile=profile, at=at).summary())[0]
    return {
        "rows_accepted": len(demand),
        "row_errors": [e.__dict__ for e in errors],
        "coverage": summary,
    }


def _demand(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, DemandInputs)
    content = json.dumps(inputs.points).encode()
    demand, errors = read_demand_points(
        content, fmt="geojson", weight_column=inputs.weight_property
    )
    job.progress(30)  # read; routing every point follows
    answer = demand_answer(platform, demand, errors, minutes=inputs.minutes, profile=inputs.profile)
    return {**answer, "minutes": inputs.minutes, "profile": inputs.profile}


def _demand_bytes(inputs: BaseModel, demand_points: int) -> int:
    """The points, their snaps and one time per point and station."""
    assert isinstance(inputs, DemandInputs)
    points = len(inputs.points.get("features") or [])
    return int(0.3 * 2**30) + 2000 * points


class IsochroneInputs(BaseModel):
    """Areas reachable from many places: one polygon per place and time limit."""

    model_config = ConfigDict(extra="forbid")
    places: list[Place] = Field(min_length=1, max_length=500)
    minutes: list[float] = Field(
        default_factory=lambda: [15.0], min_length=1, max_length=4, description="time limits"
    )
    profile: Literal["e_bike", "walk", "drive"] = "e_bike"

    @field_validator("minutes")
    @classmethod
    def _in_range(cls, values: list[float]) -> list[float]:
        if any(not 0 < v <= 60 for v in values):
            msg = "each time limit must be above 0 and at most 60 minutes"
            raise ValueError(msg)
        return values


def _isochrones(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, IsochroneInputs)
    engine = platform.require_routing()
    features: list[dict[str, Any]] = []
    for i, place in enumerate(inputs.places):
        try:
            _, areas = engine.isochrones(
                place.lon, place.lat, inputs.minutes, profile=inputs.profile
            )
        except YizhanError as exc:  # a place off the roads or outside the region: said, skipped
            features.append(
                {"type": "Feature", "geometry": None, "properties": {"place": i, "error": str(exc)}}
            )
            continue
        for minutes, area in areas:
            props = {"place": i, "minutes": minutes, "profile": inputs.profile}
            wound = shapely.orient_polygons(area)
            geometry = json.loads(shapely.to_geojson(wound))
            features.append({"type": "Feature", "geometry": geometry, "properties": props})
        job.progress(round(99 * (i + 1) / len(inputs.places)))
    return {"type": "FeatureCollection", "features": features}


def _isochrones_bytes(inputs: BaseModel, demand_points: int) -> int:
    """One search and its polygons at a time."""
    return int(0.5 * 2**30)


SITE_SELECTION = Process(
    "site-selection",
    "Site selection 新址选择",
    "k new stations that cover the most demand within a time limit (maximal coverage) "
    "or shorten the mean trip (p-median), keeping the existing stations.",
    SiteSelectionInputs,
    _site_selection,
    _site_selection_bytes,
    "max_candidates",
    counts_demand=True,
)
SCENARIO = Process(
    "coverage-scenario",
    "What if 情景分析",
    "Coverage before and after adding, closing or moving stations, overall and per "
    "district or town; the stored stations are not changed.",
    ScenarioInputs,
    _scenario,
    _scenario_bytes,
    "add",
    counts_demand=True,
)
GAPS = Process(
    "coverage-gaps",
    "Coverage gaps 覆盖盲区",
    "Areas beyond the time limit of every open station, merged from population cells "
    "and ranked by the people they leave out (GeoJSON polygons).",
    GapsInputs,
    _gaps,
    _gaps_bytes,
    "limit",
    counts_demand=True,
)
CUSTOM_DEMAND = Process(
    "demand-coverage",
    "Your demand 自有需求点覆盖",
    "Coverage of your own demand points (a GeoJSON FeatureCollection of points with a "
    "weight), with every bad row listed.",
    DemandInputs,
    _demand,
    _demand_bytes,
    "points",
)
ISOCHRONES = Process(
    "isochrones",
    "Reachable areas 可达范围",
    "Areas reachable within each time limit from each place (up to 500 places), as GeoJSON "
    "polygons; places off the roads are listed with the reason.",
    IsochroneInputs,
    _isochrones,
    _isochrones_bytes,
    "places",
)
