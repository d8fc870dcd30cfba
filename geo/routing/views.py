"""The travel-time view of a compiled graph for one profile: plain, or turn-aware.

A profile without turn costs searches the graph's nodes (:class:`ProfileGraph`); one with
turn costs searches its edges (:class:`~geo.routing.turns.TurnProfileGraph`, built on the
former). Each view is made once per graph and profile and kept on the graph.
"""

from __future__ import annotations

from collections.abc import Iterable

from geo.profiles import TravelProfile
from geo.routing.compiled import CompiledGraph
from geo.routing.kept import set_name
from geo.routing.profile_graph import ProfileGraph
from geo.routing.reach import ISOCHRONE_BUFFER_M, RoadPoints
from geo.routing.turns import TurnProfileGraph


def profile_view(graph: CompiledGraph, profile: TravelProfile) -> ProfileGraph:
    """The travel-time view of ``graph`` for ``profile`` (built once, then kept).

    A graph read from the compiled cache keeps its views' arrays beside it
    (:mod:`geo.routing.kept`): the first process builds a view, every later one maps it.
    """
    known = graph.view_of.get(id(profile))  # every answer asks: no hashing of the whole key
    if known is not None and known[0] is profile:
        return known[1]
    key = profile.key  # two profiles of one name but other speeds are two views
    view = graph.views.get(key)
    if view is None:
        kind = TurnProfileGraph if profile.turns is not None else ProfileGraph
        if graph.keep_dir is None:
            view = kind(graph, profile)
        else:
            name = set_name(f"view-{profile.name}", key)
            arrays = graph.kept(name, lambda: kind(graph, profile).kept_arrays())
            view = kind.from_kept(graph, profile, arrays)
        graph.views[key] = view
    graph.view_of[id(profile)] = (profile, view)
    return view


def keep_views(graph: CompiledGraph, profiles: Iterable[TravelProfile]) -> None:
    """Build and keep what a first start would: each profile's view, the grid, the drawings.

    Also the road points of the isochrones' usual size. Run by ``yizhan network prepare``
    (an upgrade, an image build), so that the first start maps them like every later one.
    Nothing is kept for a graph not read from the compiled cache.
    """
    for profile in profiles:
        view = profile_view(graph, profile)
        view.grid  # noqa: B018 - made (and kept) when first read
        view.draw_coords  # noqa: B018
    RoadPoints.whole(graph, ISOCHRONE_BUFFER_M / 2)
