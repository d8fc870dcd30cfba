"""Checks on coordinates and geometries before they reach the database or an analysis.

The database enforces the same rules (``CHECK ST_IsValid`` and the service-region trigger);
checking here first gives callers a precise message, and :func:`translate_db_error` turns
the database's refusals into the same domain errors.
"""

from __future__ import annotations

import math
import re
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
            msg = "the geometry is not valid (the database could not read it)"
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
    state = getattr(exc.orig, "sqlstate", None)
    if constraint == "point_in_region":  # our own trigger's sentence
        return OutsideRegionError(_primary(exc))
    if constraint.endswith("_valid"):
        return InvalidGeometryError("invalid geometry refused by the database")
    field = _key_field(getattr(diag, "message_detail", None) or "")
    if state == "23503":
        return ValidationError(f"{field or 'a value'} refers to something that does not exist")
    if state == "23505":
        return ConflictError(f"{field or 'this'} is already taken")
    if state == "23502":
        return ValidationError(f"{getattr(diag, 'column_name', None) or 'a value'} is required")
    return ValidationError("a value is outside what is allowed")


def _key_field(detail: str) -> str | None:
    """The column(s) a key violation names ("Key (town_id)=(9) …" → ``town_id``)."""
    found = re.match(r"Key \(([\w, ]+)\)=", detail)
    return found.group(1) if found else None


#: what the database refused a value for, by SQLSTATE: said without quoting the database
DATA_ERRORS = {
    "22001": "a text is longer than allowed",
    "22003": "a number is out of range",
    "22007": "a date or time has the wrong form",
    "22008": "a date or time is out of range",
    "22P02": "a value has the wrong form",
    "22021": "a text holds a character that cannot be stored",
    "22P05": "a text holds a character that cannot be stored",
}


def data_error_message(exc: DBAPIError) -> str:
    """A sentence for a value the database refused (never the database's own text)."""
    state = getattr(exc.orig, "sqlstate", None) or ""
    return DATA_ERRORS.get(state, "a value was not accepted")
