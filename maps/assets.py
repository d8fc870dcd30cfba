"""The JavaScript and CSS the maps load, installed from the npm registry at set-up.

No CDN is reachable offline (and foreign CDNs are unreliable in mainland China), so every
file a map page loads is served by the app itself from ``<state_dir>/assets``. The files
come from pinned npm packages fetched with ``npm pack`` (the ordinary npm client) by
``python -m maps.assets install``, which ``scripts/bootstrap.sh`` runs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGES = {
    "leaflet": "1.9.4",
    "leaflet.markercluster": "1.5.3",
    "swagger-ui-dist": "5.17.14",
    # draws the own basemap's vector tiles on a canvas inside Leaflet (BSD-3-Clause, 37 KB gz)
    "protomaps-leaflet": "5.1.0",
}
#: served path (under the assets URL) -> (package, path inside the package tarball)
FILES = {
    "leaflet/leaflet.js": ("leaflet", "package/dist/leaflet.js"),
    "leaflet/leaflet.css": ("leaflet", "package/dist/leaflet.css"),
    "leaflet/images/layers.png": ("leaflet", "package/dist/images/layers.png"),
    "leaflet/images/layers-2x.png": ("leaflet", "package/dist/images/layers-2x.png"),
    "leaflet/images/marker-icon.png": ("leaflet", "package/dist/images/marker-icon.png"),
    "leaflet/images/marker-icon-2x.png": ("leaflet", "package/dist/images/marker-icon-2x.png"),
    "leaflet/images/marker-shadow.png": ("leaflet", "package/dist/images/marker-shadow.png"),
    "markercluster/leaflet.markercluster.js": (
        "leaflet.markercluster",
        "package/dist/leaflet.markercluster.js",
    ),
    "markercluster/MarkerCluster.css": ("leaflet.markercluster", "package/dist/MarkerCluster.css"),
    "markercluster/MarkerCluster.Default.css": (
        "leaflet.markercluster",
        "package/dist/MarkerCluster.Default.css",
    ),
    "protomaps/protomaps-leaflet.js": ("protomaps-leaflet", "package/dist/protomaps-leaflet.js"),
    "protomaps/LICENSE": ("protomaps-leaflet", "package/LICENSE"),
    "swagger/swagger-ui-bundle.js": ("swagger-ui-dist", "package/swagger-ui-bundle.js"),
    "swagger/swagger-ui.css": ("swagger-ui-dist", "package/swagger-ui.css"),
}


def installed(target: Path) -> bool:
    """Whether every asset file is in ``target`` at the pinned versions."""
    manifest = target / "MANIFEST.json"
    if not manifest.exists():
        return False
    data = json.loads(manifest.read_text())
    return data.get("packages") == PACKAGES and all((target / f).exists() for f in FILES)


def install(target: Path) -> Path:
    """Fetch the pinned packages with ``npm pack`` and copy the files the maps use."""
    if installed(target):
        return target
    npm = shutil.which("npm")
    if npm is None:
        msg = "npm is needed once to fetch the map assets: apt-get install -y npm"
        raise RuntimeError(msg)
    target.mkdir(parents=True, exist_ok=True)
    digests = {}
    with tempfile.TemporaryDirectory() as tmp:
        specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
        subprocess.run([npm, "pack", "--silent", *specs], cwd=tmp, check=True, capture_output=True)
        archives = {
            name: next(Path(tmp).glob(f"{name}-{version}.tgz"))
            for name, version in PACKAGES.items()
        }
        for served, (package, inner) in FILES.items():
            with tarfile.open(archives[package]) as tar:
                member = tar.extractfile(inner)
                if member is None:
                    msg = f"{inner} missing from {package}"
                    raise RuntimeError(msg)
                data = member.read()
            out = target / served
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
            digests[served] = hashlib.sha256(data).hexdigest()
    (target / "MANIFEST.json").write_text(
        json.dumps({"packages": PACKAGES, "sha256": digests}, indent=1)
    )
    return target


if __name__ == "__main__":
    from geo.settings import get_settings

    folder = get_settings().state_dir / "assets"
    if sys.argv[1:] == ["install"]:
        print(f"map assets in {install(folder)}")
    else:
        print("usage: python -m maps.assets install")
