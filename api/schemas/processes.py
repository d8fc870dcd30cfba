"""OGC API - Processes (Part 1, JSON) documents: process lists and descriptions, job status."""

from __future__ import annotations

from typing import Any

from api.schemas.common import Answer, UtcTime
from api.schemas.ogc import Link
from geo.vocabulary import JobStatus


class ProcessSummary(Answer):
    """A process in the list."""

    id: str
    title: str
    description: str
    version: str
    jobControlOptions: list[str]  # noqa: N815 (OGC's names)
    outputTransmission: list[str]  # noqa: N815
    links: list[Link]


class ProcessList(Answer):
    """Every process offered."""

    processes: list[ProcessSummary]
    links: list[Link]


class ProcessDescription(ProcessSummary):
    """A process with its inputs and outputs (JSON schemas)."""

    inputs: dict[str, Any]
    outputs: dict[str, Any]


class StatusInfo(Answer):
    """Where a job stands."""

    jobID: str  # noqa: N815
    processID: str  # noqa: N815
    type: str = "process"
    status: str
    message: str | None = None
    created: UtcTime
    started: UtcTime | None = None
    finished: UtcTime | None = None
    progress: int
    links: list[Link]


class JobList(Answer):
    """Jobs, newest first."""

    jobs: list[StatusInfo]
    links: list[Link]


def status_info(base: str, row: dict[str, Any]) -> StatusInfo:
    """A job row as OGC's statusInfo, with links to itself and, once done, its results."""
    links = [Link(href=f"{base}/ogc/jobs/{row['id']}", rel="self", type="application/json")]
    if row["status"] == JobStatus.SUCCESSFUL:
        links.append(
            Link(
                href=f"{base}/ogc/jobs/{row['id']}/results",
                rel="http://www.opengis.net/def/rel/ogc/1.0/results",
                type="application/json",
            )
        )
    return StatusInfo(
        jobID=row["id"],
        processID=row["process"],
        type="process",
        status=row["status"],
        message=row["message"],
        created=row["created_at"],
        started=row["started_at"],
        finished=row["finished_at"],
        progress=row["progress"],
        links=links,
    )


def status_json(base: str, row: dict[str, Any]) -> dict[str, Any]:
    """:func:`status_info`, checked against :class:`StatusInfo` and ready for JSON."""
    return status_info(base, row).model_dump(mode="json")
