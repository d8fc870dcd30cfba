"""Cases: intake, idempotency, placement and member choice, lifecycle, concurrency, deadlines."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text

from geo.cases.assign import straight_line_times
from geo.cases.intake import CaseInput, submit_case
from geo.cases.lifecycle import AWAITING_ASSIGNMENT
from tests.api.conftest import database_of_its_own

own, client, engine = database_of_its_own("cases", job_wait_s=180)

POINT = {"lon": 113.0801, "lat": 22.5801}
CASE = {
    "category": "mediation",
    "description": "工资拖欠三个月，请求调解",
    "reporter_name": "李先生",
    "reporter_contact": "13800000000",
    **POINT,
}


def _grid_of(engine: Engine, lon: float, lat: float) -> tuple[str, int]:
    with engine.connect() as c:
        row = c.execute(
            text(
                "SELECT g.code, m.id FROM grids g JOIN grid_members m ON m.grid_id = g.id "
                "WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(:x, :y), 4326))"
            ),
            {"x": lon, "y": lat},
        ).first()
    return row.code, row.id


def test_intake_places_and_assigns_and_keeps_reporter_private(
    client: TestClient, engine, staff_headers
) -> None:
    r = client.post("/v1/cases", json=CASE)
    assert r.status_code == 201, r.text
    public = r.json()
    assert public["reference"].startswith("JM-")
    assert public["status"] == "assigned"
    assert "reporter_contact" not in public
    assert "location" not in public
    grid, member = _grid_of(engine, POINT["lon"], POINT["lat"])
    assert public["grid_code"] == grid
    full = client.get(f"/v1/cases/{public['id']}", headers=staff_headers).json()
    assert full["reporter_contact"] == "13800000000"
    assert full["member"]["id"] == member
    assert full["assignment"]["rule"] == "grid member"
    due = datetime.fromisoformat(full["resolution_due"]) - datetime.fromisoformat(
        full["created_at"]
    )
    assert due == timedelta(days=30)
    events = client.get(f"/v1/cases/{public['id']}/events", headers=staff_headers).json()["events"]
    assert [e["action"] for e in events] == ["submitted", "assigned"]


def test_idempotency_key(client: TestClient) -> None:
    headers = {"Idempotency-Key": "phone-123-attempt"}
    first = client.post("/v1/cases", json=CASE, headers=headers)
    again = client.post("/v1/cases", json=CASE, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = client.post("/v1/cases", json={**CASE, "description": "别的事"}, headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["error"]["message"]


def test_concurrent_retries_create_one_case(client: TestClient, engine) -> None:
    codes: list[int] = []

    def send() -> None:
        codes.append(
            client.post("/v1/cases", json=CASE, headers={"Idempotency-Key": "race"}).status_code
        )

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [200, 200, 200, 201]
    with engine.connect() as c:
        assert c.scalar(text("SELECT count(*) FROM cases WHERE idempotency_key = 'race'")) == 1


def test_member_on_leave_gives_the_best_alternative_in_the_team(
    client: TestClient, engine, staff_headers
) -> None:
    _grid, member = _grid_of(engine, POINT["lon"], POINT["lat"])
    with engine.begin() as c:
        c.execute(text("UPDATE grid_members SET on_leave = true WHERE id = :id"), {"id": member})
    try:
        case = client.post("/v1/cases", json=CASE).json()
        full = client.get(f"/v1/cases/{case['id']}", headers=staff_headers).json()
    finally:
        with engine.begin() as c:
            c.execute(
                text("UPDATE grid_members SET on_leave = false WHERE id = :id"), {"id": member}
            )
    assert full["member"]["id"] != member
    explain = full["assignment"]
    assert explain["rule"] == "alternative"
    assert "on leave" in explain["reason"]
    chosen = next(c for c in explain["candidates"] if c["member_id"] == full["member"]["id"])
    assert chosen["eligible"]
    assert chosen["travel_time_s"] is not None
    best = min(c["score_s"] for c in explain["candidates"] if c["eligible"])
    assert chosen["score_s"] == best
    assert explain["travel_time_method"].startswith("road")


@pytest.mark.parametrize(("category", "fragment"), [("spaceship", "unknown category")])
def test_bad_case_input(client: TestClient, category: str, fragment: str) -> None:
    r = client.post("/v1/cases", json={**CASE, "category": category})
    assert r.status_code == 422
    assert fragment in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "change",
    [{"lat": "nan"}, {"lon": 200}, {"description": ""}, {"lon": 116.4, "lat": 39.9}, {"extra": 1}],
)
def test_bad_case_location_or_fields(client: TestClient, engine, change) -> None:
    before = _count_cases(engine)
    r = client.post("/v1/cases", json={**CASE, **change})
    assert r.status_code == 422, r.text
    assert _count_cases(engine) == before  # nothing written


def _count_cases(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.scalar(text("SELECT count(*) FROM cases")) or 0)


def test_point_near_a_grid_boundary_names_both_grids(
    client: TestClient, engine, staff_headers
) -> None:
    with engine.connect() as c:
        row = c.execute(
            text("""
            SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (
              SELECT ST_LineInterpolatePoint(
                       ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)), 0.5) AS p
              FROM grids a JOIN grids b ON a.id < b.id AND ST_Touches(a.geom, b.geom)
              WHERE GeometryType(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom)))
                    = 'LINESTRING'
              LIMIT 1) q""")
        ).first()
    case = client.post("/v1/cases", json={**CASE, "lon": row.x, "lat": row.y}).json()
    full = client.get(f"/v1/cases/{case['id']}", headers=staff_headers).json()
    assert len(full["nearby_grid_ids"]) >= 1
    assert full["assignment"]["nearby_grids"]


def test_lifecycle_and_illegal_transitions(client: TestClient, staff_headers) -> None:
    case = client.post("/v1/cases", json=CASE).json()
    cid, version = case["id"], 2
    for target in ("accepted", "in_progress", "resolved", "closed"):
        if target == "closed":  # closing needs the callback to the reporter (回访) first
            early = client.post(
                f"/v1/cases/{cid}/transitions",
                json={"to": target, "version": version},
                headers=staff_headers,
            )
            assert early.status_code == 409
            assert "回访" in early.json()["error"]["message"]
            done = client.post(
                f"/v1/cases/{cid}/callback",
                json={"reached": True, "satisfaction": 5},
                headers=staff_headers,
            )
            assert done.status_code == 201, done.text
        result = {"reason": "已协调企业补发工资"} if target == "resolved" else {}
        r = client.post(
            f"/v1/cases/{cid}/transitions",
            json={"to": target, "version": version, **result},
            headers=staff_headers,
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]
    bad = client.post(
        f"/v1/cases/{cid}/transitions",
        json={"to": "in_progress", "version": version},
        headers=staff_headers,
    )
    assert bad.status_code == 409
    assert "allowed next: reopened" in bad.json()["error"]["message"]
    full = client.get(f"/v1/cases/{cid}", headers=staff_headers).json()
    assert full["first_contact_at"]
    assert full["resolved_at"]
    assert full["closed_at"]
    events = client.get(f"/v1/cases/{cid}/events", headers=staff_headers).json()["events"]
    assert [e["to_status"] for e in events if e["action"] == "status"] == [
        "accepted",
        "in_progress",
        "resolved",
        "closed",
    ]


def test_two_managers_at_once_one_wins(client: TestClient, staff_headers, engine) -> None:
    case = client.post("/v1/cases", json=CASE).json()
    results: list[int] = []

    def change(target: str) -> None:
        r = client.post(
            f"/v1/cases/{case['id']}/transitions",
            json={"to": target, "version": 2},
            headers=staff_headers,
        )
        results.append(r.status_code)

    threads = [threading.Thread(target=change, args=(t,)) for t in ("accepted", "escalated")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409]
    with engine.connect() as c:
        assert c.scalar(text("SELECT version FROM cases WHERE id = :i"), {"i": case["id"]}) == 3
        assert (
            c.scalar(
                text("SELECT count(*) FROM case_events WHERE case_id = :i AND action = 'status'"),
                {"i": case["id"]},
            )
            == 1
        )


def test_history_is_append_only(client: TestClient, engine) -> None:
    client.post("/v1/cases", json=CASE)
    with pytest.raises(Exception, match="append-only"), engine.begin() as c:
        c.execute(text("UPDATE case_events SET reason = 'rewritten'"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as c:
        c.execute(text("DELETE FROM case_events"))


def test_overdue_cases_are_listed_and_escalated(
    client: TestClient, engine, staff_headers, settings
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    with engine.begin() as conn:
        old, _ = submit_case(
            conn,
            CaseInput("other", POINT["lon"], POINT["lat"], "旧案"),
            actor="test",
            categories=settings.case_categories,
            travel_times=straight_line_times(15),
            now=long_ago,
        )
    new = client.post("/v1/cases", json=CASE).json()
    overdue = client.get("/v1/cases/overdue", headers=staff_headers).json()
    assert [c["id"] for c in overdue["cases"]] == [old["id"]]
    soon = client.get("/v1/cases/due-soon", params={"hours": 24 * 31}, headers=staff_headers).json()
    assert {old["id"], new["id"]} <= {c["id"] for c in soon["cases"]}
    cutoff = datetime.now(UTC) + timedelta(days=31)
    assert all(datetime.fromisoformat(c["resolution_due"]) < cutoff for c in soon["cases"])
    week = client.get("/v1/cases/due-soon", params={"hours": 24 * 7}, headers=staff_headers).json()
    assert [c["id"] for c in week["cases"]] == [old["id"]]  # the new one is due in 30 days
    done = client.post("/v1/cases/escalate-overdue", headers=staff_headers).json()["escalated"]
    assert done == [old["id"]]
    full = client.get(f"/v1/cases/{old['id']}", headers=staff_headers).json()
    assert full["status"] == "escalated"
    assert full["escalated"] is True
    assert full["queue"] == "town"  # 督办: the town's managers take it over from the grid
    last = client.get(f"/v1/cases/{old['id']}/events", headers=staff_headers).json()["events"][-1]
    assert last["to_status"] == "escalated"
    assert "deadline passed" in last["reason"]
    assert last["data"]["queue"] == "town"


def test_public_stats_suppress_small_counts(client: TestClient) -> None:
    first = client.post("/v1/cases", json={**CASE, "description": "case 0"}).json()
    before = {g["grid"]: g["cases"] for g in client.get("/v1/cases/stats").json()["grids"]}
    for i in range(1, 7):
        client.post("/v1/cases", json={**CASE, "description": f"case {i}"})
    client.post("/v1/cases", json={**CASE, "lon": 113.05, "lat": 22.62, "description": "alone"})
    alone = client.post(
        "/v1/cases", json={**CASE, "lon": 113.05, "lat": 22.62, "description": "alone again"}
    ).json()
    grids = client.get("/v1/cases/stats").json()["grids"]
    counts = {g["grid"]: g["cases"] for g in grids}
    assert counts[first["grid_code"]] == before.get(first["grid_code"], 1) + 6
    # a grid with fewer than five cases is not listed at all: nothing tells where one case is
    assert alone["grid_code"] not in {g["grid"] for g in grids}
    assert all(g["cases"] >= 5 for g in grids)
    assert all("lon" not in g and "member" not in g for g in grids)


@pytest.mark.slow
def test_batch_assignment_beats_or_equals_greedy(
    client: TestClient, engine, staff_headers, settings
) -> None:
    with engine.begin() as conn:
        ids = []
        for i in range(12):
            case, _ = submit_case(
                conn,
                CaseInput("wage_arrears", 113.06 + 0.004 * i, 22.60, f"b{i}"),
                actor="test",
                categories=settings.case_categories,
                travel_times=straight_line_times(15),
            )
            ids.append(case["id"])
        conn.execute(  # as if nobody had been free: all twelve wait in the town queue
            text(
                "UPDATE cases SET status = 'submitted', member_id = NULL, queue = 'town' "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": ids},
        )
        conn.execute(  # nobody was told of an assignment that did not happen
            text("DELETE FROM notifications WHERE case_id = ANY(:ids)"), {"ids": ids}
        )
        waiting = _waiting(conn)
        assigned_before = _assigned(conn)
    preview = client.post("/v1/cases/assign-batch?apply=false", headers=staff_headers)
    assert preview.status_code == 200, preview.text
    proposed = preview.json()
    assert proposed["applied"] is False
    assert len(proposed["proposals"]) == proposed["assigned"] > 0
    assert {p["case_id"] for p in proposed["proposals"]} <= set(ids) | set(range(1, max(ids) + 1))
    with engine.connect() as c:
        assert _waiting(c) == waiting  # a preview stores nothing
    r = client.post("/v1/cases/assign-batch", headers=staff_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["proposals"] == proposed["proposals"]  # applied as previewed
    with engine.connect() as c:
        told = c.scalar(
            text(
                "SELECT count(*) FROM notifications WHERE kind = 'assigned' AND case_id = ANY(:i)"
            ),
            {"i": [p["case_id"] for p in body["proposals"]]},
        )
    assert told == body["assigned"]
    assert body["cases"] == waiting >= 12
    assert body["assigned"] + body["unassigned"] == waiting
    assert body["capacity_respected"] is True
    assert body["total_travel_time_s"] <= body["baseline"]["total_travel_time_s"] + 1e-6 * 12
    with engine.connect() as c:
        assert _assigned(c) == assigned_before + body["assigned"]


def _waiting(conn: Connection) -> int:
    sql = "SELECT count(*) FROM cases WHERE member_id IS NULL AND status = ANY(:waiting)"
    return int(conn.scalar(text(sql), {"waiting": list(AWAITING_ASSIGNMENT)}) or 0)


def _assigned(conn: Connection) -> int:
    return int(conn.scalar(text("SELECT count(*) FROM cases WHERE status = 'assigned'")) or 0)


def test_case_list_filters_as_the_workbench_needs(
    client: TestClient, staff_headers, engine: Engine
) -> None:
    for i in range(3):
        r = client.post("/v1/cases", json={**CASE, "description": f"filters {i}"})
        assert r.status_code == 201, r.text
    everything = client.get("/v1/cases", params={"limit": 500}, headers=staff_headers).json()
    opened = client.get(
        "/v1/cases", params={"status": "open", "limit": 500}, headers=staff_headers
    ).json()
    open_codes = {"submitted", "assigned", "accepted", "in_progress", "escalated", "reopened"}
    assert opened["total"] == sum(c["status"] in open_codes for c in everything["cases"]) > 0
    assert {c["status"] for c in opened["cases"]} <= open_codes
    member = opened["cases"][0]["member"]["id"]
    mine = client.get(
        "/v1/cases", params={"member_id": member, "limit": 500}, headers=staff_headers
    ).json()
    assert mine["total"] > 0
    assert {c["member"]["id"] for c in mine["cases"]} == {member}
    with engine.begin() as conn:  # one case a week late
        conn.execute(
            text("UPDATE cases SET resolution_due = now() - interval '7 days' WHERE id = :id"),
            {"id": opened["cases"][0]["id"]},
        )
    late = client.get("/v1/cases", params={"overdue": "true"}, headers=staff_headers).json()
    assert opened["cases"][0]["id"] in {c["id"] for c in late["cases"]}
    now = datetime.now(UTC)
    assert all(datetime.fromisoformat(c["resolution_due"]) < now for c in late["cases"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"status": "opened"}, "open, submitted"),
        ({"category": "parking"}, "mediation"),
    ],
)
def test_unknown_filter_values_are_refused_with_the_known_ones(
    client: TestClient, staff_headers, params: dict, named: str
) -> None:
    r = client.get("/v1/cases", params=params, headers=staff_headers)
    assert r.status_code == 422, r.text
    assert named in r.json()["error"]["message"]
