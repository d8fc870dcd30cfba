"""One profile's travel times over a compiled road graph: the view every search reads.

A :class:`ProfileGraph` (made by :func:`geo.routing.views.profile_view`) derives from a
:class:`~geo.routing.compiled.CompiledGraph` the travel time of every edge for the profile
(``inf`` where it may not go), the reverse twin of each edge (the same road the other way,
when the profile may use it), a CSR matrix keeping the fastest edge per node pair, and the
ways into and out of a snapped point; points meet the nearest usable road through the
graph's :class:`~geo.routing.snapping.SegmentGrid`. Its arrays are kept on disk once and
mapped (:mod:`geo.routing.kept`). Routes come out as :class:`RoutePieces` and are drawn from
the edges' WGS-84 coordinates (:mod:`geo.routing.drawing`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix

from geo.errors import ValidationError
from geo.profiles import TravelProfile
from geo.routing.access import ALLOWED, DISMOUNT, FORBIDDEN, MODES
from geo.routing.compiled import (
    NODE_TOLERANCE_M,
    CompiledGraph,
    Snap,
    SnapArrays,
    line_runs,
    places_in_runs,
)
from geo.routing.drawing import points_on, stitch, stitch_many
from geo.routing.kept import Arrays, set_name
from geo.routing.pieces import direct_pieces, path_pieces
from geo.routing.snapping import SegmentGrid


def pad_ways(blocks: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Side-by-side ``(points, k)`` blocks of (node, seconds), usable ways first, no empty column.

    Columns where no point has a way (all ``inf``) are dropped; node ids under ``inf`` are 0.
    """
    nodes = np.concatenate([b[0] for b in blocks], axis=1).astype(np.int64)
    cost = np.concatenate([b[1] for b in blocks], axis=1).astype(float)
    usable = np.isfinite(cost)
    order = np.argsort(~usable, axis=1, kind="stable")
    nodes, cost = np.take_along_axis(nodes, order, 1), np.take_along_axis(cost, order, 1)
    width = max(int(usable.sum(axis=1).max(initial=0)), 1)
    nodes, cost = nodes[:, :width], cost[:, :width]
    return np.where(np.isfinite(cost), nodes, 0), cost


#: pushing a bicycle where the sign says to dismount (km/h)
DISMOUNT_KPH = 4.0


def _edge_speeds(profile: TravelProfile, graph: CompiledGraph) -> np.ndarray:
    """The profile's speed on every edge (0: not allowed), asked once per class and tag."""
    codes, classes = graph.highway_codes()
    tagged, tag_index = np.unique(graph.tagged_kph, return_inverse=True)
    pairs, back = np.unique(codes * len(tagged) + tag_index.ravel(), return_inverse=True)
    speeds = np.array(
        [
            profile.edge_speed(classes[int(c) // len(tagged)], float(tagged[int(c) % len(tagged)]))
            or 0.0
            for c in pairs
        ],
        dtype=float,
    )
    return np.asarray(speeds[back.ravel()])


def edge_coords(
    graph: CompiledGraph, xy: np.ndarray, index: np.ndarray, n_edges: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The edges' drawing coordinates: WGS-84 points, run starts and distances.

    From every edge's metric coordinates (``xy``, each one's edge in ``index``, in edge order):
    one array of every edge's coordinates, where each edge's run starts, and each coordinate's
    distance (metres, in the metric CRS) from the start of its edge.
    """
    offsets = np.zeros(n_edges + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(index, minlength=n_edges))
    step = np.zeros(len(xy))
    step[1:] = np.hypot(*np.diff(xy, axis=0).T)
    step[offsets[:-1][offsets[:-1] < len(xy)]] = 0.0  # each run starts at 0
    along = np.cumsum(step)
    along -= np.repeat(along[offsets[:-1].clip(max=len(xy) - 1)], np.diff(offsets))
    lon, lat = graph.to_wgs84.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat]), offsets, along


#: the names of :func:`edge_coords`' three arrays (when kept)
_COORDS = ("lonlat", "offsets", "along")


def _reversed_runs(
    xy: np.ndarray, index: np.ndarray, edges: np.ndarray, first: int
) -> tuple[np.ndarray, np.ndarray]:
    """The coordinates of ``edges``, each run backwards, numbered from ``first`` on."""
    starts, runs = line_runs(index, edges)
    backwards = np.repeat(starts + runs - 1, runs) - places_in_runs(runs)
    return xy[backwards], np.repeat(first + np.arange(len(edges)), runs)


class RoutePieces(NamedTuple):
    """A route as drawn: part of the start's edge, whole edges, part of the end's edge.

    ``head`` and ``tail`` are ``(edge, from, to)`` fractions (edge -1: none); ``length`` is
    the route's length in metres (:mod:`geo.routing.pieces`). A rider's answer keeps its routes
    as one :class:`RouteBatch` instead; these are made one route at a time (routes between two
    points, the stage-by-stage path, :meth:`RouteBatch.route`).
    """

    head: tuple[int, float, float]
    edges: np.ndarray
    tail: tuple[int, float, float]
    length: float


class RouteBatch(NamedTuple):
    """Several routes as the compiled lookup gives them (:mod:`geo.routing.lookup`).

    ``pieces`` holds a row per route: head ``(edge, from, to)``, tail ``(edge, from, to)`` and
    length; route ``i``'s whole edges are ``edges[cut[i]:cut[i + 1]]``; ``ends`` its last
    point (WGS-84).
    """

    pieces: np.ndarray
    edges: np.ndarray
    cut: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, routes: Sequence[tuple[RoutePieces, tuple[float, float]]]) -> RouteBatch:
        """The batch of routes found one by one (their pieces, and where each ends)."""
        pieces = np.array(
            [[*p.head, *p.tail, p.length] for p, _ in routes], dtype=np.float64
        ).reshape(-1, 7)
        cut = np.zeros(len(routes) + 1, dtype=np.int64)
        cut[1:] = np.cumsum([len(p.edges) for p, _ in routes])
        runs = [np.asarray(p.edges, dtype=np.int64) for p, _ in routes]
        edges = np.concatenate(runs) if runs else np.empty(0, dtype=np.int64)
        ends = np.array([end for _, end in routes], dtype=np.float64).reshape(-1, 2)
        return cls(pieces, edges, cut, ends)

    def route(self, i: int) -> RoutePieces:
        """Route ``i``'s pieces, as :meth:`ProfileGraph.path_pieces` gives one route's."""
        he, hf, ht, te, tf, tt, length = self.pieces[i].tolist()
        a, b = self.cut[i : i + 2].tolist()
        return RoutePieces((int(he), hf, ht), self.edges[a:b], (int(te), tf, tt), length)

    def end(self, i: int) -> tuple[float, float]:
        """Route ``i``'s last point (WGS-84)."""
        lon, lat = self.ends[i].tolist()
        return lon, lat


@dataclass(frozen=True)
class PairEdges:
    """The fastest usable edge from node ``u`` to node ``v``, by the pair's key ``u * n + v``.

    Two sorted arrays (a few MB) where a dict of pairs held some 60 MB on the sample.
    """

    keys: np.ndarray
    edges: np.ndarray
    n: int

    @classmethod
    def none(cls, n: int) -> PairEdges:
        """No pairs (a search over edge states draws its routes from the states)."""
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), n)

    def along(self, nodes: Sequence[int] | np.ndarray) -> np.ndarray:
        """The edges between consecutive nodes of a path (KeyError where there is none)."""
        path = np.asarray(nodes, dtype=np.int64)
        wanted = path[:-1] * self.n + path[1:]
        at = np.searchsorted(self.keys, wanted)
        found = at < len(self.keys)
        if not found.all() or not np.array_equal(self.keys[at], wanted):
            msg = "no usable edge between consecutive nodes of the path"
            raise KeyError(msg)
        return np.asarray(self.edges[at])

    def __len__(self) -> int:
        return len(self.keys)


class ProfileGraph:
    """Travel times of one profile over a :class:`CompiledGraph`.

    Speeds come from the profile's table by road class, then OSM's access tags for the
    profile's mode (:mod:`geo.routing.access`): forbidden, opened, or pushed (dismount).
    Edges are indexed as in the compiled graph; where one-way rules do not bind (walking;
    bicycles on contraflow streets), each one-way edge gets a virtual reverse copy (index
    ``m + k``) so that every usable direction is an edge of its own.
    """

    #: whether searches run over edge states (turn costs) rather than nodes
    searches_states = False

    def __init__(self, graph: CompiledGraph, profile: TravelProfile) -> None:
        self.graph, self.profile = graph, profile
        m = len(graph.u)
        speed = _edge_speeds(profile, graph)
        rule = graph.access[:, MODES.index(profile.mode)]
        speed[(rule == ALLOWED) & (speed == 0)] = profile.allowed_kph  # a footway bikes may use
        speed[rule == DISMOUNT] = np.minimum(speed[rule == DISMOUNT], DISMOUNT_KPH)
        speed[rule == FORBIDDEN] = 0.0
        usable = speed > 0
        tt = np.full(m, np.inf)
        tt[usable] = graph.length[usable] / (speed[usable] / 3.6)
        tt[usable] += graph.signals[usable] * profile.signal_s  # the wait at traffic lights
        u, v, length = graph.u, graph.v, graph.length
        base = np.arange(m)
        #: the graph's edges copied the other way (a one-way street this profile may use both
        #: ways), numbered from ``m`` on
        self.reversed_copies = np.empty(0, dtype=np.int64)
        self.line_xy, self.line_index = graph.line_xy, graph.line_index
        contraflow = graph.contraflow if profile.mode == "bicycle" else np.zeros(m, dtype=bool)
        both_ways = np.logical_or(not profile.respect_oneway, contraflow)
        if np.any(graph.oneway & usable & both_ways):
            extra = np.flatnonzero(graph.oneway & usable & both_ways)
            u, v = np.concatenate([u, graph.v[extra]]), np.concatenate([v, graph.u[extra]])
            tt = np.concatenate([tt, tt[extra]])
            length = np.concatenate([length, length[extra]])
            base = np.concatenate([base, extra])
            self.reversed_copies = extra
            back_xy, back_index = _reversed_runs(graph.line_xy, graph.line_index, extra, m)
            self.line_xy = np.concatenate([graph.line_xy, back_xy])
            self.line_index = np.concatenate([graph.line_index, back_index])
        self.u, self.v, self.tt, self.length, self.base = u, v, tt, length, base
        self.usable = np.isfinite(tt)
        self.twin = self._twins()
        self.matrix, self.best_edge = self._csr()  # best_edge: a PairEdges
        # a point meets the road on a graph edge (a reverse copy is the same line, its twin)
        self.snap_usable = np.ascontiguousarray(self.usable[:m])

    #: the arrays a view is made of, by attribute (kept on disk: :func:`profile_view`)
    KEPT: tuple[str, ...] = (
        *("u", "v", "tt", "length", "base", "usable", "twin", "snap_usable", "reversed_copies"),
    )

    def kept_arrays(self) -> Arrays:
        """What this view is made of, by name (:meth:`from_kept` makes it again)."""
        arrays = {name: getattr(self, name) for name in self.KEPT}
        m = self.matrix
        arrays |= {"m_data": m.data, "m_indices": m.indices, "m_indptr": m.indptr}
        arrays |= {"pair_keys": self.best_edge.keys, "pair_edges": self.best_edge.edges}
        if len(self.reversed_copies):  # else the graph's own lines
            arrays |= {"line_xy": self.line_xy, "line_index": self.line_index}
        return arrays

    @classmethod
    def from_kept(
        cls, graph: CompiledGraph, profile: TravelProfile, arrays: Mapping[str, np.ndarray]
    ) -> Self:
        """The view :meth:`kept_arrays` described, over the same graph (arrays not copied)."""
        view = cls.__new__(cls)
        view.graph, view.profile = graph, profile
        for name in cls.KEPT:
            setattr(view, name, arrays[name])
        n = view.n_search
        view.matrix = csr_matrix(
            (arrays["m_data"], arrays["m_indices"], arrays["m_indptr"]), shape=(n, n), copy=False
        )
        view.best_edge = PairEdges(arrays["pair_keys"], arrays["pair_edges"], graph.n_nodes)
        view.line_xy = arrays.get("line_xy", graph.line_xy)
        view.line_index = arrays.get("line_index", graph.line_index)
        return view

    @functools.cached_property
    def geoms(self) -> np.ndarray:
        """Every edge's line (shapely, metric CRS), reverse copies included (made when asked)."""
        if len(self.reversed_copies) == 0:
            return self.graph.geoms
        graph = self.graph.geoms
        return np.concatenate([graph, shapely.reverse(graph[self.reversed_copies])])

    @property
    def grid(self) -> SegmentGrid:
        """The graph's road segments in cells, for snapping (one for all its views)."""
        found = self.graph.views_shared.get("segment_grid")
        if found is None:
            g = self.graph
            arrays = g.kept(
                set_name("grid"),
                lambda: SegmentGrid(g.line_xy, g.line_index, len(g.u)).kept_arrays(),
            )
            found = g.views_shared["segment_grid"] = SegmentGrid.from_kept(arrays)
        return found

    @property
    def n_search(self) -> int:
        """Nodes of the search graph (:attr:`matrix`): the road nodes here."""
        return self.graph.n_nodes

    @functools.cached_property
    def reversed_matrix(self) -> csr_matrix:
        """:attr:`matrix` with every arc turned round (searches towards a point)."""
        return self.matrix.T.tocsr()

    @property
    def search_xy(self) -> np.ndarray:
        """Where each search node is (metric)."""
        return self.graph.node_xy

    def start_times(self, times: np.ndarray) -> np.ndarray:
        """Seconds at each edge's start, from the seconds at every search node."""
        return np.asarray(times[self.u])

    def _twins(self) -> np.ndarray:
        """Index of the same road in the other direction (usable), or -1.

        The same road: from ``v`` to ``u`` with the same length (to the centimetre); where
        several match, the first usable one.
        """
        usable = np.flatnonzero(self.usable)
        n = self.graph.n_nodes
        length = np.round(self.length[usable], 2)
        ahead = pd.DataFrame({"a": self.u[usable] * n + self.v[usable], "l": length, "j": usable})
        ahead = ahead.drop_duplicates(["a", "l"], keep="first")
        back = pd.DataFrame({"a": self.v[usable] * n + self.u[usable], "l": length, "i": usable})
        found = back.merge(ahead, on=["a", "l"], how="inner")
        found = found[found["i"] != found["j"]]
        twin = np.full(len(self.u), -1, dtype=np.int64)
        twin[found["i"].to_numpy()] = found["j"].to_numpy()
        return twin

    def _csr(self) -> tuple[csr_matrix, PairEdges]:
        """CSR matrix of the fastest usable edge per (u, v); the edge index behind each entry."""
        idx = np.flatnonzero(self.usable)
        order = np.lexsort((self.tt[idx], self.v[idx], self.u[idx]))
        idx = idx[order]
        pair = self.u[idx] * self.graph.n_nodes + self.v[idx]
        first = np.ones(len(idx), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        idx = idx[first]
        n = self.graph.n_nodes
        # zero-time edges would vanish from a sparse matrix: give them a tiny positive cost
        weights = np.maximum(self.tt[idx], 1e-9)
        matrix = csr_matrix((weights, (self.u[idx], self.v[idx])), shape=(n, n))
        return matrix, PairEdges(pair[first], idx.astype(np.int64), n)

    def reversed_with_targets(self, snaps: Sequence[Snap]) -> csr_matrix:
        """The reversed graph with each target a virtual node (``n + i`` for ``snaps[i]``).

        A search from a target's virtual node gives the time from every node to it, and the
        predecessor tree of that search the next hop on the way.
        """
        n, s = self.n_search, len(snaps)
        src, dst, cost = [], [], []
        for i, snap in enumerate(snaps):
            for node, c in self.exits(snap):
                src.append(node)
                dst.append(n + i)
                cost.append(max(c, 1e-9))
        base = self.matrix.tocoo()
        aug = csr_matrix(
            (
                np.concatenate([base.data, cost]),
                (np.concatenate([base.row, src]), np.concatenate([base.col, dst])),
            ),
            shape=(n + s, n + s),
        )
        return aug.T.tocsr()

    def snap(self, x: float, y: float, *, max_distance_m: float) -> Snap:
        """Place a metric point on the nearest edge usable by this profile.

        Ties go to the lower edge number; within half a metre of a node the point is at the
        node (free to leave by any of its edges).

        Raises
        ------
        ValidationError
            When no usable road lies within ``max_distance_m``.
        """
        edge, distance, along, xy = self.grid.nearest_one(
            x, y, self.snap_usable, max_distance_m=max_distance_m
        )
        if edge < 0:
            msg = (
                f"no road usable by {self.profile.name} within {max_distance_m:.0f} m of this point"
            )
            raise ValidationError(msg)
        total = float(self.grid.edge_length[edge]) or 1.0
        if along < NODE_TOLERANCE_M or total - along < NODE_TOLERANCE_M:  # at the node
            along = 0.0 if along < NODE_TOLERANCE_M else total
            node = self.u[edge] if along == 0.0 else self.v[edge]
            xy = (float(self.graph.node_xy[node, 0]), float(self.graph.node_xy[node, 1]))
        return Snap(edge, min(max(along / total, 0.0), 1.0), distance, xy)

    def snap_many(self, xy: np.ndarray, *, max_distance_m: float) -> SnapArrays:
        """Snap many metric points at once (points farther than the limit get edge -1)."""
        found = self.grid.nearest(xy, self.snap_usable, max_distance_m=max_distance_m)
        edge, ok = found.edge, found.edge >= 0
        total = np.maximum(self.grid.edge_length[np.maximum(edge, 0)], 1e-9)
        along = np.where(found.along_m < NODE_TOLERANCE_M, 0.0, found.along_m)
        along = np.where(total - along < NODE_TOLERANCE_M, total, along)
        fraction = np.where(ok, np.clip(along / total, 0.0, 1.0), 0.0)
        return SnapArrays(edge, fraction, found.distance_m)

    def entry_arrays(self, snaps: SnapArrays) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`entries`: ``(points, ways)`` nodes and times (inf: no way)."""
        e, f = np.maximum(snaps.edge, 0), snaps.fraction
        ok = snaps.edge >= 0
        cost_a = np.where(ok, (1.0 - f) * self.tt[e], np.inf)
        twin = self.twin[e]
        cost_b = np.where(twin >= 0, f * self.tt[np.maximum(twin, 0)], np.inf)
        cost_b = np.where(ok & (f <= 0.0), 0.0, np.where(ok, cost_b, np.inf))
        return np.column_stack([self.v[e], self.u[e]]), np.column_stack([cost_a, cost_b])

    def exit_arrays(self, snaps: SnapArrays) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`exits`: ``(points, ways)`` nodes and times (inf: no way)."""
        e, f = np.maximum(snaps.edge, 0), snaps.fraction
        ok = snaps.edge >= 0
        cost_a = np.where(ok, f * self.tt[e], np.inf)
        twin = self.twin[e]
        cost_b = np.where(twin >= 0, (1.0 - f) * self.tt[np.maximum(twin, 0)], np.inf)
        cost_b = np.where(ok & (f >= 1.0), 0.0, np.where(ok, cost_b, np.inf))
        return np.column_stack([self.u[e], self.v[e]]), np.column_stack([cost_a, cost_b])

    def entries(self, snap: Snap) -> list[tuple[int, float]]:
        """Nodes reachable directly from a snapped point, with the travel time to each.

        A point that snaps onto a node (fraction 0 or 1) is at that node: it may leave by any
        of its edges, not only the one it snapped to.
        """
        e = snap.edge
        out = self._at_node(snap)
        if self.usable[e]:
            out.append((int(self.v[e]), (1.0 - snap.fraction) * float(self.tt[e])))
        t = int(self.twin[e])
        if t >= 0:
            out.append((int(self.u[e]), snap.fraction * float(self.tt[t])))
        return out

    def exits(self, snap: Snap) -> list[tuple[int, float]]:
        """Nodes from which a snapped point is reached directly, with the travel time from each."""
        e = snap.edge
        out = self._at_node(snap)
        if self.usable[e]:
            out.append((int(self.u[e]), snap.fraction * float(self.tt[e])))
        t = int(self.twin[e])
        if t >= 0:
            out.append((int(self.v[e]), (1.0 - snap.fraction) * float(self.tt[t])))
        return out

    def _at_node(self, snap: Snap) -> list[tuple[int, float]]:
        if snap.fraction <= 0.0:
            return [(int(self.u[snap.edge]), 0.0)]
        if snap.fraction >= 1.0:
            return [(int(self.v[snap.edge]), 0.0)]
        return []

    def same_edge_time(self, a: Snap, b: Snap) -> float:
        """Travel time from ``a`` to ``b`` along their shared edge without leaving it (or inf)."""
        if a.edge == b.edge:
            fa, fb = a.fraction, b.fraction
        elif int(self.twin[a.edge]) == b.edge:
            fa, fb = a.fraction, 1.0 - b.fraction
        else:
            return float("inf")
        e = a.edge
        if fb >= fa:
            return (fb - fa) * float(self.tt[e]) if self.usable[e] else float("inf")
        t = int(self.twin[e])
        return (fa - fb) * float(self.tt[t]) if t >= 0 else float("inf")

    @functools.cached_property
    def draw_coords(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every edge's WGS-84 coordinates in one array, where each run starts, and distances.

        The third array holds each coordinate's distance (metres, in the metric CRS) from the
        start of its edge. Routes are drawn straight in WGS-84: no answer projects its lines.
        A view with no reverse copies shares its graph's (made once for all such views).
        """
        lines = (self.line_xy, self.line_index, len(self.u))
        shared = len(self.reversed_copies) == 0
        found = self.graph.views_shared.get("edge_coords") if shared else None
        if found is None:
            kind = "edge-coords" if shared else f"edge-coords-{self.profile.name}"
            name = set_name(kind) if shared else set_name(kind, self.profile.key)

            def make() -> Arrays:
                return dict(zip(_COORDS, edge_coords(self.graph, *lines), strict=True))

            arrays = self.graph.kept(name, make)
            found = (arrays["lonlat"], arrays["offsets"], arrays["along"])
            if shared:
                self.graph.views_shared["edge_coords"] = found
        return found

    def snap_lonlat(self, snap: Snap) -> tuple[float, float]:
        """Where a snap met the road, in WGS-84, read off the drawn edge (a route's first point)."""
        lon, lat = points_on(self.draw_coords, np.array([snap.edge]), np.array([snap.fraction]))[0]
        return float(lon), float(lat)

    def path_pieces(self, start: Snap, path: Sequence[int] | np.ndarray, end: Snap) -> RoutePieces:
        """What a route is made of: start snap, the search's path (nodes or states), end snap."""
        keys, edges, n = self.best_edge.keys, self.best_edge.edges, self.best_edge.n
        return RoutePieces(
            *path_pieces(
                np.asarray(path, dtype=np.int64),
                self.searches_states,
                keys,
                edges,
                n,
                start.edge,
                start.fraction,
                end.edge,
                end.fraction,
                self.u,
                self.v,
                self.usable,
                self.length,
            )
        )

    def direct_pieces(self, start: Snap, end: Snap) -> RoutePieces:
        """What a route that stays on the edge ``start`` and ``end`` share is made of."""
        return RoutePieces(
            *direct_pieces(start.edge, start.fraction, end.edge, end.fraction, self.length)
        )

    def draw(self, pieces: RoutePieces, ends: tuple[tuple[float, float], ...]) -> np.ndarray:
        """A route's WGS-84 coordinates from its pieces and its two ends (WGS-84)."""
        head, edges, tail = pieces.head, pieces.edges, pieces.tail
        return stitch(self.draw_coords, ends[0], head, edges, tail, ends[-1])

    def draw_batch(self, start: tuple[float, float], batch: RouteBatch) -> list[np.ndarray]:
        """Several routes from one start (WGS-84), as the compiled lookup found them, in one call.

        The same lines as :meth:`draw` gives one by one (a rider's three routes).
        """
        return stitch_many(self.draw_coords, start, *batch)
