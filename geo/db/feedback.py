"""Riders' word on stations: reports and confirmations, and the counts shown beside a station.

Every query of the station-feedback room lives here; the rules (what a report becomes, when
two reports are one case) live in :mod:`geo.station_feedback`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute

from geo.db import models as m
from geo.vocabulary import StationFeedbackKind

_f = m.StationFeedback
#: an id column a subquery is correlated to
IdColumn = ColumnElement[Any] | InstrumentedAttribute[int]
#: the window of the counts shown beside a station
WEEK = timedelta(days=7)


def _count_since(station: IdColumn, kind: str) -> ColumnElement[Any]:
    return (
        select(func.count())
        .where(_f.station_id == station, _f.kind == kind, _f.created_at > func.now() - WEEK)
        .scalar_subquery()
    )


def feedback_columns(
    station: IdColumn,
) -> list[ColumnElement[Any]]:
    """A station's problem reports and confirmations of the last 7 days, its last confirmation.

    Correlated to ``station`` (a station id column), for a station query's select list.
    """
    return [
        _count_since(station, StationFeedbackKind.REPORT).label("problem_reports_7d"),
        _count_since(station, StationFeedbackKind.CONFIRMATION).label("confirmations_7d"),
        select(func.max(_f.created_at))
        .where(_f.station_id == station, _f.kind == StationFeedbackKind.CONFIRMATION)
        .scalar_subquery()
        .label("last_confirmed_at"),
    ]


def feedback_counts(conn: Connection, station_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The counts of :func:`feedback_columns` for some stations, by id (all if empty).

    With ``checked_at``: when the station's record was last changed (its data last checked).
    """
    ids = select(m.Station.id.label("id"), m.Station.updated_at.label("checked_at"))
    if station_ids:
        ids = ids.where(m.Station.id.in_(list(station_ids)))
    sub = ids.subquery()
    rows = conn.execute(
        select(sub.c.id, sub.c.checked_at, *feedback_columns(sub.c.id)).order_by(sub.c.id)
    )
    return {int(r.id): {k: v for k, v in r._mapping.items() if k != "id"} for r in rows}


def insert_feedback(conn: Connection, values: dict[str, Any]) -> int:
    """Record a report or a confirmation; its id."""
    return int(conn.scalar(insert(_f).values(**values).returning(_f.id)) or 0)


def open_problem_case(
    conn: Connection,
    station_id: int,
    problem: str,
    since: datetime,
    open_statuses: Sequence[str],
) -> int | None:
    """The open case of an earlier report of ``problem`` at a station since ``since``, if any."""
    found = conn.scalar(
        select(_f.case_id)
        .join(m.Case, m.Case.id == _f.case_id)
        .where(
            and_(
                _f.station_id == station_id,
                _f.kind == StationFeedbackKind.REPORT,
                _f.problem == problem,
                _f.created_at >= since,
                m.Case.status.in_(list(open_statuses)),
            )
        )
        .order_by(_f.created_at)
        .limit(1)
    )
    return None if found is None else int(found)


def reports_of_case(conn: Connection, case_id: int) -> int:
    """How many reports a station-problem case gathers."""
    return int(
        conn.scalar(
            select(func.count()).where(
                _f.case_id == case_id, _f.kind == literal(StationFeedbackKind.REPORT)
            )
        )
        or 0
    )


def station_of_case(case_id: IdColumn) -> ColumnElement[Any]:
    """The station a case was reported at (correlated to a case id column), for a select list."""
    return select(_f.station_id).where(_f.case_id == case_id).limit(1).scalar_subquery()


def feedback_by_station(conn: Connection) -> list[dict[str, Any]]:
    """Every station's name, kind, town and counts, most reported, then most confirmed, first."""
    sub = (
        select(
            m.Station.id.label("station_id"),
            m.Station.name,
            m.Station.kind,
            m.Town.name.label("town_name"),
            *feedback_columns(m.Station.id),
        )
        .outerjoin(m.Town, m.Town.id == m.Station.town_id)
        .subquery()
    )
    rows = conn.execute(
        select(sub).order_by(
            sub.c.problem_reports_7d.desc(), sub.c.confirmations_7d.desc(), sub.c.station_id
        )
    )
    return [dict(r._mapping) for r in rows]


def spend_photo_key(conn: Connection, station_id: int, report_id: int, key_hash: str) -> int | None:
    """The case of a report whose photo key this is, the key spent at once; None otherwise."""
    found = conn.scalar(
        update(_f)
        .where(
            _f.id == report_id,
            _f.station_id == station_id,
            _f.kind == StationFeedbackKind.REPORT,
            _f.photo_key == key_hash,
        )
        .values(photo_key=None)
        .returning(_f.case_id)
    )
    return None if found is None else int(found)
