"""Errors in the caller's language; every timestamp ISO 8601 with an offset."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_errors_speak_chinese_when_asked(client: TestClient) -> None:
    path = "/v1/stations/nearest?lat=abc&lon=113"
    english = client.get(path).json()["error"]["message"]
    chinese = client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    assert chinese["error"]["message"].startswith("请求的参数有误（")
    assert english in chinese["error"]["message"]  # the precise detail stays
    assert not english.startswith("请求")
    missing = client.get("/ogc/collections/nope?lang=zh").json()
    assert missing["error"]["message"].startswith("找不到所请求的内容")
    host = client.get("/health", headers={"Host": "evil.example", "Accept-Language": "zh"})
    assert host.json()["error"]["message"].startswith("无效的主机名")
    forced = client.get(path + "&lang=en", headers={"Accept-Language": "zh"}).json()
    assert forced["error"]["message"] != chinese["error"]["message"]  # lang= wins
    assert not forced["error"]["message"].startswith("请求")


@pytest.mark.slow
def test_timestamps_carry_offsets(client: TestClient) -> None:
    station = client.get("/v1/stations/1").json()["properties"]
    assert station["created_at"].endswith("+00:00")  # stored times: UTC
    nearest = client.get("/v1/stations/nearest?lat=22.5801&lon=113.0801").json()
    assert nearest["open_at"].endswith("+08:00")  # the local time the answer is for
    coverage = client.get("/v1/coverage?minutes=5&at=2026-11-25T12:00:00").json()
    assert coverage["at"] == "2026-11-25T12:00:00+08:00"
    stamp = client.get("/ogc/collections/stations/items?limit=1").json()["timeStamp"]
    assert stamp.endswith("+00:00")


def test_service_description_declares_its_real_version(client: TestClient) -> None:
    landing = client.get("/ogc").json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    version = client.get("/openapi.json").json()["openapi"]
    assert desc["type"].endswith("version=" + ".".join(version.split(".")[:2]))
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert not any(c.endswith("/oas30") for c in classes) or version.startswith("3.0")
