"""The nearest question is declared once: the documented operation, the fast path and the
riders' page read the same fields with the same defaults and bounds."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.nearest_query import (
    K_MAX,
    K_MIN,
    LAT_RANGE,
    LISTS,
    LON_RANGE,
    SINGLE,
    NearestQuery,
    lenient,
    strict,
)
from geo.settings import DEFAULT_AMENITIES, DEFAULT_STATION_KINDS
from geo.vocabulary import Profile

COMMON = {"lang"}  # every operation's language of messages


@pytest.fixture(scope="module")
def parameters(client: TestClient) -> dict[str, dict[str, Any]]:
    """The operation's query parameters as its OpenAPI document publishes them."""
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/v1/stations/nearest"]["get"]
    return {p["name"]: p for p in op["parameters"] if p["in"] == "query"}


def _schema(param: dict[str, Any]) -> dict[str, Any]:
    schema = param["schema"]
    # an optional value is published as anyOf [the type, null]
    return next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)


def test_the_operation_declares_exactly_the_querys_fields(
    parameters: dict[str, dict[str, Any]],
) -> None:
    fields = {f.name for f in dataclasses.fields(NearestQuery)}
    assert set(parameters) - COMMON == fields
    assert fields | COMMON == SINGLE | LISTS  # the fast path reads the same names


def test_every_default_is_the_querys_default(parameters: dict[str, dict[str, Any]]) -> None:
    for f in dataclasses.fields(NearestQuery):
        published = parameters[f.name]
        if f.default is dataclasses.MISSING:
            assert published["required"], f.name
            continue
        default = f.default if not isinstance(f.default, tuple) else list(f.default)
        assert published["schema"].get("default") == default, f.name


def test_every_bound_is_the_querys_bound(parameters: dict[str, dict[str, Any]]) -> None:
    k = _schema(parameters["k"])
    assert (k["minimum"], k["maximum"]) == (K_MIN, K_MAX)
    lat, lon = _schema(parameters["lat"]), _schema(parameters["lon"])
    assert (lat["minimum"], lat["maximum"]) == LAT_RANGE
    assert (lon["minimum"], lon["maximum"]) == LON_RANGE
    profiles = _schema(parameters["profile"])
    assert set(profiles.get("enum", [])) <= {p.value for p in Profile}


@pytest.mark.parametrize("k", [K_MIN - 1, K_MIN, K_MAX, K_MAX + 1])
def test_the_three_readers_agree_on_the_bounds_of_k(client: TestClient, k: int) -> None:
    query = f"lat=22.58&lon=113.08&k={k}"
    inside = K_MIN <= k <= K_MAX
    assert (strict(query.encode(), DEFAULT_AMENITIES, DEFAULT_STATION_KINDS) is not None) is inside
    answer = client.get(f"/v1/stations/nearest?{query}&lang=en")
    assert (answer.status_code == 200) is inside, answer.text


def test_the_lenient_reader_keeps_the_good_and_notes_the_bad() -> None:
    read = lenient(
        {"lat": "95", "lon": "113.08", "profile": "rocket", "include_closed": "on"},
        {"amenity": ["water", "<script>"], "kind": []},
        amenities=DEFAULT_AMENITIES,
        kinds=DEFAULT_STATION_KINDS,
    )
    assert (read.lat, read.lon) == (None, None)
    assert read.problems == ["bad_position"]
    assert read.profile == NearestQuery.profile
    assert read.amenity == ("water",)
    assert read.include_closed is True
    assert read.coord == NearestQuery.coord
