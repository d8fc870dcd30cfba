"""The analyses offered as processes (OGC API - Processes), by id."""

from __future__ import annotations

from geo.analyses.base import JobContext, Process, admit, checked_inputs
from geo.analyses.case_jobs import BATCH_ASSIGNMENT
from geo.analyses.coverage_jobs import CUSTOM_DEMAND, GAPS, ISOCHRONES, SCENARIO, SITE_SELECTION
from geo.analyses.province_job import PROVINCE
from geo.errors import NotFoundError

__all__ = ["PROCESSES", "JobContext", "Process", "admit", "checked_inputs", "process"]

PROCESSES: dict[str, Process] = {
    p.id: p
    for p in (
        SITE_SELECTION,
        SCENARIO,
        GAPS,
        CUSTOM_DEMAND,
        ISOCHRONES,
        PROVINCE,
        BATCH_ASSIGNMENT,
    )
}


def process(process_id: str) -> Process:
    """A process by id (404 naming the known ones)."""
    found = PROCESSES.get(process_id)
    if found is None:
        msg = f"process {process_id!r} not found; available: {', '.join(PROCESSES)}"
        raise NotFoundError(msg)
    return found
