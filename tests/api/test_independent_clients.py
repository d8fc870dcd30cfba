"""Independent clients read every layer: GDAL's OGC API driver, an RFC 7946 validator, and
QGIS (Debian's python3-qgis) drawing the basemap's vector tiles."""

from __future__ import annotations

import json
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


#: QGIS, headless, opens the tiles as its "Vector Tiles > New Generic Connection" does (an XYZ
#: template) and draws central Jiangmen with its default style
QGIS_DRAW = """
import json, sys
from qgis.core import (QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform,
    QgsMapRendererSequentialJob, QgsMapSettings, QgsProject, QgsRectangle, QgsVectorTileLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
url = sys.argv[1] + "/ogc/tiles/WebMercatorQuad/%7Bz%7D/%7By%7D/%7Bx%7D"
layer = QgsVectorTileLayer(f"type=xyz&url={url}&zmin=0&zmax=16", "yizhan")
seen = {"valid": layer.isValid(), "crs": layer.crs().authid(), "drawn": 0, "errors": []}
if layer.isValid():
    to_layer = QgsCoordinateTransform(
        QgsCoordinateReferenceSystem("EPSG:4326"), layer.crs(), QgsProject.instance())
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(to_layer.transformBoundingBox(QgsRectangle(113.05, 22.55, 113.11, 22.61)))
    settings.setOutputSize(QSize(512, 512))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    image.save(sys.argv[2])
    white = QColor(255, 255, 255).rgb()
    grid = range(0, 512, 4)
    seen["drawn"] = sum(image.pixel(x, y) != white for x in grid for y in grid)
    seen["errors"] = [e.message for e in job.errors()]
print(json.dumps(seen))
app.exitQgis()
"""
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, where python3-qgis lives


def test_qgis_draws_the_basemaps_vector_tiles(live_url: str, tmp_path) -> None:
    found = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False
    )
    assert found.returncode == 0, "python3-qgis is installed by scripts/bootstrap.sh --with-browser"
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", QGIS_DRAW, live_url, str(tmp_path / "qgis.png")],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["valid"], seen
    assert seen["crs"] == "EPSG:3857"
    assert seen["errors"] == []
    assert seen["drawn"] > 500, seen  # of 16,384 sampled pixels: streets were drawn


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
