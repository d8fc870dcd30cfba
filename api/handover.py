"""An analysis's outcome as an answer: its result when it ended in time, else the job.

Used by the ``/v1`` endpoints whose large requests become jobs (site selection, batch case
assignment): :meth:`geo.analyses.service.Analyses.execute` decides; this says it over HTTP,
with the job's ``Location`` when the answer cannot wait (``202``; ``201`` for OGC).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from api.deps import public_base
from api.schemas.processes import status_json
from geo.analyses.base import Finished, Pending


def outcome_answer(
    request: Request, outcome: Finished | Pending, *, status_code: int = 202
) -> dict[str, Any] | JSONResponse:
    """The result itself, or ``status_code`` with the job's status and ``Location``."""
    if isinstance(outcome, Finished):
        return outcome.result
    base = public_base(request)
    headers = {"Location": f"{base}/ogc/jobs/{outcome.job.get('id', '')}"}
    if status_code == 201:
        headers["Preference-Applied"] = "respond-async"
    return JSONResponse(status_json(base, outcome.job), status_code=status_code, headers=headers)
