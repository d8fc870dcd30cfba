"""One call to get a working platform in a notebook or script: database, graph, routing.

``open_platform()`` does what ``yizhan load-sample`` does (start the embedded database if used,
migrate, load the sample, generate the sample roads if missing) and then builds the road
graph (cached) and the routing engine over the stations in the database.

By default it works in a scratch database of its own (the service's name with
``_notebook`` added), loaded with the same sample: what a notebook writes — test cases,
what-if stations — never reaches the database the service answers riders from.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from sqlalchemy import Engine, make_url

from geo.db.engine import database_url, make_engine, prepare_database
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


SCRATCH_SUFFIX = "_notebook"


def scratch_settings(settings: Settings) -> Settings:
    """The same settings, pointed at the notebooks' own database (embedded or external)."""
    if settings.database_url:
        current = make_url(settings.database_url).database or "yizhan"
        if current.endswith(SCRATCH_SUFFIX):
            return settings
        url = database_url(settings, current + SCRATCH_SUFFIX)
        return settings.model_copy(update={"database_url": url})
    if settings.database_name.endswith(SCRATCH_SUFFIX):
        return settings
    return settings.model_copy(update={"database_name": settings.database_name + SCRATCH_SUFFIX})


def open_platform(
    settings: Settings | None = None, *, load: bool = True, scratch: bool = True
) -> Platform:
    """Prepare the database (and the sample when ``load``), build graph and routing engine.

    Parameters
    ----------
    settings
        The platform's settings (default: from the environment).
    load
        Load the sample (idempotent) and make sure the sample road network exists.
    scratch
        Work in a database of the notebook's own (default), never the service's.
    """
    settings = settings or get_settings()
    if scratch:
        settings = scratch_settings(settings)
    db = make_engine(prepare_database(settings))
    if load:
        load_sample(db, settings.region_dir)
        ensure_sample_network(settings)
    graph = load_graph(active_network_path(settings), cache_dir=settings.cache_dir)
    return Platform(settings, db, graph, build_engine(graph, db, settings))
