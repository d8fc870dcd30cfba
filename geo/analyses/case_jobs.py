"""Batch case assignment as a process: every waiting case to a grid member, stored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from geo.analyses.base import JobContext, Process
from geo.cases.batch import assign_batch
from geo.vocabulary import Role

if TYPE_CHECKING:
    from geo.platform import Platform


class BatchInputs(BaseModel):
    """Which waiting cases to assign, and whether to store the assignment."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(5000, ge=1, le=20_000, description="waiting cases taken, oldest first")
    apply: bool = Field(True, description="store the assignment (false: only report it)")


def _assign(platform: Platform, inputs: BaseModel, job: JobContext) -> dict[str, Any]:
    assert isinstance(inputs, BatchInputs)
    engine = platform.require_routing()
    times = platform.member_times()
    job.progress(40)  # members' travel times known; the assignment follows
    with platform.db.begin() as conn:
        return assign_batch(
            conn, engine, times, actor=job.owner, limit=inputs.limit, apply=inputs.apply
        )


def _assign_bytes(inputs: BaseModel, demand_points: int) -> int:
    """A cost per case and member (about 2,000 members at most), a few copies of it."""
    assert isinstance(inputs, BatchInputs)
    return int(0.3 * 2**30) + inputs.limit * 2000 * 8 * 4


BATCH_ASSIGNMENT = Process(
    "case-assignment",
    "Batch case assignment 批量派单",
    "Every case waiting for a grid member assigned at once: least total travel time under "
    "members' capacities, town and skills, compared with a greedy baseline; stored with "
    "the audit trail (admins only).",
    BatchInputs,
    _assign,
    _assign_bytes,
    "limit",
    roles=frozenset({Role.ADMIN}),
)
