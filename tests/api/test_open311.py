"""The Open311 GeoReport v2 facade, as a civic app would use it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import RolledBack


@pytest.fixture
def client(rolled_back: RolledBack) -> TestClient:
    """The session's app; what a test files is rolled back after it."""
    return rolled_back.client


FORM = {
    "service_code": "wage_arrears",
    "lat": "22.5801",
    "long": "113.0801",
    "description": "工资拖欠",
    "email": "worker@example.com",
    "first_name": "Li",
}


def test_services_are_the_categories(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    assert [s["service_code"] for s in services][:2] == ["wage_arrears", "labour_contract"]
    assert all({"service_name", "metadata", "type", "group"} <= set(s) for s in services)


def test_file_and_follow_a_request(client: TestClient) -> None:
    r = client.post("/open311/v2/requests.json", data=FORM)
    assert r.status_code == 201, r.text
    (created,) = r.json()
    rid = created["service_request_id"]
    assert rid.startswith("JM-")
    assert created["account_id"] is None
    (one,) = client.get(f"/open311/v2/requests/{rid}.json").json()
    assert one["status"] == "open"
    assert one["service_code"] == "wage_arrears"
    listed = client.get("/open311/v2/requests.json", params={"status": "open"}).json()
    assert rid in [x["service_request_id"] for x in listed]
    # nothing private in public answers: the position is rounded to about a kilometre
    for item in (one, *listed):
        assert not {"description", "email", "phone"} & set(item)
        assert "worker@example.com" not in str(item)
        assert (item["lat"], item["long"]) == (22.58, 113.08)
        assert "22.5801" not in str(item)


def test_the_xml_format(client: TestClient) -> None:
    import xml.etree.ElementTree as ET

    rid = client.post("/open311/v2/requests.json", data=FORM).json()[0]["service_request_id"]
    services = ET.fromstring(client.get("/open311/v2/services.xml").content)
    assert services.tag == "services"
    assert services.find("service/service_code").text == "wage_arrears"
    listed = client.get("/open311/v2/requests.xml", params={"status": "open"})
    assert listed.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(listed.content)
    assert root.tag == "service_requests"
    assert rid in [r.findtext("service_request_id") for r in root.findall("request")]
    one = ET.fromstring(client.get(f"/open311/v2/requests/{rid}.xml").content)
    assert one.findtext("request/lat") == "22.58"
    assert one.findtext("request/status") == "open"
    gone = client.get("/open311/v2/requests/JM-00000000-000000.xml")
    assert gone.status_code == 404
    error = ET.fromstring(gone.content)
    assert error.tag == "errors"
    assert error.findtext("error/code") == "404"


def test_errors_use_the_georeport_format(client: TestClient) -> None:
    bad = client.post("/open311/v2/requests.json", data={**FORM, "service_code": "pizza"})
    assert bad.status_code == 422
    assert bad.json()[0]["code"] == 422
    assert "unknown category" in bad.json()[0]["description"]
    missing = client.post("/open311/v2/requests.json", data={"service_code": "other"})
    assert missing.status_code == 422
    assert missing.json()[0]["description"]
    gone = client.get("/open311/v2/requests/JM-00000000-000000.json")
    assert gone.status_code == 404
    assert gone.json() == [{"code": 404, "description": "request JM-00000000-000000 not found"}]
