"""The quick API tests' isolation: the session's app on one connection, rolled back after.

(``one_connection`` in ``tests/api/conftest.py``: a SAVEPOINT per request inside a transaction
that is never committed.)
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.api.conftest import one_connection

FORM = {
    "service_code": "wage_arrears",
    "lat": "22.5801",
    "long": "113.0801",
    "description": "工资拖欠（隔离测试）",
}
COUNT = text("SELECT count(*) FROM cases WHERE reference = :ref")


def _file(client: TestClient) -> str:
    r = client.post("/open311/v2/requests.json", data=FORM)
    assert r.status_code == 201, r.text
    return str(r.json()[0]["service_request_id"])


def test_requests_see_what_earlier_ones_wrote_and_no_other_connection_does(
    session_client: TestClient, engine: Engine
) -> None:
    with one_connection(session_client, engine) as rb:
        ref = _file(rb.client)
        assert rb.client.get(f"/open311/v2/requests/{ref}.json").status_code == 200
        assert rb.conn.execute(COUNT, {"ref": ref}).scalar_one() == 1
        with engine.connect() as other:
            assert other.execute(COUNT, {"ref": ref}).scalar_one() == 0


def test_nothing_a_test_writes_stays_and_the_app_has_its_own_connections_again(
    session_client: TestClient, engine: Engine
) -> None:
    with one_connection(session_client, engine) as rb:
        ref = _file(rb.client)
    with engine.connect() as c:
        assert c.execute(COUNT, {"ref": ref}).scalar_one() == 0
    assert session_client.get(f"/open311/v2/requests/{ref}.json").status_code == 404
    assert not session_client.app.dependency_overrides
