"""Domain errors raised by ``geo``; the API maps each class to an HTTP status in one place."""

from __future__ import annotations


class YizhanError(Exception):
    """Base class of every error the domain raises on purpose.

    The message is English (logs, API callers, IT staff). ``zh`` says the same to a person in
    Chinese (the workbench shows it instead of a generic lead), and ``code`` names the case
    for a program that must tell one conflict from another (e.g. ``stale``: reload and retry).
    """

    def __init__(self, message: str = "", *, zh: str | None = None, code: str | None = None):
        super().__init__(message)
        self.zh, self.code = zh, code


class NotFoundError(YizhanError):
    """A requested object (station, town, grid, ...) does not exist."""


class ValidationError(YizhanError):
    """Input that is well-formed but not acceptable (bad value, bad combination)."""


class InvalidGeometryError(ValidationError):
    """A geometry that is empty, of the wrong type, or not valid (self-intersecting...)."""


class OutsideRegionError(ValidationError):
    """A location outside the service region."""


class ConflictError(YizhanError):
    """The request conflicts with the current state (duplicates, stale versions)."""


class DatabaseUnavailableError(YizhanError):
    """The database cannot be reached right now."""


class SetupError(YizhanError):
    """The platform cannot run here as configured (missing packages, bad settings)."""


class NotReadyError(YizhanError):
    """A part of the service is still starting (e.g. the road graph is loading)."""


class AuthenticationError(YizhanError):
    """Missing, expired or wrong credentials."""


class RateLimitedError(YizhanError):
    """Too many attempts in a short time; ``retry_after`` says how long to wait (seconds)."""

    def __init__(self, message: str, *, retry_after: int = 5, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = retry_after


class PermissionDeniedError(YizhanError):
    """Authenticated, but not allowed to do this."""
