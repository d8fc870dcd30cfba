"""What an operator watches: timestamps and JSON log lines, readiness and liveness, /metrics."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import re

import httpx
from fastapi.testclient import TestClient
from uvicorn.config import LOGGING_CONFIG

from api.observe import JsonFormatter, log_config


def test_text_log_lines_start_with_an_iso_8601_time() -> None:
    config = log_config(LOGGING_CONFIG, "text")
    formatter = logging.config.DictConfigurator(config).configure_formatter(
        config["formatters"]["default"]
    )
    record = logging.LogRecord("yizhan", logging.INFO, __file__, 1, "graph loaded", None, None)
    line = formatter.format(record)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} ", line), line


def test_json_log_lines_carry_the_request(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="yizhan.access"):
        r = client.get(
            "/v1/stations/nearest",
            params={"lat": 22.581234, "lon": 113.081234},
            headers={"X-Request-ID": "check-123"},
        )
        client.get("/v1/cases/999999")
    assert r.status_code == 200
    lines = [json.loads(JsonFormatter().format(rec)) for rec in caplog.records]
    mine = next(line for line in lines if line.get("request_id") == "check-123")
    assert mine["route"] == "/v1/stations/nearest"
    assert mine["status"] == 200
    assert isinstance(mine["duration_ms"], float)
    assert mine["level"] == "info"
    assert re.match(r"^\d{4}-\d\d-\d\dT", mine["time"])
    assert "22.581234" not in mine["message"]  # coordinates rounded, as in text lines
    templated = [line for line in lines if line.get("route") == "/v1/cases/{case_id}"]
    assert templated
    assert templated[0]["status"] == 401


def test_liveness_and_readiness(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").status_code == 200


def test_metrics_are_for_the_operator(client: TestClient, live_url: str) -> None:
    assert client.get("/metrics").status_code == 403  # TestClient is not on loopback
    httpx.get(f"{live_url}/v1/stations/nearest", params={"lat": 22.58, "lon": 113.08})
    r = httpx.get(f"{live_url}/metrics")
    assert r.status_code == 200, r.text
    text = r.text
    assert 'yizhan_requests_total{route="/v1/stations/nearest",status="200"}' in text
    assert "yizhan_request_seconds_bucket" in text
    assert "yizhan_rider_answers_total" in text
    for gauge in (
        "yizhan_db_pool_in_use",
        "yizhan_analysis_workers",
        "yizhan_change_feed_listening",
        'yizhan_webhook_outbox{state="pending"}',
    ):
        assert gauge in text, gauge


def test_the_json_format_configures_uvicorn_and_yizhan_loggers() -> None:
    config = log_config(LOGGING_CONFIG, "json")
    logging.config.dictConfig(config)
    try:
        handler = logging.getLogger("yizhan").handlers[0]
        assert isinstance(handler.formatter, JsonFormatter)
    finally:
        logging.config.dictConfig(log_config(LOGGING_CONFIG, "text"))


def test_the_clusters_scheduler_logs_its_warnings_as_yizhan_does_and_not_its_routine() -> None:
    """The analysis clusters' scheduler runs in the API process: its lines follow the format."""
    logging.config.dictConfig(log_config(LOGGING_CONFIG, "json"))
    try:
        handlers = logging.getLogger("distributed").handlers
        assert len(handlers) == 1  # Dask's own handler replaced: no line twice
        out = io.StringIO()
        handlers[0].setStream(out)  # type: ignore[attr-defined]
        scheduler = logging.getLogger("distributed.scheduler")
        scheduler.info("Retire worker addresses (0,)")  # what every stop says
        scheduler.warning("Worker exceeded 95% memory budget")
        said = [line for line in out.getvalue().splitlines() if line.strip()]
    finally:
        logging.config.dictConfig(log_config(LOGGING_CONFIG, "text"))
    assert len(said) == 1, said
    line = json.loads(said[0])
    assert line["logger"] == "distributed.scheduler"
    assert line["level"] == "warning"
