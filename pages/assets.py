"""The pages' own scripts and styles (and Leaflet), served with content-hashed names.

A page links ``/static/rider.3f9c2a1b.js``: the name changes whenever the content does, so
browsers may keep every file for a year (``immutable``) and never use a stale one. Each file
is read and gzip-compressed once, when the app starts; a browser that accepts gzip gets the
compressed bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
LONG_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """One served file: its hashed name, type, bytes and gzip bytes."""

    name: str
    hashed: str
    media_type: str
    body: bytes
    gzipped: bytes


def _asset(name: str, path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:10]
    stem, dot, ext = name.rpartition(".")
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media.startswith("text/") or media.endswith("javascript"):
        media += "; charset=utf-8"
    return Asset(name, f"{stem}.{digest}{dot}{ext}", media, body, gzip.compress(body, 9, mtime=0))


class AssetRegistry:
    """Files by logical name (``rider.js``) and by hashed name (``rider.<hash>.js``)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self._by_name = {n: _asset(n, p) for n, p in files.items() if p.exists()}
        self._by_hashed = {a.hashed: a for a in self._by_name.values()}

    def url(self, name: str) -> str:
        """The URL of a file by its logical name."""
        return f"/static/{self._by_name[name].hashed}"

    def get(self, hashed: str) -> Asset | None:
        """A file by its hashed name (None when unknown)."""
        return self._by_hashed.get(hashed)


def page_assets(leaflet_dir: Path) -> AssetRegistry:
    """The pages' files: ours from ``pages/static``; Leaflet's and protomaps-leaflet's installed."""
    files = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}
    files["leaflet.js"] = leaflet_dir / "leaflet.js"
    files["leaflet.css"] = leaflet_dir / "leaflet.css"
    files["protomaps-leaflet.js"] = leaflet_dir.parent / "protomaps" / "protomaps-leaflet.js"
    return AssetRegistry(files)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` header admits gzip."""
    for part in accept_encoding.lower().split(","):
        token, _, q = part.strip().partition(";")
        if token.strip() in ("gzip", "*") and q.strip() not in ("q=0", "q=0.0"):
            return True
    return False


def gzip_bytes(body: bytes) -> bytes:
    """``body`` compressed for an answer (fast level: pages are made per request)."""
    return gzip.compress(body, 6, mtime=0)
