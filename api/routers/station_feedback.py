"""Riders' word on stations: report a problem, confirm "open and fine"; planners read the counts.

No account is needed to report or confirm (the page's riders have none); a client may send a
few an hour (``YIZHAN_FEEDBACK_PER_HOUR``, by a keyed hash of its address: the address is
never stored).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import Planner
from api.deps import AppSettings, ReadConn, WriteConn, get_platform
from api.exports import frame_response
from api.routers.cases import public_view
from api.routers.stations import StationId
from api.schemas.common import errors
from api.schemas.stations import (
    FeedbackCounts,
    ReportAnswer,
    ReportPhoto,
    StationFeedbackRow,
    StationFeedbackTable,
    StationReport,
)
from geo.cases.assign import road_travel_times
from geo.settings import Settings
from geo.station_feedback import (
    ProblemReport,
    add_report_photo,
    confirm_open,
    feedback_table,
    report_problem,
)

router = APIRouter(prefix="/v1/stations", tags=["stations"])
#: the paths a client's feedback is throttled on
FEEDBACK_PATHS = r"^/v1/stations/\d+/(reports|confirmations|reports/\d+/photo)$"


def client_key(request: Request, settings: Settings) -> str:
    """A keyed hash of the sender's address: counts one sender once, never stores the address."""
    address = request.client.host if request.client else "?"
    key = settings.token_secret().encode()
    return hmac.new(key, b"feedback:" + address.encode(), hashlib.sha256).hexdigest()


@router.get(
    "/feedback",
    summary="Riders' reports and confirmations per station, last 7 days (planners)",
    response_model=StationFeedbackTable,
    responses={**errors(401, 403), 200: {"content": {"text/csv": {}}}},
)
def feedback(
    conn: ReadConn,
    _: Planner,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> StationFeedbackTable | Response:
    """Every station's problem reports and confirmations of the last 7 days, most reported first."""
    rows = [StationFeedbackRow(**r) for r in feedback_table(conn)]
    if format == "csv":
        table = pd.DataFrame([r.model_dump(mode="json") for r in rows])
        return frame_response(table, "station-feedback", "csv")
    return StationFeedbackTable(stations=rows)


@router.post(
    "/{station_id}/reports",
    status_code=201,
    summary="Report a problem at a station (riders, no account)",
    response_model=ReportAnswer,
    responses=errors(404, 429),
)
def report(
    request: Request,
    conn: WriteConn,
    station_id: StationId,
    body: StationReport,
    settings: AppSettings,
) -> ReportAnswer:
    """Record the report as a ``station_problem`` case for the station's area.

    A report of the same problem at the same station within a day joins its open case.
    """
    outcome = report_problem(
        conn,
        station_id,
        ProblemReport(body.problem, body.amenity, body.text),
        client=client_key(request, settings),
        amenities=settings.amenities,
        travel_times=road_travel_times(get_platform(request).routing),
        deadline_table=settings.case_deadlines,
    )
    return ReportAnswer(
        case=public_view(outcome.case),
        joined=outcome.joined,
        reports=outcome.reports,
        report_id=outcome.report_id,
        photo_key=outcome.photo_key,
    )


@router.put(
    "/{station_id}/reports/{report_id}/photo",
    status_code=201,
    summary="Add a photo to your report (riders: with the report's one-time key)",
    response_model=ReportPhoto,
    responses=errors(404, 413, 429),
)
async def report_photo(
    request: Request,
    conn: WriteConn,
    station_id: StationId,
    report_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    x_report_key: Annotated[str, Header(min_length=8, max_length=100)],
) -> ReportPhoto:
    """The body is the image (JPEG or PNG, at most 1.5 MB), checked by its content.

    It joins the report's case as an attachment the managers see; the key works once.
    """
    content = await request.body()
    case, stored = await run_in_threadpool(
        add_report_photo, conn, station_id, report_id, x_report_key, content
    )
    return ReportPhoto(
        case_reference=case["reference"], media_type=stored["media_type"], size=stored["size"]
    )


@router.post(
    "/{station_id}/confirmations",
    status_code=201,
    summary="Confirm a station is open and fine (riders, no account)",
    response_model=FeedbackCounts,
    responses=errors(404, 429),
)
def confirm(
    request: Request, conn: WriteConn, station_id: StationId, settings: AppSettings
) -> FeedbackCounts:
    """Count a rider's "open and fine"; the station's counts afterwards."""
    return FeedbackCounts(**confirm_open(conn, station_id, client=client_key(request, settings)))
