"""OGC API - Processes: planners' analyses run as jobs on a real Dask LocalCluster.

The module's app starts a local cluster of one worker process (1 GiB) on first use; OWSLib's
Processes client lists, describes and executes; jobs are stored, survive a new app, can be
dismissed, and a request too large for a worker is refused before any work.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from owslib.ogcapi.processes import Processes

from api.app import create_app
from geo.analyses.cluster import holds_platform
from geo.errors import NotReadyError
from tests.api.conftest import OwnDatabase, database_of_its_own, live_server

pytestmark = pytest.mark.dask

own, client, engine = database_of_its_own(
    "jobs",
    job_workers=1,
    job_memory_limit="1GiB",
    job_wait_s=180,
    escalation_interval_s=0,
    jobs_at_start=True,
)
SMALL = {"k": 2, "minutes": 10, "max_candidates": 30, "method": "greedy"}
#: a site selection that runs for minutes on the test network, whatever ran before it
SLOW = {"k": 50, "minutes": 20, "max_candidates": 1500, "method": "milp"}


@pytest.fixture(scope="module")
def live_url(own: OwnDatabase) -> Iterator[str]:
    with live_server(own.settings) as url:
        yield url


@pytest.fixture(scope="module")
def admin(client: TestClient) -> dict[str, str]:
    token = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def _until(client: TestClient, url: str, headers: dict, done: set[str], seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        status = client.get(url, headers=headers).json()
        if status["status"] in done or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def test_the_workers_start_with_the_api(client: TestClient) -> None:
    deadline = time.monotonic() + 120
    while client.get("/health").json()["analysis"]["workers"] == 0:
        assert time.monotonic() < deadline, "no Dask worker started with the API"
        time.sleep(0.5)
    assert client.get("/health").json()["analysis"] == {"workers": 1}  # before any job
    cluster = client.app.state.analyses.jobs.client()
    niceness = cluster.run(os.nice, 0)  # analyses yield the CPU to the API answering riders
    assert set(niceness.values()) == {10}
    assert set(cluster.run(holds_platform).values()) == {False}  # no graph until a task needs one


def test_a_worker_opens_its_platform_at_its_first_job(client: TestClient, admin: dict) -> None:
    owner = _planner(client, admin, "first-job")
    url = "/ogc/processes/site-selection/execution"
    job = client.post(url, json={"inputs": SMALL}, headers={**owner, "Prefer": "respond-async"})
    assert job.status_code == 201, job.text
    done = _until(client, f"/ogc/jobs/{job.json()['jobID']}", owner, {"successful", "failed"}, 180)
    assert done["status"] == "successful", done
    cluster = client.app.state.analyses.jobs.client()
    assert set(cluster.run(holds_platform).values()) == {True}


def test_owslib_lists_describes_and_runs_a_site_selection(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=300)
    assert "site-selection" in {p["id"] for p in api.processes()}
    described = api.process("site-selection")
    assert {"k", "minutes", "max_candidates"} <= set(described["inputs"])
    assert described["inputs"]["k"]["minOccurs"] == 1
    result = api.execute("site-selection", SMALL)
    assert result["type"] == "FeatureCollection"
    assert len(result["features"]) == 2
    assert result["summary"]["covered_after"] >= result["summary"]["covered_before"]


def test_async_job_is_stored_and_survives_a_new_app(
    client: TestClient, admin: dict, own: OwnDatabase
) -> None:
    r = client.post(
        "/ogc/processes/site-selection/execution",
        json={"inputs": SMALL},
        headers={**admin, "Prefer": "respond-async"},
    )
    assert r.status_code == 201, r.text
    location = r.headers["Location"]
    job_id = location.rsplit("/", 1)[-1]
    assert r.json()["status"] in ("accepted", "running", "successful")
    status = _until(client, f"/ogc/jobs/{job_id}", admin, {"successful", "failed"}, 180)
    assert status["status"] == "successful", status
    assert any(link["rel"].endswith("/results") for link in status["links"])
    stored = client.get(f"/ogc/jobs/{job_id}/results", headers=admin).json()
    assert len(stored["features"]) == 2
    listed = client.get("/ogc/jobs", headers=admin).json()["jobs"]
    assert job_id in {j["jobID"] for j in listed}
    with TestClient(create_app(own.settings)) as fresh:  # a restarted API
        again = fresh.get(f"/ogc/jobs/{job_id}/results", headers=admin)
        assert again.json() == stored


def test_a_request_too_large_for_a_worker_is_refused_before_any_work(
    client: TestClient, admin: dict
) -> None:
    big = {"k": 50, "minutes": 120, "profile": "walk", "objective": "p_median"}
    r = client.post(
        "/ogc/processes/site-selection/execution",
        json={"inputs": {**big, "max_candidates": 2000}},
        headers=admin,
    )
    assert r.status_code == 400  # OGC APIs answer bad requests with 400
    assert "max_candidates" in r.json()["error"]["message"]


def test_dismiss_stops_a_job_and_keeps_the_record(client: TestClient, admin: dict) -> None:
    slow = SLOW
    r = client.post(
        "/ogc/processes/site-selection/execution",
        json={"inputs": slow},
        headers={**admin, "Prefer": "respond-async"},
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["jobID"]
    gone = client.delete(f"/ogc/jobs/{job_id}", headers=admin)
    assert gone.status_code == 200, gone.text
    assert gone.json()["status"] == "dismissed"
    cluster = client.app.state.analyses.jobs.client()
    deadline = time.monotonic() + 60
    while any(cluster.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(cluster.processing().values())  # the work stopped (its worker restarted)
    status = client.get(f"/ogc/jobs/{job_id}", headers=admin).json()
    assert status["status"] == "dismissed"
    assert client.get(f"/ogc/jobs/{job_id}/results", headers=admin).status_code == 404
    assert client.delete(f"/ogc/jobs/{job_id}", headers=admin).status_code == 409


def test_jobs_need_a_planner_and_unknown_ones_are_404(client: TestClient, admin: dict) -> None:
    assert client.get("/ogc/jobs").status_code == 401
    assert client.get("/ogc/jobs/not-a-job", headers=admin).status_code == 404
    assert client.get("/ogc/processes/nothing", headers=admin).status_code == 404


def test_the_request_that_took_the_server_down_is_refused_at_once(
    client: TestClient, admin: dict
) -> None:
    oom = {"k": 50, "minutes": 120, "profile": "walk", "objective": "p_median"}
    r = client.post("/v1/coverage/sites", json={**oom, "max_candidates": 2000}, headers=admin)
    assert r.status_code == 422
    assert "max_candidates" in r.json()["error"]["message"]
    assert client.get("/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08}).is_success


def test_a_large_site_request_becomes_a_job(client: TestClient, admin: dict) -> None:
    large = {"k": 3, "minutes": 10, "max_candidates": 1200, "method": "greedy"}
    r = client.post("/v1/coverage/sites", json=large, headers=admin)
    assert r.status_code == 202, r.text
    job = r.headers["Location"].rsplit("/", 1)[-1]
    status = _until(client, f"/ogc/jobs/{job}", admin, {"successful", "failed"}, 180)
    assert status["status"] == "successful", status
    result = client.get(f"/ogc/jobs/{job}/results", headers=admin).json()
    assert len(result["features"]) == 3


def test_a_user_may_have_two_jobs_open_and_the_third_waits(client: TestClient, admin: dict) -> None:
    slow = SLOW
    async_ = {**admin, "Prefer": "respond-async"}
    url = "/ogc/processes/site-selection/execution"
    started = [client.post(url, json={"inputs": slow}, headers=async_) for _ in range(2)]
    assert [r.status_code for r in started] == [201, 201]
    third = client.post(url, json={"inputs": slow}, headers=async_)
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "30"
    for r in started:
        client.delete(f"/ogc/jobs/{r.json()['jobID']}", headers=admin)
    assert client.post(url, json={"inputs": SMALL}, headers=admin).status_code == 200


def test_owslib_runs_a_what_if(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=300)
    assert "coverage-scenario" in {p["id"] for p in api.processes()}
    result = api.execute(
        "coverage-scenario", {"minutes": 10, "add": [{"lon": 113.03, "lat": 22.65}]}
    )
    assert result["overall"]["covered_change"] >= 0
    assert result["areas"]
    assert {"code", "name", "covered_before", "covered_after"} <= set(result["areas"][0])


def test_owslib_ranks_the_gaps(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=300)
    result = api.execute("coverage-gaps", {"minutes": 10, "limit": 5})
    assert result["type"] == "FeatureCollection"
    ranks = [f["properties"]["rank"] for f in result["features"]]
    assert ranks == sorted(ranks)
    assert 0 < len(ranks) <= 5
    demand = [f["properties"]["uncovered_demand"] for f in result["features"]]
    assert demand == sorted(demand, reverse=True)


def test_owslib_runs_the_province_one_task_a_city(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=600)
    assert "province-coverage" in {p["id"] for p in api.processes()}
    result = api.execute("province-coverage", {"cities": ["440400", "442000"], "limit": 5})
    assert sorted(c["adcode"] for c in result["cities"]) == ["440400", "442000"]
    assert all(0 < c["share"] < 1 for c in result["cities"])
    assert 0 < result["overall"]["share"] < 1
    assert "/v1/coverage" in result["basis"]
    assert "/v1/coverage" in result["basis_zh"]
    assert {c["data"] for c in result["cities"]} == {"synthetic sample"}
    gaps = result["gaps"]["features"]
    assert 0 < len(gaps) <= 5
    assert {g["properties"]["city"] for g in gaps} <= {"珠海市", "中山市"}


def test_a_finished_job_reports_its_progress_in_full(client: TestClient, admin: dict) -> None:
    r = client.post(
        "/ogc/processes/coverage-gaps/execution",
        json={"inputs": {"minutes": 10, "limit": 3}},
        headers={**admin, "Prefer": "respond-async"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["progress"] == 0
    job = r.json()["jobID"]
    status = _until(client, f"/ogc/jobs/{job}", admin, {"successful", "failed"}, 180)
    assert status["status"] == "successful", status
    assert status["progress"] == 100


def test_unknown_cities_are_a_bad_request(client: TestClient, admin: dict) -> None:
    r = client.post(
        "/ogc/processes/province-coverage/execution",
        json={"inputs": {"cities": ["110000"]}},
        headers=admin,
    )
    assert r.status_code == 400, r.text
    assert "110000" in r.json()["error"]["message"]


def test_owslib_measures_your_own_demand_and_lists_bad_rows(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=300)
    points = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [113.08, 22.58]},
                "properties": {"people": 10},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [113.07, 22.59]},
                "properties": {"people": -1},
            },
        ],
    }
    result = api.execute(
        "demand-coverage", {"points": points, "weight_property": "people", "minutes": 15}
    )
    assert result["rows_accepted"] == 1
    assert [e["row"] for e in result["row_errors"]] == [2]
    assert result["coverage"]["demand"] == 10


def test_owslib_draws_isochrones_for_many_places(live_url: str, admin: dict) -> None:
    api = Processes(live_url + "/ogc", headers=dict(admin), timeout=300)
    places = [{"lon": 113.08, "lat": 22.58}, {"lon": 113.07, "lat": 22.60}, {"lon": 0, "lat": 0}]
    result = api.execute("isochrones", {"places": places, "minutes": [5, 10], "profile": "walk"})
    drawn = [f for f in result["features"] if f["geometry"] is not None]
    assert sorted((f["properties"]["place"], f["properties"]["minutes"]) for f in drawn) == [
        (0, 5),
        (0, 10),
        (1, 5),
        (1, 10),
    ]
    refused = [f for f in result["features"] if f["geometry"] is None]
    assert [f["properties"]["place"] for f in refused] == [2]
    assert refused[0]["properties"]["error"]


def test_batch_assignment_is_for_admins_and_runs_as_a_job(client: TestClient, admin: dict) -> None:
    made = client.post(
        "/v1/users",
        json={"username": "planner1", "password": "long-enough-1", "role": "planner"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    token = client.post(
        "/v1/auth/token", data={"username": "planner1", "password": "long-enough-1"}
    ).json()["access_token"]
    planner = {"Authorization": f"Bearer {token}"}
    refused = client.post(
        "/ogc/processes/case-assignment/execution", json={"inputs": {}}, headers=planner
    )
    assert refused.status_code == 403
    assert client.get("/ogc/jobs", headers=planner).json()["jobs"] == []  # nothing recorded
    r = client.post(
        "/ogc/processes/case-assignment/execution", json={"inputs": {"apply": False}}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert {"cases", "assigned", "unassigned"} <= set(r.json())
    listed = client.get("/ogc/jobs", headers=admin).json()["jobs"]
    assert "case-assignment" in {j["processID"] for j in listed}


def _planner(client: TestClient, admin: dict, name: str) -> dict[str, str]:
    spec = {"username": name, "password": "long-enough-1", "role": "planner"}
    assert client.post("/v1/users", json=spec, headers=admin).status_code == 201
    token = client.post("/v1/auth/token", data={"username": name, "password": "long-enough-1"})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_dismissing_a_running_job_fails_nobody_queued_behind_it(
    client: TestClient, admin: dict
) -> None:
    """The worker restarts to stop the running job; the job waiting on it is sent again."""
    first, second = _planner(client, admin, "dismisser"), _planner(client, admin, "bystander")
    url = "/ogc/processes/site-selection/execution"
    slow = SLOW
    running = client.post(url, json={"inputs": slow}, headers={**first, "Prefer": "respond-async"})
    assert running.status_code == 201, running.text
    running_id = running.json()["jobID"]
    status = _until(client, f"/ogc/jobs/{running_id}", first, {"running"}, 120)
    assert status["status"] == "running", status
    queued = client.post(url, json={"inputs": SMALL}, headers={**second, "Prefer": "respond-async"})
    assert queued.status_code == 201, queued.text
    queued_id = queued.json()["jobID"]
    assert client.delete(f"/ogc/jobs/{running_id}", headers=first).json()["status"] == "dismissed"
    done = _until(client, f"/ogc/jobs/{queued_id}", second, {"successful", "failed"}, 180)
    assert done["status"] == "successful", done


def test_a_worker_that_never_comes_back_is_replaced_and_the_queue_runs(
    client: TestClient, admin: dict
) -> None:
    """A local worker gone for good (its nanny closed): new workers take the waiting job."""
    jobs = client.app.state.analyses.jobs
    cluster = jobs.client()
    nannies = list(jobs._cluster.workers.values())
    for nanny in nannies:
        jobs._cluster.sync(nanny.close)
    deadline = time.monotonic() + 60
    while cluster.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not cluster.scheduler_info()["workers"]
    owner = _planner(client, admin, "waiting")
    url = "/ogc/processes/site-selection/execution"
    queued = client.post(url, json={"inputs": SMALL}, headers={**owner, "Prefer": "respond-async"})
    assert queued.status_code == 201, queued.text
    job_url = f"/ogc/jobs/{queued.json()['jobID']}"
    assert _until(client, job_url, owner, {"successful"}, 3)["status"] == "accepted"  # no worker
    jobs.renew_workers(1)
    assert _until(client, job_url, owner, {"successful", "failed"}, 180)["status"] == "successful"
    assert len(cluster.scheduler_info()["workers"]) == 1


def test_jobs_left_open_by_a_stopped_process_are_failed_and_free_their_owner(
    client: TestClient, admin: dict, engine
) -> None:
    from sqlalchemy import text

    owner = _planner(client, admin, "crashed")
    with engine.begin() as conn:
        for i in range(2):  # a process stopped with two of this owner's jobs open
            conn.execute(
                text(
                    "INSERT INTO jobs (id, process, owner, inputs, status, progress, created_at)"
                    " VALUES (:id, 'coverage-gaps', 'crashed', '{}', :status, 10,"
                    " now() - interval '1 day')"
                ),
                {
                    "id": f"00000000-0000-0000-0000-00000000000{i}",
                    "status": ("running", "accepted")[i],
                },
            )
    jobs = client.app.state.analyses.jobs
    assert jobs.fail_orphans(jobs.client()) == 2
    listed = client.get("/ogc/jobs", headers=owner).json()["jobs"]
    assert {j["status"] for j in listed} == {"failed"}
    assert all("stopped" in j["message"] for j in listed)
    url = "/ogc/processes/coverage-gaps/execution"
    r = client.post(url, json={"inputs": {"minutes": 10, "limit": 3}}, headers=owner)
    assert r.status_code in (200, 201), r.text  # not 429: the owner is no longer at the limit


def test_the_per_user_limit_holds_when_requests_arrive_at_once(
    client: TestClient, admin: dict
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    racer = _planner(client, admin, "racer")
    url = "/ogc/processes/site-selection/execution"
    slow = SLOW
    headers = {**racer, "Prefer": "respond-async"}
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(lambda _: client.post(url, json={"inputs": slow}, headers=headers), range(12))
        )
    accepted = [r for r in answers if r.status_code == 201]
    assert len(accepted) == 2, [r.status_code for r in answers]
    assert {r.status_code for r in answers} == {201, 429}
    for r in accepted:
        client.delete(f"/ogc/jobs/{r.json()['jobID']}", headers=racer)


def test_an_app_stopped_while_its_graph_loads_starts_no_cluster_later(own: OwnDatabase) -> None:
    """The workers start after the graph: an app already stopped by then must start none."""
    app = create_app(own.settings)
    with TestClient(app):
        platform, analyses = app.state.platform, app.state.analyses
    platform.roads.wait(120)
    for thread in [t for t in threading.enumerate() if t.name == "analyses"]:
        thread.join(60)
    assert analyses._jobs is None
    assert analyses._quick is None
    with pytest.raises(NotReadyError):
        analyses.start()
