"""Who may act where: the area rule behind every staff write, written once.

An admin acts everywhere; a manager within their district or town; anyone else nowhere. A
write checks the caller's area on the object *and* on every object it points to — the case
and the member it is assigned to, the station where it is and where it moves to — so no
manager can reach into another district through a reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.errors import PermissionDeniedError


@dataclass(frozen=True)
class Area:
    """The part of the city a caller acts in (``everything`` for admins)."""

    district_id: int | None = None
    town_id: int | None = None
    everything: bool = False

    def covers(self, town_id: int | None, district_id: int | None) -> bool:
        """Whether a place in ``town_id`` / ``district_id`` lies in this area.

        Parameters
        ----------
        town_id, district_id
            Where the place is (``None`` when unknown: only admins cover the unknown).
        """
        if self.everything:
            return True
        if self.town_id is not None:
            return town_id is not None and town_id == self.town_id
        if self.district_id is not None:
            return district_id is not None and district_id == self.district_id
        return False


def area_of(role: str, district_id: int | None, town_id: int | None) -> Area:
    """The area a user with this role and scope acts in."""
    if role == "admin":
        return Area(everything=True)
    if role == "manager":
        return Area(district_id=district_id, town_id=town_id)
    return Area()


def require_area(area: Area, place: tuple[int | None, int | None], what: str) -> None:
    """Refuse (403) when ``place`` — ``(town_id, district_id)`` — is outside ``area``."""
    if not area.covers(*place):
        msg = f"{what} lies outside the area you manage"
        raise PermissionDeniedError(msg)
