"""Checks on coordinates and geometries before they reach the database or an analysis.

The database enforces the same rules (``CHECK ST_IsValid`` and the service-region trigger);
checking here first gives callers a precise message, and :func:`translate_db_error` turns
the database's refusals into the same domain errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from geo.errors import ConflictError, InvalidGeometryError, OutsideRegionError, ValidationError


def validate_lon_lat(lon: float, lat: float) -> tuple[float, float]:
    """Return ``(lon, lat)`` as floats, refusing NaN, infinities and out-of-range values."""
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        msg = f"coordinates must be numbers, got lon={lon!r}, lat={lat!r}"
        raise ValidationError(msg) from exc
    if not (math.isfinite(lon) and math.isfinite(lat)):
        msg = f"coordinates must be finite numbers, got lon={lon}, lat={lat}"
        raise ValidationError(msg)
    if not -180.0 <= lon <= 180.0:
        msg = f"longitude {lon} is out of range [-180, 180]"
        raise ValidationError(msg)
    if not -90.0 <= lat <= 90.0:
        msg = f"latitude {lat} is out of range [-90, 90]"
        raise ValidationError(msg)
    return lon, lat


@contextmanager
def translate_db_error() -> Iterator[None]:
    """Turn the database's refusals (check, unique, region trigger) into domain errors."""
    try:
        yield
    except IntegrityError as exc:
        raise _domain_error(exc) from exc
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in ("XX000", "22023"):  # PostGIS parse errors
            msg = f"geometry rejected by the database: {_primary(exc)}"
            raise InvalidGeometryError(msg) from exc
        raise


def _primary(exc: DBAPIError) -> str:
    diag: Any = getattr(exc.orig, "diag", None)
    return (getattr(diag, "message_primary", None) or str(exc.orig)).strip()


def domain_error(exc: IntegrityError) -> Exception:
    """The domain error for a database integrity refusal (constraint, region, key)."""
    return _domain_error(exc)


def _domain_error(exc: IntegrityError) -> Exception:
    diag: Any = getattr(exc.orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) or ""
    message = _primary(exc)
    if constraint == "point_in_region":
        return OutsideRegionError(message)
    if constraint.endswith("_valid"):
        return InvalidGeometryError(f"invalid geometry refused by the database ({constraint})")
    if getattr(exc.orig, "sqlstate", None) == "23503":
        detail = getattr(diag, "message_detail", None) or message
        return ValidationError(f"refers to something that does not exist: {detail}")
    if getattr(exc.orig, "sqlstate", None) == "23505":
        return ConflictError(f"duplicate: {getattr(diag, 'message_detail', None) or message}")
    return ValidationError(message)
