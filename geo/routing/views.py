"""The travel-time view of a compiled graph for one profile: plain, or turn-aware.

A profile without turn costs searches the graph's nodes (:class:`ProfileGraph`); one with
turn costs searches its edges (:class:`~geo.routing.turns.TurnProfileGraph`, built on the
former). Each view is made once per graph and profile and kept on the graph.
"""

from __future__ import annotations

from geo.profiles import TravelProfile
from geo.routing.compiled import CompiledGraph, ProfileGraph
from geo.routing.turns import TurnProfileGraph


def profile_view(graph: CompiledGraph, profile: TravelProfile) -> ProfileGraph:
    """The travel-time view of ``graph`` for ``profile`` (built once, then kept)."""
    key = profile.key  # two profiles of one name but other speeds are two views
    view = graph.views.get(key)
    if view is None:
        turned = profile.turns is not None
        view = TurnProfileGraph(graph, profile) if turned else ProfileGraph(graph, profile)
        graph.views[key] = view
    return view
