"""Build the routing engine of a deployment: road graph, profiles, stations, region."""

from __future__ import annotations

from typing import Any

import networkx as nx
from sqlalchemy import Engine

from geo.db.region import service_region
from geo.profiles import build_profiles
from geo.routing.compiled import CompiledGraph
from geo.routing.engine import RoutingEngine
from geo.settings import Settings
from geo.stations import station_records


def build_engine(G: nx.MultiDiGraph, db: Engine, settings: Settings) -> RoutingEngine:
    """Compile ``G`` and load the stations and service region from the database."""
    compiled = CompiledGraph.from_graph(G, crs=f"EPSG:{settings.region_srid_metric}")
    with db.connect() as conn:
        stations = station_records(conn)
        region: Any = service_region(conn)
    if region is not None:
        region = region.buffer(settings.region_tolerance_m / 111_000)
    return RoutingEngine(
        compiled,
        build_profiles(settings.profile_speeds),
        stations,
        max_snap_m=settings.max_snap_m,
        region=region,
    )
