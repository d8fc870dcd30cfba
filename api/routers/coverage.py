"""Planners: coverage, gaps, new sites and what-if scenarios, with exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from api.auth import Planner
from api.deps import AnalysesDep, Lane, Routing
from api.exports import frame_response, geo_response
from api.geojson import GeoJSONResponse
from api.handover import outcome_answer
from api.params import ProfileQuery
from api.schemas.common import errors
from api.schemas.coverage import (
    CoverageAnswer,
    DemandAnswer,
    Gaps,
    ScenarioAnswer,
    Sites,
    file_types,
)
from api.schemas.processes import StatusInfo
from geo.analyses.base import Finished
from geo.analyses.coverage_jobs import ScenarioInputs, SiteSelectionInputs
from geo.analyses.quick import coverage_tables, demand_coverage, ranked_gaps, site_plan, what_if
from geo.coverage.analysis import BY_COLUMN, named_areas
from geo.errors import ValidationError
from geo.hours import local_iso, local_time
from geo.vocabulary import Profile

router = APIRouter(prefix="/v1/coverage", tags=["planners"])
TEXT = {"type": "string"}
GPKG = "application/geopackage+sqlite3"
Minutes = Annotated[float, Query(gt=0, le=120, allow_inf_nan=False, description="time limit")]
DemandKind = Annotated[Literal["population", "workplaces"], Query(description="demand layer")]


@router.get(
    "",
    summary="Covered share of demand within T minutes, overall and per area",
    response_model=CoverageAnswer,
    responses={**errors(), 200: {"content": file_types("text/csv", schema=TEXT)}},
)
async def coverage(
    request: Request,
    engine: Routing,
    analyses: AnalysesDep,
    lane: Lane,
    minutes: Minutes = 15,
    profile: ProfileQuery = Profile.E_BIKE,
    by: Annotated[Literal["district", "town"], Query()] = "district",
    at: Annotated[datetime | None, Query(description="ISO time; default now")] = None,
    demand: DemandKind = "population",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Any:
    """Coverage by stations open at ``at``: share, mean and 95th percentile travel time."""
    when = local_time(at)
    where = (demand, minutes, profile, when, BY_COLUMN[by])
    overall, table, names = await lane.run(lambda: analyses.run(coverage_tables, *where))
    if format == "csv":
        return frame_response(table.assign(name=table[BY_COLUMN[by]].map(names)), "coverage", "csv")
    return {
        "minutes": minutes,
        "profile": profile,
        "at": local_iso(when),
        "demand": demand,
        "overall": overall,
        "by": by,
        "areas": named_areas(table, by, names),
        "data_notice": analyses.platform.data_notice,
    }


@router.get(
    "/gaps",
    summary="Areas beyond T minutes of any open station, ranked",
    response_class=GeoJSONResponse,
    response_model=Gaps,
    responses={
        **errors(),
        200: {"content": file_types("text/csv", schema=TEXT) | file_types(GPKG)},
    },
)
async def gaps(
    engine: Routing,
    analyses: AnalysesDep,
    lane: Lane,
    minutes: Minutes = 15,
    profile: ProfileQuery = Profile.E_BIKE,
    at: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Annotated[Literal["geojson", "csv", "gpkg"], Query()] = "geojson",
) -> Any:
    """Uncovered population cells merged into gap polygons, largest uncovered demand first."""
    where = (minutes, profile, local_time(at), limit)
    table = await lane.run(lambda: analyses.run(ranked_gaps, *where))
    return geo_response(table, "gaps", format, notice=analyses.platform.data_notice)


class SitesRequest(SiteSelectionInputs):
    """A site-selection question (the job's inputs), at a time, maybe with your candidates."""

    at: datetime | None = None
    candidates: dict[str, Any] | None = Field(
        None, description="a GeoJSON FeatureCollection of Points"
    )


@router.post(
    "/sites",
    summary="Rank k new sites (maximal coverage or p-median)",
    response_model=Sites,
    responses={
        **errors(401, 403, 413),
        202: {"model": StatusInfo, "description": "Too large to answer at once: a job started"},
    },
)
async def sites(
    request: Request,
    engine: Routing,
    analyses: AnalysesDep,
    lane: Lane,
    body: SitesRequest,
    who: Planner,
) -> Any:
    """Choose ``k`` new sites keeping the existing stations; method and optimality gap told.

    A request larger than a worker can hold is refused (422 naming the input to lower); a
    large one becomes a job on the cluster (202, ``Location`` of the job, results there).
    """
    inputs = body.model_dump(mode="json", exclude={"at", "candidates"})
    if body.candidates is not None:  # the planner's own candidates: as many as they sent
        inputs["max_candidates"] = max(1, min(len(body.candidates.get("features") or []), 2000))
    options = body.model_dump(exclude={"demand", "at", "candidates"})
    where = (body.demand, local_time(body.at), body.candidates, options)
    outcome = await lane.run(
        lambda: analyses.execute(
            "site-selection",
            inputs,
            owner=who,
            wait_s=0,
            inline=(site_plan, where),
            inline_only=body.candidates is not None,  # a job's inputs cannot hold them
        )
    )
    if isinstance(outcome, Finished):
        return {**outcome.result, "data_notice": analyses.platform.data_notice}
    return outcome_answer(request, outcome)


class ScenarioRequest(ScenarioInputs):
    """A what-if (the job's inputs: stations added, closed or moved), at a time."""

    at: datetime | None = None


@router.post(
    "/scenarios",
    summary="What if stations were added, closed or moved?",
    response_model=ScenarioAnswer,
    responses=errors(401, 403, 404, 413),
)
async def scenarios(
    engine: Routing, analyses: AnalysesDep, lane: Lane, body: ScenarioRequest, _: Planner
) -> Any:
    """Coverage before and after, per area; stored stations are not changed."""
    change = {
        "add": [(p.lon, p.lat) for p in body.add],
        "close": body.close,
        "move": {m.id: (m.lon, m.lat) for m in body.move},
    }
    options = {"minutes": body.minutes, "profile": body.profile}
    where = (body.demand, local_time(body.at), BY_COLUMN[body.by], change, options)
    overall, delta, names = await lane.run(lambda: analyses.run(what_if, *where))
    return {
        "overall": overall,
        "by": body.by,
        "areas": named_areas(delta, body.by, names),
        "data_notice": analyses.platform.data_notice,
    }


@router.post(
    "/demand",
    summary="Coverage of your own demand points (CSV or GeoJSON upload)",
    response_model=DemandAnswer,
    responses=errors(413),
)
async def custom_demand(
    request: Request,
    engine: Routing,
    analyses: AnalysesDep,
    lane: Lane,
    minutes: Minutes = 15,
    profile: ProfileQuery = Profile.E_BIKE,
    weight_column: Annotated[str, Query(max_length=60)] = "weight",
    at: Annotated[datetime | None, Query()] = None,
) -> Any:
    """Send the file as the body (``text/csv`` or ``application/geo+json``); bad rows listed."""
    body = await request.body()
    kind = request.headers.get("content-type", "")
    fmt = "csv" if "csv" in kind else "geojson" if "json" in kind else ""
    if not fmt:
        msg = "send the file with Content-Type text/csv or application/geo+json"
        raise ValidationError(msg)

    when = local_time(at)
    # parsing and routing a whole file is work for a worker process, never for this one
    answer = await lane.run(
        lambda: analyses.run(demand_coverage, body, fmt, weight_column, minutes, profile, when)
    )
    return {**answer, "minutes": minutes, "profile": profile}
