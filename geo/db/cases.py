"""Case rows: intake inserts, versioned updates, the append-only history, reads and counts.

Every query of the cases room lives here, in SQLAlchemy Core with bound parameters; the rules
(who may see what, which transitions are allowed, who is chosen) live in :mod:`geo.cases`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from geo.db import models as m
from geo.db.feedback import station_of_case
from geo.vocabulary import OPEN_CASE_STATUSES

#: who may see a case: everything (True), nothing (False), or cases whose column equals a value
Visibility = bool | tuple[str, int | None]

_c = m.Case.__table__.c


def _point(lon: float, lat: float) -> ColumnElement[Any]:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def _case_select() -> Select[Any]:
    g, t, d, gm = m.Grid, m.Town, m.District, m.GridMember
    cols = [c for c in m.Case.__table__.c if c.key != "geom"]
    return (
        select(
            *cols,
            func.ST_X(m.Case.geom).label("lon"),
            func.ST_Y(m.Case.geom).label("lat"),
            g.code.label("grid_code"),
            t.name.label("town_name"),
            d.name.label("district_name"),
            gm.name.label("member_name"),
            gm.code.label("member_code"),
            station_of_case(m.Case.id).label("station_id"),
            m.CaseIntake.employer,
            m.CaseIntake.address,
        )
        .select_from(m.Case)
        .outerjoin(m.CaseIntake, m.CaseIntake.case_id == m.Case.id)
        .outerjoin(g, g.id == m.Case.grid_id)
        .outerjoin(t, t.id == m.Case.town_id)
        .outerjoin(d, d.id == m.Case.district_id)
        .outerjoin(gm, gm.id == m.Case.member_id)
    )


def case_row(conn: Connection, case_id: int) -> dict[str, Any] | None:
    """A case with its grid, town, district and member names, or None."""
    row = conn.execute(_case_select().where(m.Case.id == case_id)).first()
    return None if row is None else dict(row._mapping)


def case_id_by_reference(conn: Connection, reference: str) -> int | None:
    """The id of the case with a public reference."""
    found = conn.scalar(select(m.Case.id).where(m.Case.reference == reference))
    return None if found is None else int(found)


def case_by_key(conn: Connection, key: str) -> tuple[int, str | None] | None:
    """``(id, request hash)`` of the case created with an idempotency key, or None."""
    row = conn.execute(
        select(m.Case.id, m.Case.request_hash).where(m.Case.idempotency_key == key)
    ).first()
    return None if row is None else (int(row.id), row.request_hash)


def insert_case(conn: Connection, values: dict[str, Any], lon: float, lat: float) -> int:
    """Insert a case located at a WGS-84 point; its id."""
    stmt = insert(m.Case).values(**values, geom=_point(lon, lat)).returning(m.Case.id)
    return int(conn.scalar(stmt) or 0)


def update_case(
    conn: Connection, case_id: int, values: dict[str, Any], *, version: int | None = None
) -> bool:
    """Change a case; with ``version``, only if it still has it (and bump it). Whether it did."""
    stmt = update(m.Case).where(m.Case.id == case_id)
    if version is not None:
        stmt = stmt.where(m.Case.version == version).values(
            version=m.Case.version + 1, updated_at=values.pop("updated_at", func.now())
        )
    return bool(conn.execute(stmt.values(**values)).rowcount)


def insert_event(
    conn: Connection,
    case_id: int,
    actor: str,
    action: str,
    *,
    frm: str | None = None,
    to: str | None = None,
    reason: str | None = None,
    data: Any = None,
) -> None:
    """Append to a case's history (the table refuses updates and deletes)."""
    conn.execute(
        insert(m.CaseEvent).values(
            case_id=case_id,
            actor=actor,
            action=action,
            from_status=frm,
            to_status=to,
            reason=reason,
            data=data,
        )
    )


def events(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """A case's history, oldest first."""
    e = m.CaseEvent
    rows = conn.execute(
        select(e.at, e.actor, e.action, e.from_status, e.to_status, e.reason, e.data)
        .where(e.case_id == case_id)
        .order_by(e.id)
    )
    return [dict(r._mapping) for r in rows]


def visible_where(rule: Visibility) -> ColumnElement[bool]:
    """The ``WHERE`` of the cases a visibility rule lets one see."""
    if isinstance(rule, bool):
        return true() if rule else false()
    column, value = rule
    return _c[column] == value if value is not None else false()


#: the orders a case list may take: newest first, oldest first, or the most urgent deadline
CASE_ORDERS: dict[str, tuple[Any, ...]] = {
    "newest": (m.Case.created_at.desc(), m.Case.id.desc()),
    "oldest": (m.Case.created_at, m.Case.id),
    "due": (m.Case.resolution_due, m.Case.id),
}


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a list asks for, declared once, from any way in to the ``WHERE``.

    The workbench's URL, the Excel export, Open311 and the overdue and due-soon lists each
    build one; :func:`select_cases` turns it into the one ``WHERE``.

    ``due_before`` keeps the open cases whose resolution falls due before it (overdue ones:
    ``due_before=now``); ``sort`` is one of :data:`CASE_ORDERS`.
    """

    statuses: Sequence[str] = ()
    categories: Sequence[str] = ()
    due_before: datetime | None = None
    references: Sequence[str] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    town_ids: Sequence[int] = ()
    grid_ids: Sequence[int] = ()
    member_ids: Sequence[int] = ()
    #: a search: the case number exactly, a reporter's phone exactly, or words in the
    #: description or the notes (substring: Chinese is written without spaces)
    q: str | None = None
    sort: str = "newest"
    limit: int = 100
    offset: int = 0


def _search(q: str) -> ColumnElement[bool]:
    """Cases the search ``q`` finds (see :attr:`CaseFilter.q`)."""
    words = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    noted = (
        select(m.CaseEvent.id)
        .where(
            m.CaseEvent.case_id == m.Case.id,
            m.CaseEvent.action == "note",
            m.CaseEvent.reason.ilike(words, escape="\\"),
        )
        .exists()
    )
    return or_(
        func.upper(m.Case.reference) == q.upper(),
        m.Case.reporter_contact == q,
        m.Case.description.ilike(words, escape="\\"),
        noted,
    )


def select_cases(
    conn: Connection, visible: Visibility, f: CaseFilter, *, open_statuses: Sequence[str]
) -> tuple[list[dict[str, Any]], int]:
    """Visible cases matching ``f`` in its order, and how many match in all."""
    where = [visible_where(visible)]
    for column, wanted in (
        (m.Case.town_id, f.town_ids),
        (m.Case.grid_id, f.grid_ids),
        (m.Case.member_id, f.member_ids),
        (m.Case.reference, f.references),
        (m.Case.status, f.statuses),
        (m.Case.category, f.categories),
    ):
        if wanted:
            where.append(column.in_(wanted))
    if f.created_from is not None:
        where.append(m.Case.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(m.Case.created_at <= f.created_to)
    if f.due_before is not None:
        where += [m.Case.status.in_(open_statuses), m.Case.resolution_due < f.due_before]
    if f.q:
        where.append(_search(f.q))
    total = conn.scalar(select(func.count()).select_from(m.Case).where(*where)) or 0
    q = _case_select().where(*where).order_by(*CASE_ORDERS[f.sort])
    rows = conn.execute(q.limit(f.limit).offset(f.offset))
    return [dict(r._mapping) for r in rows], int(total)


def due_without_notice(
    conn: Connection, now: datetime, horizon: datetime, *, kind: str
) -> list[dict[str, Any]]:
    """Open cases due between ``now`` and ``horizon`` with no notification ``kind`` yet."""
    c, n = m.Case, m.Notification
    told = select(n.id).where(n.case_id == c.id, n.kind == kind).exists()
    q = (
        select(c.id, c.reference, c.status, c.queue, c.town_id, c.district_id, c.member_id)
        .where(
            c.status.in_([str(s) for s in OPEN_CASE_STATUSES]),
            c.resolution_due > now,
            c.resolution_due <= horizon,
            ~told,
        )
        .order_by(c.id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def late_cases(
    conn: Connection, now: datetime, escalatable: Sequence[str], awaiting: Sequence[str]
) -> list[dict[str, Any]]:
    """Cases in ``escalatable`` past resolution, or in ``awaiting`` past first contact, locked.

    Each row has ``id``, ``version``, ``status`` and ``past_resolution`` (which deadline).
    """
    c = m.Case
    late_resolution = c.resolution_due < now
    late_contact = (
        c.first_contact_at.is_(None) & (c.first_contact_due < now) & c.status.in_(awaiting)
    )
    q = (
        select(c.id, c.version, c.status, late_resolution.label("past_resolution"))
        .where(c.status.in_(escalatable), late_resolution | late_contact)
        .order_by(c.id)
        .with_for_update(skip_locked=True)
    )
    return [
        {
            "id": int(r.id),
            "version": int(r.version),
            "status": r.status,
            "past_resolution": bool(r.past_resolution),
        }
        for r in conn.execute(q)
    ]


def grid_counts(
    conn: Connection, open_statuses: Sequence[str], *, min_count: int
) -> list[dict[str, Any]]:
    """Cases and open cases per grid with at least ``min_count`` cases, by grid code."""
    g, t, d, c = m.Grid, m.Town, m.District, m.Case
    cases = func.count(c.id)
    q = (
        select(
            g.code.label("grid"),
            t.name.label("town"),
            d.name.label("district"),
            cases.label("cases"),
            cases.filter(c.status.in_(open_statuses)).label("open_cases"),
        )
        .join(t, t.id == g.town_id)
        .join(d, d.id == t.district_id)
        .join(c, c.grid_id == g.id)
        .group_by(g.code, t.name, d.name)
        .having(cases >= min_count)
        .order_by(g.code)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def grid_at(conn: Connection, lon: float, lat: float) -> dict[str, Any] | None:
    """The grid covering a point: ``id``, ``code``, ``town_id``, ``district_id``."""
    g, t = m.Grid, m.Town
    q = (
        select(g.id, g.code, g.town_id, t.district_id)
        .join(t, t.id == g.town_id)
        .where(func.ST_Covers(g.geom, _point(lon, lat)))
        .order_by(g.id)
        .limit(1)
    )
    row = conn.execute(q).first()
    return None if row is None else dict(row._mapping)


def grids_near(
    conn: Connection, lon: float, lat: float, metres: float, *, other_than: int
) -> list[tuple[int, str]]:
    """Other grids within ``metres`` of a point, nearest first: ``(id, code)``."""
    here = func.geography(_point(lon, lat))
    geog = func.geography(m.Grid.geom)
    q = (
        select(m.Grid.id, m.Grid.code)
        .where(m.Grid.id != other_than, func.ST_DWithin(geog, here, metres))
        .order_by(func.ST_Distance(geog, here))
    )
    return [(int(r.id), str(r.code)) for r in conn.execute(q)]


def nearest_district(conn: Connection, lon: float, lat: float) -> int | None:
    """The district nearest to a point (the one covering it, if any)."""
    here = func.geography(_point(lon, lat))
    q = select(m.District.id).order_by(func.ST_Distance(func.geography(m.District.geom), here))
    found = conn.scalar(q.limit(1))
    return None if found is None else int(found)


def _members(open_statuses: Sequence[str]) -> Select[Any]:
    gm, c = m.GridMember, m.Case
    load = (
        select(func.count())
        .where(c.member_id == gm.id, c.status.in_(open_statuses))
        .scalar_subquery()
    )
    return select(
        gm.id,
        gm.code,
        gm.name,
        gm.grid_id,
        gm.town_id,
        gm.capacity,
        gm.on_leave,
        gm.skills,
        func.ST_X(gm.base).label("lon"),
        func.ST_Y(gm.base).label("lat"),
        load.label("open_cases"),
    ).order_by(gm.id)


def members(
    conn: Connection, open_statuses: Sequence[str], *, town_id: int | None = None
) -> list[dict[str, Any]]:
    """Grid members (of one town, or all) with base, capacity, skills and open case count."""
    q = _members(open_statuses)
    if town_id is not None:
        q = q.where(m.GridMember.town_id == town_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def roster(
    conn: Connection, open_statuses: Sequence[str], visible: Visibility
) -> list[dict[str, Any]]:
    """The grid members a caller may see (``visible`` as for cases), with their workload."""
    gm = m.GridMember
    q = _members(open_statuses)
    if visible is False:
        return []
    if visible is not True:
        column, value = visible
        if column == "member_id":
            q = q.where(gm.id == value)
        elif column == "town_id":
            q = q.where(gm.town_id == value)
        else:
            q = q.where(gm.town_id.in_(select(m.Town.id).where(m.Town.district_id == value)))
    return [dict(r._mapping) for r in conn.execute(q)]


def waiting_cases(conn: Connection, statuses: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """Cases without a member in ``statuses``, oldest first, with their location."""
    c = m.Case
    q = (
        select(
            c.id,
            c.reference,
            c.version,
            c.status,
            c.category,
            c.town_id,
            func.ST_X(c.geom).label("lon"),
            func.ST_Y(c.geom).label("lat"),
        )
        .where(c.member_id.is_(None), c.status.in_(statuses))
        .order_by(c.created_at, c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def insert_intake(conn: Connection, values: dict[str, Any]) -> None:
    """Keep what staff wrote down with a call (employer, address text, who took it)."""
    conn.execute(insert(m.CaseIntake).values(**values))


#: digits of a phone number that tell one caller from another (without country or area code)
PHONE_TAIL = 8


def similar_cases(
    conn: Connection,
    visible: Visibility,
    *,
    since: datetime,
    phone_digits: str | None,
    employer: str | None,
    lon: float | None,
    lat: float | None,
    radius_m: float,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Visible cases since ``since`` from the same phone, or about the same employer nearby.

    The phone is compared by its last 8 digits (a country or area code written or not); the
    employer case-insensitively, and only within ``radius_m`` of the point when there is one.
    """
    matches = []
    if phone_digits:
        digits = func.regexp_replace(func.coalesce(m.Case.reporter_contact, ""), "[^0-9]", "", "g")
        if len(phone_digits) >= PHONE_TAIL:
            matches.append(func.right(digits, PHONE_TAIL) == phone_digits[-PHONE_TAIL:])
        else:
            matches.append(digits == phone_digits)
    if employer:
        same = func.lower(func.btrim(m.CaseIntake.employer)) == employer.strip().lower()
        if lon is not None and lat is not None:
            near = func.ST_DWithin(
                func.Geography(m.Case.geom), func.Geography(_point(lon, lat)), radius_m
            )
            same = and_(same, near)
        matches.append(same)
    if not matches:
        return []
    q = (
        _case_select()
        .where(visible_where(visible), m.Case.created_at >= since, or_(*matches))
        .order_by(m.Case.created_at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


def case_outcomes(conn: Connection, case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each case's result (the reason of its last 办结) and its last callback's satisfaction."""
    if not case_ids:
        return {}
    e = m.CaseEvent
    last = (
        select(
            e.case_id,
            e.action,
            e.reason,
            e.data,
            func.row_number()
            .over(partition_by=(e.case_id, e.action), order_by=(e.at.desc(), e.id.desc()))
            .label("n"),
        )
        .where(
            e.case_id.in_(list(case_ids)),
            or_(and_(e.action == "status", e.to_status == "resolved"), e.action == "callback"),
        )
        .subquery()
    )
    out: dict[int, dict[str, Any]] = {}
    for r in conn.execute(select(last).where(last.c.n == 1)):
        got = out.setdefault(int(r.case_id), {"result": None, "satisfaction": None})
        if r.action == "callback":
            got["satisfaction"] = (r.data or {}).get("satisfaction")
        else:
            got["result"] = r.reason
    return out
