from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from geo.settings import Settings


@pytest.fixture(scope="session")
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The app on the test database and the central-Jiangmen network, graph loaded."""
    with TestClient(create_app(settings)) as c:
        c.app.state.yizhan.graph.wait(300)
        assert c.app.state.yizhan.graph.status == "ok", c.app.state.yizhan.graph.error
        yield c


@pytest.fixture
def staff_headers(client: TestClient) -> dict[str, str]:
    r = client.post("/v1/auth/token", data={"username": "admin", "password": "admin"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def cleanup_api_stations(client: TestClient, engine: Engine) -> Iterator[None]:
    """Remove stations the test created through the API, from the database and the engine."""
    yield
    with engine.begin() as conn:
        ids = list(conn.scalars(text("DELETE FROM stations WHERE source = 'api' RETURNING id")))
    for i in ids:
        client.app.state.yizhan.graph.routing.remove_station(i)
