from fastapi.testclient import TestClient

from api.app import create_app
from geo.settings import Settings
from tests.conftest import SampleFacts


def test_health_reports_database_graph_and_sample(client: TestClient, sample: SampleFacts) -> None:
    r = client.get("/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["database"]["postgis"].startswith("3.")
    assert body["database"]["counts"]["stations"] == sample.stations
    assert "stations" in body["database"]["synthetic_layers"]
    assert body["graph"]["status"] == "ok"
    assert body["analysis"] == {"workers": 0}  # the Dask workers start with the first job
    assert body["graph"]["synthetic"] is True
    assert body["graph"]["nodes"] > 100


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert "/health" in client.get("/openapi.json").json()["paths"]


def test_unknown_path_gets_the_json_error_format(client: TestClient) -> None:
    r = client.get("/no/such/thing")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "HTTP"


def test_missing_network_is_reported_not_crashed(settings: Settings, engine, tmp_path) -> None:
    s = settings.model_copy(update={"network_file": tmp_path / "missing.osm"})
    with TestClient(create_app(s)) as c:
        r = c.get("/health")
    assert r.status_code == 503
    assert r.headers["Retry-After"]
    assert r.json()["graph"]["status"] == "absent"
    assert r.json()["database"]["status"] == "ok"


def test_unreachable_database_is_reported(settings: Settings, tmp_path) -> None:
    dead = "postgresql+psycopg://postgres@/nodb?host=" + str(tmp_path) + "&port=1"
    s = settings.model_copy(update={"database_url": dead})
    with TestClient(create_app(s)) as c:
        r = c.get("/health")
    assert r.status_code == 503
    assert r.json()["database"]["status"] == "unavailable"
