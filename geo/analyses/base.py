"""What every job has: a process (inputs, a size estimate, how it runs), a context, admission.

Each process validates its inputs (a pydantic model, whose JSON schema the OGC API publishes),
says before any work how much memory it will need (so that what cannot fit is refused with
the knob to lower), and runs on a Dask worker against the worker's own platform.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from geo.errors import ValidationError
from geo.vocabulary import Role

if TYPE_CHECKING:
    from geo.platform import Platform
    from geo.settings import Settings

#: who may run the planners' analyses
PLANNERS = frozenset({Role.ADMIN, Role.MANAGER, Role.PLANNER})


@dataclass(frozen=True)
class JobContext:
    """Who asked for a job, and where it tells its progress (0-100, kept in its row)."""

    owner: str
    progress: Callable[[int], None]


@dataclass(frozen=True)
class Finished:
    """An analysis that ended in time: its answer."""

    result: dict[str, Any]


@dataclass(frozen=True)
class Pending:
    """An analysis that became a job still under way: its row (status, progress...)."""

    job: dict[str, Any]


@dataclass(frozen=True)
class Process:
    """An analysis offered as a job."""

    id: str
    title: str
    description: str
    inputs: type[BaseModel]
    run: Callable[[Platform, BaseModel, JobContext], dict[str, Any]]
    memory: Callable[[BaseModel, int], int]
    #: the input to lower when a request is too large
    knob: str
    #: checks of the inputs against the platform's data (before a job is recorded)
    check: Callable[[BaseModel, Settings], None] | None = None
    #: the roles that may run it
    roles: frozenset[Role] = PLANNERS
    #: its size grows with the demand layer it reads (``inputs.demand``, else population)
    counts_demand: bool = False


def checked_inputs(proc: Process, raw: object) -> BaseModel:
    """``raw`` validated against the process's inputs, before any work.

    Anything else than an object, an unknown name, a wrong type or a value out of range is
    refused with a :class:`~geo.errors.ValidationError` naming the first offending field.
    """
    if not isinstance(raw, dict):
        msg = "inputs: must be an object of the process's inputs"
        raise ValidationError(msg)
    try:
        return proc.inputs.model_validate(raw)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("inputs", *first.get("loc", ())))
        msg = f"{where}: {first.get('msg', 'not valid')}"
        raise ValidationError(msg) from None


def admit(proc: Process, inputs: BaseModel, demand: int, limit: int) -> int:
    """The bytes a run will need; refused (naming the input to lower) beyond ``limit``."""
    need = proc.memory(inputs, demand)
    if need > limit:
        msg = (
            f"this analysis would need about {need / 2**30:.1f} GiB, more than the "
            f"{limit / 2**30:.1f} GiB a worker has; lower {proc.knob}"
        )
        raise ValidationError(msg)
    return need
