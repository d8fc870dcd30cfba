"""What the database holds, layer by layer, and how much of it is generated (synthetic).

``yizhan data status`` lists it; ``yizhan data clear-sample`` removes every generated row —
stations, grids, grid members, workplaces — and never a real one, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.exc import IntegrityError

from geo.db import models as m
from geo.errors import ConflictError

#: the layers an operator fills, with the column that marks generated rows (None: all real)
LAYERS: tuple[tuple[type[m.Base], Any], ...] = (
    (m.ServiceRegion, None),
    (m.District, None),
    (m.Town, None),
    (m.Station, m.Station.synthetic),
    (m.UnplacedStation, None),  # imported with an address only: staff place them
    (m.Grid, m.Grid.synthetic),
    (m.GridMember, m.GridMember.synthetic),
    (m.Workplace, m.Workplace.synthetic),
    (m.Case, None),
)
#: generated rows are removed in this order (what refers to a row goes before it)
_CLEARED: tuple[Any, ...] = (m.Workplace, m.Station, m.GridMember, m.Grid)


@dataclass(frozen=True)
class Layer:
    """One layer's rows and how many of them are generated."""

    name: str
    rows: int
    synthetic: int


def holdings(conn: Connection) -> list[Layer]:
    """Every layer with its row count and its generated rows."""
    found = []
    for model, flag in LAYERS:
        table: Any = model.__table__
        rows = int(conn.scalar(select(func.count()).select_from(table)) or 0)
        synthetic = (
            int(conn.scalar(select(func.count()).select_from(table).where(flag)) or 0)
            if flag is not None
            else 0
        )
        found.append(Layer(str(table.name), rows, synthetic))
    return found


def clear_sample(conn: Connection) -> dict[str, int]:
    """Remove every generated row; how many of each layer. Real rows are never touched.

    Raises
    ------
    ConflictError
        When real records (cases, accounts) refer to generated ones: nothing is removed.
    """
    removed: dict[str, int] = {}
    try:
        with conn.begin_nested():
            for model in _CLEARED:
                flag = model.synthetic
                removed[str(model.__tablename__)] = conn.execute(delete(model).where(flag)).rowcount
            generated = m.Dataset.synthetic | (m.Dataset.name == "sample")
            conn.execute(delete(m.Dataset).where(generated))
    except IntegrityError as exc:
        msg = (
            "cases or accounts refer to generated grid members or grids: reassign them to the "
            "union's own members first (nothing was removed)"
        )
        raise ConflictError(msg) from exc
    return removed
