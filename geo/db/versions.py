"""How to tell that a table's rows changed: a cheap fingerprint any writer moves.

Every row a transaction inserts or updates gets a new ``xmin`` (PostgreSQL's row version), so
the row count with the sum of ``xmin`` changes whenever rows are added, removed or changed —
through the API, ``yizhan import`` or plain SQL, by any process on any host.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnClause, Connection, Select, func, literal_column, select

from geo.db import models as m

_TABLES = {t.name: t for t in m.Base.metadata.sorted_tables}
_XMIN: ColumnClause[int] = literal_column("xmin::text::bigint")


def data_version(conn: Connection, tables: Sequence[str]) -> str:
    """A fingerprint of the rows of ``tables`` (known table names only), in one statement."""
    names = tuple(tables)
    values = conn.execute(_fingerprints(names)).one()
    return ";".join(f"{name}:{value}" for name, value in zip(names, values, strict=True))


@lru_cache(maxsize=64)
def _fingerprints(names: tuple[str, ...]) -> Select[Any]:
    """``rows:sum of xmin`` of each table, one round trip for all (a page asks per request)."""
    columns = [
        select(func.concat(func.count(), ":", func.coalesce(func.sum(_XMIN), 0)))
        .select_from(_TABLES[name])
        .scalar_subquery()
        for name in names
    ]
    return select(*columns)
