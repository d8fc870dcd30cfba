"""The first request that reaches a router finds FastAPI's route tables already built.

(FastAPI builds them lazily at the first request that walks past a router: the first
isochrone of a server took 160 ms where the next took 40. See :mod:`api.route_tables`.)
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app, serving_app
from api.route_tables import build_route_tables, lazy_route_tables, unbuilt_route_tables
from geo.settings import Settings


def test_this_fastapi_builds_route_tables_lazily(settings: Settings) -> None:
    """Fails when an upgrade stops building them lazily: then api.route_tables can go."""
    app = create_app(settings)  # made, not started: nothing asked for a table yet
    assert lazy_route_tables(app)
    assert build_route_tables(app) > 10  # every router's, the first time
    assert build_route_tables(app) == 0  # and kept


def test_the_served_app_builds_every_router_table_before_any_request(
    settings: Settings, db_url: str
) -> None:
    assert unbuilt_route_tables(create_app(settings)) > 10  # FastAPI alone: at first requests
    app = serving_app(settings)  # what yizhan serve runs
    with TestClient(app):  # started; no request is made
        deadline = time.monotonic() + 120  # once the graph has loaded
        while unbuilt_route_tables(app) != 0:
            assert time.monotonic() < deadline, "the route tables were not built at start"
            time.sleep(0.2)
