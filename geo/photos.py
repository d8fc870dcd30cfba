"""Station photos: what staff may upload (checked by content, not by name) and reading them.

A photo must be a JPEG, PNG or WebP whose bytes say so (the declared type must match),
no larger than the size limit, decodable, and at most 4,096 pixels a side (no
decompression bombs). It is stored in the database with its SHA-256, which riders' pages use
as its version.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import Connection

from geo.access import Area, require_area
from geo.db import photos as q
from geo.db.areas import station_area
from geo.errors import NotFoundError, ValidationError

MAX_SIDE = 4096
_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Photo:
    """A stored photo."""

    content_type: str
    data: bytes
    sha256: str
    width: int
    height: int


def check_photo(data: bytes, content_type: str, *, max_bytes: int) -> Photo:
    """Check an upload and describe it; raises :class:`ValidationError` naming the problem."""
    allowed = ", ".join(_SIGNATURES)
    kind = content_type.split(";")[0].strip().lower()
    if kind not in _SIGNATURES:
        msg = f"a photo must be one of {allowed}; got {content_type or 'no type'}"
        raise ValidationError(msg)
    if not data:
        msg = "the photo is empty"
        raise ValidationError(msg)
    if len(data) > max_bytes:
        msg = f"the photo has {len(data):,} bytes; at most {max_bytes:,} are accepted"
        raise ValidationError(msg)
    webp = kind != "image/webp" or data[8:12] == b"WEBP"
    if not data.startswith(_SIGNATURES[kind]) or not webp:
        msg = f"the file's content is not {kind}"
        raise ValidationError(msg)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != _PIL_FORMATS[kind]:
                msg = f"the file's content is not {kind}"
                raise ValidationError(msg)
            width, height = img.size
            if max(width, height) > MAX_SIDE:
                msg = f"the photo is {width}×{height} pixels; at most {MAX_SIDE} a side"
                raise ValidationError(msg)
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        msg = f"the photo cannot be read as {kind}"
        raise ValidationError(msg) from exc
    return Photo(kind, data, hashlib.sha256(data).hexdigest(), width, height)


def store_photo(conn: Connection, station_id: int, photo: Photo, *, area: Area) -> None:
    """Set a station's photo (the station must be in the caller's ``area``)."""
    require_area(area, station_area(conn, station_id), "this station")
    values = {
        "content_type": photo.content_type,
        "data": photo.data,
        "sha256": photo.sha256,
        "width": photo.width,
        "height": photo.height,
    }
    q.put_photo(conn, station_id, values)


def read_photo(conn: Connection, station_id: int) -> Photo:
    """A station's photo (404 when it has none)."""
    row = q.photo_row(conn, station_id)
    if row is None:
        msg = f"station {station_id} has no photo"
        raise NotFoundError(msg)
    return Photo(row.content_type, bytes(row.data), row.sha256, row.width, row.height)


def remove_photo(conn: Connection, station_id: int, *, area: Area) -> None:
    """Remove a station's photo (404 when it has none)."""
    require_area(area, station_area(conn, station_id), "this station")
    if not q.delete_photo(conn, station_id):
        msg = f"station {station_id} has no photo"
        raise NotFoundError(msg)
