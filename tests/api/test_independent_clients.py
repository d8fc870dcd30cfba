"""Independent clients read every layer: GDAL's OGC API driver and an RFC 7946 validator."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

LAYERS = ("districts", "towns", "stations", "grids", "workplaces")


GDAL_READ = """
import sys, pyogrio
frame = pyogrio.read_dataframe("OAPIF:" + sys.argv[1], layer=sys.argv[2], max_features=50)
assert len(frame) > 0 and frame.crs is not None and frame.geometry.is_valid.all()
print(len(frame), frame.crs.to_epsg())
"""


@pytest.mark.parametrize("layer", LAYERS)
def test_gdal_reads_every_layer(live_url: str, layer: str) -> None:
    # GDAL runs in a process of its own: the live server shares this one's interpreter
    out = subprocess.run(
        [sys.executable, "-c", GDAL_READ, f"{live_url}/ogc", layer],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    count, epsg = out.stdout.split()
    assert int(count) > 0
    assert epsg == "4326"


@pytest.mark.parametrize(
    "path",
    [
        *(f"/ogc/collections/{layer}/items?limit=200" for layer in LAYERS),
        "/v1/stations",
        "/v1/isochrones?lat=22.5801&lon=113.0801&minutes=5,10,15",
        "/v1/coverage/gaps?minutes=10&format=geojson&limit=50",
    ],
)
def test_an_rfc7946_validator_accepts_every_layer(live_url: str, path: str) -> None:
    from geojson_validator import validate_geometries, validate_structure

    body = httpx.get(f"{live_url}{path}", timeout=60).json()
    assert validate_structure(body) == {}
    found = validate_geometries(body, criteria_problematic=())
    assert found["invalid"] == {}, found
