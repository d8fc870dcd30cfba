"""How to tell that a table's rows changed: a cheap fingerprint any writer moves.

Every row a transaction inserts or updates gets a new ``xmin`` (PostgreSQL's row version), so
the row count with the sum of ``xmin`` changes whenever rows are added, removed or changed —
through the API, ``yizhan import`` or plain SQL, by any process on any host.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnClause, Connection, func, literal_column, select

from geo.db import models as m

_TABLES = {t.name: t for t in m.Base.metadata.sorted_tables}
_XMIN: ColumnClause[int] = literal_column("xmin::text::bigint")


def data_version(conn: Connection, tables: Sequence[str]) -> str:
    """A fingerprint of the rows of ``tables`` (known table names only)."""
    parts = []
    for name in tables:
        table = _TABLES[name]
        count, total = conn.execute(
            select(func.count(), func.coalesce(func.sum(_XMIN), 0)).select_from(table)
        ).one()
        parts.append(f"{name}:{count}:{total}")
    return ";".join(parts)
