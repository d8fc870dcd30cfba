"""One call to get a working platform in a notebook or script: database, graph, routing.

``open_platform()`` does what ``yizhan load-sample`` does (start the embedded database if used,
migrate, load the sample, generate the sample roads if missing) and then builds the road
graph (cached) and the routing engine over the stations in the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from sqlalchemy import Engine

from geo.db.engine import make_engine, prepare_database
from geo.db.load import load_sample
from geo.network import load_graph
from geo.routing.engine import RoutingEngine
from geo.routing.service import build_engine
from geo.settings import Settings, get_settings
from geo.workspace import active_network_path, ensure_sample_network


@dataclass
class Platform:
    """A ready platform: settings, database engine, road graph and routing engine."""

    settings: Settings
    db: Engine
    graph: nx.MultiDiGraph
    routing: RoutingEngine


def open_platform(settings: Settings | None = None, *, load: bool = True) -> Platform:
    """Prepare the database (and the sample when ``load``), build graph and routing engine."""
    settings = settings or get_settings()
    db = make_engine(prepare_database(settings))
    if load:
        load_sample(db, settings.region_dir)
        ensure_sample_network(settings)
    graph = load_graph(active_network_path(settings), cache_dir=settings.cache_dir)
    return Platform(settings, db, graph, build_engine(graph, db, settings))
