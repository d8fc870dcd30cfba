"""What a rider's one-call lookup reads besides the rider, as one compiled struct.

numba unboxes each array passed to a compiled call apart (some 90 ns each), and the lookup
(:mod:`geo.routing.lookup`) reads 33: the segment grid, the profile's edges and edge states,
the drawing coordinates and one dense station field. :func:`lookup_arrays` gathers them once
per field into a :class:`LookupArrays` (a numba ``StructRef``), passed as one argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, typeof, types
from numba.experimental import structref

from geo.routing.profile_graph import ProfileGraph
from geo.routing.snapping import GridArrays
from geo.routing.turns import TurnProfileGraph

_NO_STATES = np.zeros(1, dtype=np.int64)
#: what the kernel reads besides the rider, in its order: the graph's arrays, then a field's
_PACKED = (
    "grid", "snap_usable", "edge_length", "node_xy", "u", "v", "tt", "twin", "usable", "length",
    "keys", "pair_edges", "turns", "in_ptr", "in_edges", "out_ptr", "out_edges", "draw_xy",
    "draw_off", "draw_along", "dist", "next_hop", "st_edge", "st_frac", "st_lonlat", "ids",
)  # fmt: skip


@structref.register
class _PackedType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> tuple[tuple[str, Any], ...]:
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class LookupArrays(structref.StructRefProxy):
    """The graph's and one field's arrays as one compiled struct (:func:`lookup_arrays`).

    Passed to the kernel as one argument: numba unboxes each array argument of a call apart
    (some 90 ns each), and the kernel reads 33 of them.
    """


structref.define_boxing(_PackedType, LookupArrays)


@njit(cache=True)
def _new_packed(typ: Any) -> Any:  # pragma: no cover - compiled
    return structref.new(typ)  # type: ignore[call-arg]


@njit(cache=True)
def _fill_packed(
    p: Any,
    grid: GridArrays,
    snap_usable: np.ndarray,
    edge_length: np.ndarray,
    node_xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    tt: np.ndarray,
    twin: np.ndarray,
    usable: np.ndarray,
    length: np.ndarray,
    keys: np.ndarray,
    pair_edges: np.ndarray,
    turns: bool,
    in_ptr: np.ndarray,
    in_edges: np.ndarray,
    out_ptr: np.ndarray,
    out_edges: np.ndarray,
    draw_xy: np.ndarray,
    draw_off: np.ndarray,
    draw_along: np.ndarray,
    dist: np.ndarray,
    next_hop: np.ndarray,
    st_edge: np.ndarray,
    st_frac: np.ndarray,
    st_lonlat: np.ndarray,
    ids: np.ndarray,
) -> None:  # pragma: no cover - compiled
    p.grid, p.snap_usable, p.edge_length, p.node_xy = grid, snap_usable, edge_length, node_xy
    p.u, p.v, p.tt, p.twin, p.usable, p.length = u, v, tt, twin, usable, length
    p.keys, p.pair_edges, p.turns = keys, pair_edges, turns
    p.in_ptr, p.in_edges, p.out_ptr, p.out_edges = in_ptr, in_edges, out_ptr, out_edges
    p.draw_xy, p.draw_off, p.draw_along = draw_xy, draw_off, draw_along
    p.dist, p.next_hop, p.st_edge, p.st_frac = dist, next_hop, st_edge, st_frac
    p.st_lonlat, p.ids = st_lonlat, ids


def lookup_arrays(
    pg: ProfileGraph,
    *,
    dist: np.ndarray,
    next_hop: np.ndarray,
    station_edge: np.ndarray,
    station_fraction: np.ndarray,
    station_lonlat: np.ndarray,
    ids: np.ndarray,
) -> LookupArrays:
    """What :func:`geo.routing.lookup.nearest_rows` reads besides the rider, as one struct.

    The graph's arrays and one dense field's, in :data:`_PACKED` order.

    Gathered once per field (a rider's answer passes them on as they are).

    Parameters
    ----------
    pg
        The profile's graph (plain or turn-aware).
    dist, next_hop
        The dense field: ``(search nodes, stations)`` seconds, ``(stations, search nodes)``
        next hops.
    station_edge, station_fraction
        Where each station met the road.
    station_lonlat
        ``(stations, 2)``: that point in WGS-84 (each route's last point).
    ids
        The stations' ids (ties go to the lower).
    """
    field = (dist, next_hop, station_edge, station_fraction, station_lonlat, ids)
    arrays = (*_graph_arrays(pg), *field)
    packed = _new_packed(_PackedType(list(zip(_PACKED, map(typeof, arrays), strict=True))))
    _fill_packed(packed, *arrays)
    return packed


def _graph_arrays(pg: ProfileGraph) -> tuple[Any, ...]:
    """The profile graph's part of the struct, in :data:`_PACKED` order."""
    grid = pg.grid
    states = (_NO_STATES,) * 4
    if isinstance(pg, TurnProfileGraph):
        states = (pg.in_ptr, pg.in_edges, pg.out_ptr, pg.out_edges)
    return (
        grid.arrays, pg.snap_usable, grid.edge_length, pg.graph.node_xy, pg.u, pg.v, pg.tt,
        pg.twin, pg.usable, pg.length, pg.best_edge.keys, pg.best_edge.edges,
        pg.searches_states, *states, *pg.draw_coords,
    )  # fmt: skip
