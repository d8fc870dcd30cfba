"""Demand layers built from what the database holds."""

from __future__ import annotations

from sqlalchemy import Connection

from geo.coverage.demand import Demand, population_hexes, workplace_demand
from geo.db.layers import read_towns, read_workplaces
from geo.errors import ValidationError

#: the demand layers the platform holds (coverage models are built for these only)
DEMAND_LAYERS = ("population", "workplaces")


def read_demand(conn: Connection, kind: str, *, hex_size_m: float = 600.0) -> Demand:
    """The ``population`` (hexagons) or ``workplaces`` demand layer."""
    if kind == "population":
        return population_hexes(read_towns(conn), size_m=hex_size_m)
    if kind == "workplaces":
        return workplace_demand(read_workplaces(conn))
    msg = f"demand must be one of {', '.join(DEMAND_LAYERS)}"
    raise ValidationError(msg)
