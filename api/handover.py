"""Handing a request over to a job: answered at once when it ends in time, else ``202``.

Used by the ``/v1`` endpoints whose large requests run as jobs on the Dask workers (site
selection, batch case assignment): the same job the OGC API - Processes would make, with
the job's ``Location`` when the answer cannot wait.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import public_base
from api.schemas.processes import status_json
from geo.db import jobs as db
from geo.platform import Platform
from geo.vocabulary import JobStatus


async def hand_over(
    request: Request,
    platform: Platform,
    process_id: str,
    inputs: dict[str, Any],
    *,
    owner: str,
    demand: int,
    wait_s: float,
) -> dict[str, Any] | JSONResponse:
    """Submit the job; its result if it succeeds within ``wait_s``, else ``202`` + its link."""
    jobs = platform.jobs
    job_id = await run_in_threadpool(jobs.submit, process_id, inputs, owner=owner, demand=demand)
    if wait_s > 0:
        await run_in_threadpool(jobs.wait, job_id, wait_s)
    with platform.db.connect() as conn:
        row = db.job_row(conn, job_id) or {}
        if row.get("status") == JobStatus.SUCCESSFUL:
            result: dict[str, Any] = db.job_result(conn, job_id)
            return result
    base = public_base(request)
    headers = {"Location": f"{base}/ogc/jobs/{job_id}"}
    return JSONResponse(status_json(base, row), status_code=202, headers=headers)
