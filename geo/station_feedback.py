"""Riders' word on a station: a problem report becomes a case; "open and fine" is counted.

From a station's card a rider, with no account, reports that the station was closed when it
should be open, that an amenity does not work, that it moved, or something else. The report
becomes a case of the category ``station_problem``, placed at the station (so the managers of
its grid, town or district see it on their desk) — unless the same problem was reported at the
same station within a day and its case is still open: then the report joins that case (its
history says so) instead of making another. A confirmation is only counted; the counts of the
last 7 days and the last confirmation are shown beside the station.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from geo.cases.access import Scope, get_case
from geo.cases.assign import TravelTimes
from geo.cases.followup import add_attachment, media_type_of
from geo.cases.intake import CaseInput, submit_case
from geo.cases.lifecycle import OPEN_STATUSES
from geo.db import cases as case_db
from geo.db import feedback as db
from geo.errors import NotFoundError, ValidationError
from geo.stations import get_station
from geo.vocabulary import (
    PHOTO_TYPES,
    Amenity,
    CaseCategory,
    Channel,
    StationFeedbackKind,
    StationProblem,
)

#: reports of one problem at one station within this time share one open case
SAME_PROBLEM_WINDOW = timedelta(days=1)
#: the longest text a report may carry
MAX_TEXT = 1000
#: the largest photo a report may bring
PHOTO_MAX_BYTES = 1_500_000


@dataclass(frozen=True)
class ProblemReport:
    """What a rider reports about a station."""

    problem: str
    amenity: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class ReportOutcome:
    """A recorded report: its case, whether it joined an earlier one, the case's report count.

    ``report_id`` and ``photo_key`` (shown once) let the reporter add one photo.
    """

    case: dict[str, Any]
    joined: bool
    reports: int
    report_id: int = 0
    photo_key: str = ""


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _checked(report: ProblemReport, amenities: Sequence[str]) -> ProblemReport:
    if report.problem not in StationProblem.codes():
        msg = f"problem must be one of {', '.join(StationProblem.codes())}"
        raise ValidationError(msg)
    if report.amenity is not None and report.amenity not in amenities:
        msg = f"unknown amenity {report.amenity!r}; choose one of {', '.join(amenities)}"
        raise ValidationError(msg)
    text = (report.text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT:
        msg = f"text is at most {MAX_TEXT} characters"
        raise ValidationError(msg)
    return ProblemReport(report.problem, report.amenity, text)


def _description(station: Mapping[str, Any], report: ProblemReport) -> str:
    """The case's description, in the managers' language (Chinese) with the rider's words."""
    problem = StationProblem(report.problem)
    parts = [f"驿站问题：{station['name']}（编号 {station['id']}）— {problem.zh}"]
    if report.amenity:
        found = Amenity.of(report.amenity)
        parts.append(f"设施：{found.zh if found else report.amenity}")
    if report.text:
        parts.append(f"骑手留言：{report.text}")
    return "\n".join(parts)


def report_problem(
    conn: Connection,
    station_id: int,
    report: ProblemReport,
    *,
    client: str,
    amenities: Sequence[str],
    travel_times: TravelTimes,
    deadline_table: Mapping[str, tuple[float, float]] | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """Record a rider's report of a station problem as a case (or as part of an open one).

    Parameters
    ----------
    conn
        A connection inside the caller's transaction (the report and its case are one write).
    station_id
        The station reported (404 when there is none).
    report
        The problem, the amenity it concerns and the rider's words (checked here).
    client
        A keyed hash of the sender's address (never the address).
    amenities
        The amenity codes there are.
    travel_times
        Road travel times, for choosing the member who takes the case.
    deadline_table, now
        The deadlines by category, and the time of the report (tests).
    """
    report = _checked(report, amenities)
    station = get_station(conn, station_id)
    now = now or datetime.now(UTC)
    case_id = db.open_problem_case(
        conn, station_id, report.problem, now - SAME_PROBLEM_WINDOW, OPEN_STATUSES
    )
    joined = case_id is not None
    if case_id is None:
        data = CaseInput(
            CaseCategory.STATION_PROBLEM,
            float(station["lon"]),
            float(station["lat"]),
            _description(station, report),
            Channel.WEB,
        )
        case, _ = submit_case(
            conn,
            data,
            actor="rider",
            categories=(CaseCategory.STATION_PROBLEM,),
            travel_times=travel_times,
            deadline_table=deadline_table,
            now=now,
        )
        case_id = int(case["id"])
    else:
        event = {"problem": report.problem, "amenity": report.amenity, "text": report.text}
        case_db.insert_event(conn, case_id, "rider", "reported_again", data=event)
    photo_key = secrets.token_urlsafe(24)
    report_id = db.insert_feedback(
        conn,
        {
            "photo_key": _key_hash(photo_key),
            "station_id": station_id,
            "kind": StationFeedbackKind.REPORT,
            "problem": report.problem,
            "amenity": report.amenity,
            "text": report.text,
            "case_id": case_id,
            "client": client,
            "created_at": now,
        },
    )
    case = get_case(conn, case_id)
    return ReportOutcome(case, joined, db.reports_of_case(conn, case_id), report_id, photo_key)


def add_report_photo(
    conn: Connection, station_id: int, report_id: int, key: str, content: bytes
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Add the reporter's photo to their report's case, once, with the key the report gave.

    Returns the case and the stored attachment.

    Raises
    ------
    NotFoundError
        No such report at this station, or the key is wrong or already used.
    ValidationError
        Not a photo (read from its content) or too large.
    """
    photo = f"a report's photo is a JPEG or PNG image of at most {PHOTO_MAX_BYTES // 1000} KB"
    if not content or len(content) > PHOTO_MAX_BYTES:
        raise ValidationError(photo)
    try:
        media = media_type_of(content)
    except ValidationError:
        raise ValidationError(photo) from None
    if media not in PHOTO_TYPES:
        raise ValidationError(photo)
    case_id = db.spend_photo_key(conn, station_id, report_id, _key_hash(key))
    if case_id is None:
        msg = "no report of this station takes a photo with this key (it is used once)"
        raise NotFoundError(msg)
    stored = add_attachment(
        conn, case_id, f"report-{report_id}", content, actor="rider", scope=Scope(everything=True)
    )
    return get_case(conn, case_id), stored


def confirm_open(conn: Connection, station_id: int, *, client: str) -> dict[str, Any]:
    """Count a rider's "open and fine" at a station; the station's counts afterwards."""
    get_station(conn, station_id)  # 404 when there is none
    db.insert_feedback(
        conn,
        {"station_id": station_id, "kind": StationFeedbackKind.CONFIRMATION, "client": client},
    )
    counts = db.feedback_counts(conn, [station_id])[station_id]
    counts.pop("checked_at", None)
    return counts


def station_counts(conn: Connection, station_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Reports and confirmations of the last 7 days and the last confirmation, by station."""
    return db.feedback_counts(conn, station_ids)


def feedback_table(conn: Connection) -> list[dict[str, Any]]:
    """Every station with its counts of the last 7 days, most reported first (for planners)."""
    return db.feedback_by_station(conn)
