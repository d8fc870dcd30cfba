"""Turn costs and turn restrictions: an edge-based search graph for one profile.

A node-based graph cannot tell a left turn from going straight on: the cost of passing a
node depends on the edge one arrives by. So for profiles with :class:`geo.profiles.TurnCosts`
the search runs over *states* — state ``e`` is "arrived at the end of edge ``e``" (one per
edge of the profile graph, the same index) — joined by the turns allowed between them:
from ``x`` to ``e`` where ``e`` leaves the node ``x`` arrives at, costing the turn plus the
time along ``e``. A banned turn (OSM ``type=restriction``, :mod:`geo.routing.restrictions`)
is simply not an arc. Everything built on the search graph — station fields, labels, tables,
isochrones — works unchanged on states; only the ways in and out of a snapped point differ:

* from a point part-way along edge ``e``: the states ``e`` (ahead) and its twin (behind);
* to a point part-way along ``e``: every state arriving where ``e`` starts, with the turn
  into ``e`` (and the same for the twin);
* a point on a node: arriving there by any edge (0 s), or leaving by any edge without a
  turn cost (one standing at a corner has not turned yet).

States are about 3.6 times as many as nodes on the sample (the price of exact turns in
memory and search time; ``benchmarks/bench_nearest.py`` prints it).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from geo.routing.access import MODES
from geo.routing.compiled import Snap, SnapArrays
from geo.routing.profile_graph import PairEdges, ProfileGraph, pad_ways


def _csr_index(keys: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``values`` grouped by ``keys`` (0..size-1): a pointer array and the values in order."""
    order = np.argsort(keys, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(keys, minlength=size))
    return ptr, values[order]


def _gather(ptr: np.ndarray, items: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The items of each group in ``at``, padded: ``(len(at), widest)`` positions and a mask."""
    start, count = ptr[at], ptr[at + 1] - ptr[at]
    width = max(int(count.max(initial=0)), 1)
    col = np.arange(width)
    valid = col[None, :] < count[:, None]
    pos = np.where(valid, start[:, None] + col[None, :], 0)
    if len(items) == 0:
        return np.zeros_like(pos), valid
    return np.where(valid, items[np.minimum(pos, len(items) - 1)], 0), valid


class TurnProfileGraph(ProfileGraph):
    """A :class:`ProfileGraph` searched over edge states, with turn costs and restrictions."""

    searches_states = True
    #: the turns' arrays besides a plain view's (see :meth:`ProfileGraph.kept_arrays`)
    KEPT = (
        *ProfileGraph.KEPT,
        *("out_ptr", "out_edges", "in_ptr", "in_edges", "into_ptr", "into_from", "into_turn"),
    )

    def _csr(self) -> tuple[csr_matrix, PairEdges]:
        """The search graph over edge states (no node pairs: routes are their states)."""
        n, m = self.graph.n_nodes, len(self.u)
        usable = np.flatnonzero(self.usable)
        self.out_ptr, self.out_edges = _csr_index(self.u[usable], usable, n)
        self.in_ptr, self.in_edges = _csr_index(self.v[usable], usable, n)
        frm, valid = _gather(self.out_ptr, self.out_edges, self.v[usable])
        arrive = np.repeat(usable, valid.sum(axis=1))
        leave = frm[valid]
        keep = ~self._banned(arrive, leave)
        arrive, leave = arrive[keep], leave[keep]
        turn_s = self._turn_seconds(arrive, leave)
        #: the turns allowed, grouped by the edge turned into: arriving state and seconds
        self.into_ptr, order = _csr_index(leave, np.arange(len(leave)), m)
        self.into_from, self.into_turn = arrive[order], turn_s[order]
        cost = np.maximum(turn_s + self.tt[leave], 1e-9)
        return csr_matrix((cost, (arrive, leave)), shape=(m, m)), PairEdges.none(n)

    @property
    def n_search(self) -> int:
        """Search nodes: one state per edge."""
        return len(self.u)

    @functools.cached_property
    def search_xy(self) -> np.ndarray:
        """Where each state is: the end of its edge (metric)."""
        return np.asarray(self.graph.node_xy[self.v])

    def start_times(self, times: np.ndarray) -> np.ndarray:
        """Seconds at which each edge's start is passed on the way into it."""
        return np.where(self.usable, times - np.where(self.usable, self.tt, 0.0), np.inf)

    def _banned(self, arrive: np.ndarray, leave: np.ndarray) -> np.ndarray:
        """Which turns OSM's restrictions forbid this profile's mode."""
        turns, g = self.profile.turns, self.graph
        bans = g.turn_bans[g.turn_ban_modes[:, MODES.index(self.profile.mode)]]
        if turns is None or not turns.restrictions or len(bans) == 0:
            return np.zeros(len(arrive), dtype=bool)
        # a ban names compiled edges in their own direction: arriving at the via node
        turn = pd.DataFrame({"x": self.base[arrive], "e": self.base[leave], "via": self.v[arrive]})
        ban = pd.DataFrame({"x": bans[:, 0], "e": bans[:, 1], "via": g.v[bans[:, 0]]})
        hit = turn.reset_index().merge(ban.drop_duplicates(), on=["x", "e", "via"])["index"]
        banned = np.zeros(len(arrive), dtype=bool)
        banned[hit.to_numpy()] = True
        return banned

    def _turn_seconds(self, arrive: np.ndarray, leave: np.ndarray) -> np.ndarray:
        """The profile's cost of each turn: by angle where three or more roads meet."""
        turns = self.profile.turns
        assert turns is not None
        xy, index = self.line_xy, self.line_index
        first = np.searchsorted(index, np.arange(len(self.u)))
        last = np.searchsorted(index, np.arange(len(self.u)), side="right") - 1
        heading_out = xy[np.minimum(first + 1, last)] - xy[first]
        heading_in = xy[last] - xy[np.maximum(last - 1, first)]
        a, b = heading_in[arrive], heading_out[leave]
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        dot = (a * b).sum(axis=1)
        angle = -np.degrees(np.arctan2(cross, dot))  # + to the right
        u_turn = self.twin[arrive] == leave
        seconds = turns.seconds(angle, u_turn)
        usable = self.usable
        ends = np.concatenate([self.u[usable], self.v[usable]])
        other = np.concatenate([self.v[usable], self.u[usable]])
        roads = pd.DataFrame({"a": ends, "b": other}).drop_duplicates().groupby("a").size()
        count = np.zeros(self.graph.n_nodes, dtype=np.int64)
        count[roads.index.to_numpy()] = roads.to_numpy()
        crossing = (count[self.v[arrive]] > 2) | u_turn
        return np.where(crossing, seconds, 0.0)

    # -- ways in and out of snapped points ---------------------------------------------------

    def _node_of(self, snap: Snap) -> int | None:
        if snap.fraction <= 0.0:
            return int(self.u[snap.edge])
        if snap.fraction >= 1.0:
            return int(self.v[snap.edge])
        return None

    def entries(self, snap: Snap) -> list[tuple[int, float]]:
        """States reached from a snapped point first, with the time to each."""
        e, f = snap.edge, snap.fraction
        node = self._node_of(snap)
        if node is not None:
            into = self.in_edges[self.in_ptr[node] : self.in_ptr[node + 1]]
            leave = self.out_edges[self.out_ptr[node] : self.out_ptr[node + 1]]
            return [(int(x), 0.0) for x in into] + [(int(x), float(self.tt[x])) for x in leave]
        out = [(e, (1.0 - f) * float(self.tt[e]))] if self.usable[e] else []
        t = int(self.twin[e])
        return out + ([(t, f * float(self.tt[t]))] if t >= 0 else [])

    def exits(self, snap: Snap) -> list[tuple[int, float]]:
        """States from which a snapped point is reached, with the time from each."""
        e, f = snap.edge, snap.fraction
        node = self._node_of(snap)
        if node is not None:
            return [(int(x), 0.0) for x in self.in_edges[self.in_ptr[node] : self.in_ptr[node + 1]]]
        out: list[tuple[int, float]] = []
        for edge, share in ((e, f), (int(self.twin[e]), 1.0 - f)):
            if edge < 0 or not self.usable[edge]:
                continue
            lo, hi = self.into_ptr[edge], self.into_ptr[edge + 1]
            out += [
                (int(x), float(t) + share * float(self.tt[edge]))
                for x, t in zip(self.into_from[lo:hi], self.into_turn[lo:hi], strict=True)
            ]
        return out

    def entry_arrays(self, snaps: SnapArrays) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`entries`: ``(points, ways)`` states and times (inf: none)."""
        e, f, ok = np.maximum(snaps.edge, 0), snaps.fraction, snaps.edge >= 0
        mid = ok & (f > 0.0) & (f < 1.0)
        twin = self.twin[e]
        ahead = np.where(mid & self.usable[e], (1.0 - f) * self.tt[e], np.inf)
        behind = np.where(mid & (twin >= 0), f * self.tt[np.maximum(twin, 0)], np.inf)
        blocks = [(e[:, None], ahead[:, None]), (np.maximum(twin, 0)[:, None], behind[:, None])]
        node = np.where(f <= 0.0, self.u[e], self.v[e])
        into, valid_in = _gather(self.in_ptr, self.in_edges, node)
        leave, valid_out = _gather(self.out_ptr, self.out_edges, node)
        at_node = (ok & ~mid)[:, None]
        blocks.append((into, np.where(at_node & valid_in, 0.0, np.inf)))
        blocks.append((leave, np.where(at_node & valid_out, self.tt[leave], np.inf)))
        return pad_ways(blocks)

    def exit_arrays(self, snaps: SnapArrays) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`exits`: ``(points, ways)`` states and times (inf: none)."""
        e, f, ok = np.maximum(snaps.edge, 0), snaps.fraction, snaps.edge >= 0
        mid = ok & (f > 0.0) & (f < 1.0)
        blocks = []
        for edge, share in ((e, f), (self.twin[e], 1.0 - f)):
            usable = (edge >= 0) & self.usable[np.maximum(edge, 0)] & mid
            edge = np.maximum(edge, 0)
            pos, valid = _gather(self.into_ptr, np.arange(len(self.into_from)), edge)
            cost = self.into_turn[pos] + (share * self.tt[edge])[:, None]
            blocks.append((self.into_from[pos], np.where(valid & usable[:, None], cost, np.inf)))
        node = np.where(f <= 0.0, self.u[e], self.v[e])
        into, valid_in = _gather(self.in_ptr, self.in_edges, node)
        blocks.append((into, np.where((ok & ~mid)[:, None] & valid_in, 0.0, np.inf)))
        return pad_ways(blocks)
