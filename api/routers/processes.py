"""OGC API - Processes (Part 1: Core, JSON): planners' analyses as jobs on Dask.

``POST /ogc/processes/{id}/execution`` records a job and sends it to the cluster; without
``Prefer: respond-async`` the answer waits for the result a little while (``job_wait_s``)
and otherwise — or when it takes longer — is ``201`` with the job's ``Location``. Jobs are
visible to their owner and to admins; ``DELETE /ogc/jobs/{id}`` dismisses (cancels) one.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Planner
from api.deps import AnalysesDep, ReadConn, public_base
from api.handover import outcome_answer
from api.schemas.common import errors
from api.schemas.ogc import Link
from api.schemas.processes import (
    JobList,
    ProcessDescription,
    ProcessList,
    ProcessSummary,
    StatusInfo,
    status_info,
)
from geo.analyses.base import Finished
from geo.analyses.processes import PROCESSES, Process, process
from geo.analyses.records import job_answer, jobs_of, own_job
from geo.vocabulary import JobStatus

router = APIRouter(prefix="/ogc", tags=["processes"])
JobId = Annotated[str, Path(max_length=36)]
ProcessId = Annotated[str, Path(max_length=60)]
CONTROL = ["sync-execute", "async-execute", "dismiss"]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Error statuses of OGC paths: a bad request is 400 there (not 422)."""
    return errors(400, *codes, common=(429, 503))


RESULT_NOT_READY = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready"


def _summary(base: str, p: Process) -> ProcessSummary:
    return ProcessSummary(
        id=p.id,
        title=p.title,
        description=p.description,
        version="1.0.0",
        jobControlOptions=CONTROL,
        outputTransmission=["value"],
        links=[Link(href=f"{base}/ogc/processes/{p.id}", rel="self", type="application/json")],
    )


@router.get(
    "/processes", summary="Analyses offered", response_model=ProcessList, responses=_errors()
)
def processes(request: Request) -> ProcessList:
    """Every process, with links to its description."""
    base = public_base(request)
    return ProcessList(
        processes=[_summary(base, p) for p in PROCESSES.values()],
        links=[Link(href=f"{base}/ogc/processes", rel="self", type="application/json")],
    )


@router.get(
    "/processes/{process_id}",
    summary="One analysis: its inputs and outputs",
    response_model=ProcessDescription,
    responses=_errors(404),
)
def describe(request: Request, process_id: ProcessId) -> ProcessDescription:
    """The process with the JSON schema of each input."""
    p = process(process_id)
    schema = p.inputs.model_json_schema()
    required = set(schema.get("required", []))
    inputs = {
        name: {
            "title": spec.get("title", name),
            "description": spec.get("description", ""),
            "schema": {k: v for k, v in spec.items() if k not in ("title", "description")},
            "minOccurs": 1 if name in required else 0,
            "maxOccurs": 1,
        }
        for name, spec in schema["properties"].items()
    }
    outputs = {
        "result": {
            "title": "result",
            "description": "a GeoJSON FeatureCollection with a summary",
            "schema": {"type": "object", "contentMediaType": "application/json"},
        }
    }
    summary = _summary(public_base(request), p)
    return ProcessDescription(**dict(summary), inputs=inputs, outputs=outputs)


@router.post(
    "/processes/{process_id}/execution",
    summary="Run an analysis (synchronously when quick, else as a job)",
    status_code=201,
    response_model=StatusInfo,
    responses={
        **_errors(401, 403, 404, 413),
        200: {"description": "The result, when it came in time", "model": dict[str, Any]},
    },
)
async def execute(
    request: Request,
    analyses: AnalysesDep,
    process_id: ProcessId,
    who: Planner,
    body: Annotated[dict[str, Any], Body(examples=[{"inputs": {"k": 3, "minutes": 10}}])],
    prefer: Annotated[str | None, Header(max_length=200)] = None,
) -> Any:
    """``{"inputs": {...}}`` as the process describes them."""
    wait = analyses.platform.settings.job_wait_s
    asynchronous = "respond-async" in (prefer or "")
    outcome = await run_in_threadpool(
        lambda: analyses.execute(
            process_id, body.get("inputs", {}), owner=who, wait_s=wait, respond_async=asynchronous
        )
    )
    if isinstance(outcome, Finished):
        return JSONResponse(outcome.result, status_code=200)
    return outcome_answer(request, outcome, status_code=201)


@router.get("/jobs", summary="Your jobs", response_model=JobList, responses=_errors(401, 403))
def jobs(request: Request, conn: ReadConn, who: Planner) -> JobList:
    """Newest first; admins see everyone's."""
    base = public_base(request)
    return JobList(
        jobs=[status_info(base, r) for r in jobs_of(conn, who)],
        links=[Link(href=f"{base}/ogc/jobs", rel="self", type="application/json")],
    )


@router.get(
    "/jobs/{job_id}",
    summary="Where a job stands",
    response_model=StatusInfo,
    responses=_errors(401, 403, 404),
)
def job(request: Request, conn: ReadConn, job_id: JobId, who: Planner) -> StatusInfo:
    """Status, progress and timings."""
    return status_info(public_base(request), own_job(conn, job_id, who))


@router.get(
    "/jobs/{job_id}/results",
    summary="A job's result",
    responses={**_errors(401, 403, 404), 200: {"description": "The result (JSON)"}},
)
def results(conn: ReadConn, job_id: JobId, who: Planner) -> Response:
    """The stored result; 404 (result not ready) until the job has succeeded."""
    row, result = job_answer(conn, job_id, who)
    if row["status"] != JobStatus.SUCCESSFUL:
        message = row["message"] or f"the job is {row['status']}"
        body = {"error": {"type": RESULT_NOT_READY, "message": message}}
        return JSONResponse(body, status_code=404)
    return JSONResponse(result)


@router.delete(
    "/jobs/{job_id}",
    summary="Dismiss (cancel) a job",
    response_model=StatusInfo,
    responses=_errors(401, 403, 404, 409),
)
async def dismiss(
    request: Request, conn: ReadConn, analyses: AnalysesDep, job_id: JobId, who: Planner
) -> StatusInfo:
    """Stops the work and keeps the record."""
    row = await run_in_threadpool(analyses.dismiss, conn, job_id, who)
    return status_info(public_base(request), row)
