"""Writes of a file import: code look-ups and keyed upserts of stations, members and grids."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m

_TABLES: dict[str, Any] = {"stations": m.Station, "members": m.GridMember, "grids": m.Grid}


def codes(conn: Connection) -> tuple[dict[str, int], dict[str, int]]:
    """Town ids and grid ids by code."""
    towns = {str(c): int(i) for c, i in conn.execute(select(m.Town.code, m.Town.id))}
    grids = {str(c): int(i) for c, i in conn.execute(select(m.Grid.code, m.Grid.id))}
    return towns, grids


def upsert(conn: Connection, kind: str, key: str, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows`` of ``kind``, updating the row with the same ``key`` where there is one.

    Returns how many rows existed before (were updated). All or nothing (a savepoint).
    """
    table = _TABLES[kind].__table__
    keyed = [r[key] for r in rows if r.get(key)]
    existing = set()
    if keyed:
        existing = set(conn.scalars(select(table.c[key]).where(table.c[key].in_(keyed))))
    with conn.begin_nested():
        for r in rows:
            stmt = insert(table).values(**r)
            if r.get(key):
                stmt = stmt.on_conflict_do_update(
                    index_elements=[key], set_={c: stmt.excluded[c] for c in r if c != key}
                )
            conn.execute(stmt)
    return sum(1 for k in keyed if k in existing)
