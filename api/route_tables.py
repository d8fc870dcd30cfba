"""FastAPI's route tables built ahead of the first request that needs them.

FastAPI (0.165, pinned in ``uv.lock``) builds an included router's per-route tables (each
parameter's pydantic field, the body limit) the first time a request walks past that router,
under a lock: the first person to reach a router late in the list paid ~0.4 s on the sample's
app (the first isochrone took 160 ms where the next took 40). ``yizhan serve`` builds them
on its event loop once the road graph has loaded (:func:`api.app.serving_app`), so the first
answers are as quick as the next. (Not on a thread of their own: FastAPI builds them inside
``warnings.catch_warnings``, which is not safe beside other threads.)

Only FastAPI's public behaviour is relied on for correctness: where a version has no such
lazy tables (no ``effective_candidates``), nothing is done and nothing breaks; the test
``tests/api/test_route_tables.py`` says when an upgrade changes this.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI


def _build(routes: Iterable[object]) -> int:
    built = 0
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is None:
            continue
        version = getattr(route, "_effective_candidates_version", None)
        children = candidates()
        low = getattr(route, "effective_low_priority_routes", None)
        if low is not None:
            low()
        built += version is None
        built += _build(children)
    return built


def build_route_tables(app: FastAPI) -> int:
    """Build the tables of every included router of ``app`` now; how many were not built yet."""
    return _build(app.router.routes)


def unbuilt_route_tables(app: FastAPI) -> int:
    """Included routers of ``app`` whose tables wait for a first request (none are built)."""

    def pending(routes: Iterable[object]) -> int:
        waiting = 0
        for route in routes:
            if hasattr(route, "effective_candidates"):
                built = getattr(route, "_effective_candidates_version", None) is not None
                waiting += not built
                if built:
                    waiting += pending(getattr(route, "_effective_candidates", []))
        return waiting

    return pending(app.router.routes)


def lazy_route_tables(app: FastAPI) -> bool:
    """Whether this FastAPI builds included routers' tables lazily (at a first request)."""
    return any(hasattr(route, "effective_candidates") for route in app.router.routes)
