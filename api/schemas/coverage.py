"""Planners' answers: coverage, gaps, new sites, scenarios and coverage of uploaded demand."""

from __future__ import annotations

from typing import Any

from geojson_pydantic import Feature, FeatureCollection, MultiPolygon, Point, Polygon
from pydantic import BaseModel, ConfigDict

from api.schemas.common import DATA_NOTICE, Answer


class Figures(Answer):
    """Covered demand and travel-time statistics (demand-weighted; None when undefined)."""

    demand: float
    covered: float
    share: float | None
    mean_time_s: float | None
    p95_time_s: float | None
    unreachable: float
    #: the part of ``unreachable`` no road reaches (water, land without roads): not a gap
    no_road: float = 0.0


class Overall(Figures):
    """The figures over the whole region."""

    area: str


class AreaFigures(Figures):
    """The figures of one district or town."""

    code: str
    name: str | None


class CoverageAnswer(Answer):
    """Coverage overall and per area."""

    minutes: float
    profile: str
    at: str
    demand: str
    overall: Overall
    by: str
    areas: list[AreaFigures]
    data_notice: str = DATA_NOTICE


class Gap(BaseModel):
    """An uncovered area, ranked by the demand it leaves out."""

    model_config = ConfigDict(extra="allow")
    rank: int
    uncovered_demand: float


class Gaps(FeatureCollection[Feature[Polygon | MultiPolygon, Gap]]):
    """Gaps in coverage, largest uncovered demand first."""

    data_notice: str = DATA_NOTICE


class Site(BaseModel):
    """A proposed site: its rank, and what it adds."""

    model_config = ConfigDict(extra="allow")
    rank: int


class SiteSummary(Answer):
    """How the sites were chosen and what they change."""

    objective: str
    method: str
    value: float
    bound: float | None
    optimality_gap: float | None
    solve_seconds: float
    candidates: int
    covered_before: float
    covered_after: float
    share_before: float | None
    share_after: float | None
    mean_time_before_s: float | None
    mean_time_after_s: float | None


class Sites(FeatureCollection[Feature[Point, Site]]):
    """The ``k`` new sites, in the order chosen."""

    summary: SiteSummary
    data_notice: str = DATA_NOTICE


class ScenarioOverall(Answer):
    """Coverage over the whole region before and after a what-if."""

    demand: float
    covered_before: float
    covered_after: float
    share_before: float | None
    share_after: float | None
    covered_change: float


class AreaChange(ScenarioOverall):
    """Coverage of one area before and after."""

    code: str
    name: str | None
    share_change: float | None


class ScenarioAnswer(Answer):
    """A what-if's effect, overall and per area."""

    overall: ScenarioOverall
    by: str
    areas: list[AreaChange]
    data_notice: str = DATA_NOTICE


class RowProblem(Answer):
    """A row of an uploaded file that was not accepted, and why."""

    row: int
    message: str


class DemandAnswer(Answer):
    """Coverage of uploaded demand points, and the rows refused."""

    rows_accepted: int
    row_errors: list[RowProblem]
    coverage: Overall | None
    minutes: float
    profile: str


def file_types(*types: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """OpenAPI content for answers that are files (CSV, GeoPackage): each media type's schema."""
    body = schema or {"type": "string", "format": "binary"}
    return {t: {"schema": body} for t in types}
