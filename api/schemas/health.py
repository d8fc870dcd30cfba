"""The state of the database and the road graph (``/health``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DatabaseState(BaseModel):
    """Whether the database answers, its PostGIS and schema versions and row counts."""

    model_config = ConfigDict(extra="allow")
    status: str
    message: str | None = None


class GraphState(BaseModel):
    """Whether the road graph is loaded, from which file, and its size and provenance."""

    model_config = ConfigDict(extra="allow")
    status: str
    file: str
    message: str | None = None


class AnalysisState(BaseModel):
    """The Dask workers analyses run on (0 until the first job, unless started with the API)."""

    workers: int


class BasemapState(BaseModel):
    """The own basemap's layers: absent, loading (drawn after the graph), ok or error."""

    status: str


class Health(BaseModel):
    """``ok`` when the database and graph are ready, else ``degraded`` (with status 503)."""

    status: str
    database: DatabaseState
    graph: GraphState
    analysis: AnalysisState
    basemap: BasemapState
    #: what the service still lacks, in words ("no road network yet", "no stations yet")
    missing: list[str] = []
