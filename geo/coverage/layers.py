"""Demand layers built from what the database holds."""

from __future__ import annotations

from sqlalchemy import Connection

from geo.coverage.demand import Demand, population_hexes, workplace_demand
from geo.db.layers import read_towns, read_workplaces


def read_demand(conn: Connection, kind: str, *, hex_size_m: float = 600.0) -> Demand:
    """The ``population`` (hexagons) or ``workplaces`` demand layer."""
    if kind == "population":
        return population_hexes(read_towns(conn), size_m=hex_size_m)
    return workplace_demand(read_workplaces(conn))
