"""Writes of a file import: code look-ups, keyed upserts, stations waiting for a position.

Stations, members and grids are upserted by their key; a station imported with an address
but no coordinates waits in ``unplaced_stations`` until staff place it on the map.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from geo.db import models as m

_TABLES: dict[str, Any] = {
    "stations": m.Station,
    "members": m.GridMember,
    "grids": m.Grid,
    "workplaces": m.Workplace,
}


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
    if table is m.Station.__table__ and keyed:  # placed now: no longer waiting for a position
        u: Any = m.UnplacedStation.__table__
        conn.execute(delete(u).where(u.c.external_id.in_(keyed)))
    if "town_id" in table.c and "geom" in table.c:  # counted in the town they stand in
        town = (
            select(m.Town.id)
            .where(func.ST_Covers(m.Town.area, table.c.geom))
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(update(table).where(table.c.town_id.is_(None)).values(town_id=town))
    return sum(1 for k in keyed if k in existing)


def keep_unplaced(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Keep station rows that have no position yet (updated by ``external_id`` when given)."""
    table: Any = m.UnplacedStation.__table__
    with conn.begin_nested():
        for r in rows:
            stmt = insert(table).values(**r)
            if r.get("external_id"):
                stmt = stmt.on_conflict_do_update(
                    index_elements=["external_id"],
                    set_={c: stmt.excluded[c] for c in r if c != "external_id"},
                )
            conn.execute(stmt)


def unplaced(conn: Connection) -> list[dict[str, Any]]:
    """The stations waiting for a position, oldest first."""
    u = m.UnplacedStation
    rows = conn.execute(select(u.__table__).order_by(u.created_at, u.id))
    return [dict(r._mapping) for r in rows]


def take_unplaced(conn: Connection, unplaced_id: int) -> dict[str, Any] | None:
    """Remove one waiting station and return what it held (None: there is none)."""
    u: Any = m.UnplacedStation.__table__
    row = conn.execute(delete(u).where(u.c.id == unplaced_id).returning(*u.c)).first()
    return dict(row._mapping) if row is not None else None
