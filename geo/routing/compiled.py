"""The road graph compiled into arrays for fast search.

``CompiledGraph.from_graph(G)`` reads an osmnx graph once: node coordinates, and per edge its
end nodes, length, classes, tagged speed and geometry (in the metric CRS). It is kept as a
folder of ``.npy`` files and mapped by every later process (:meth:`CompiledGraph.load`), with
what each profile derives from it beside it (:mod:`geo.routing.kept`): the travel-time views
(:mod:`geo.routing.profile_graph`), the roads' grid for snapping, the drawing coordinates.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import shapely
from pyproj import Transformer

from geo.coords import utm_crs
from geo.profiles import TravelProfile
from geo.routing.access import MODES, UNKNOWN, access_arrays
from geo.routing.kept import Arrays, kept_arrays, map_arrays, write_arrays
from geo.routing.restrictions import banned_turns

if TYPE_CHECKING:
    import networkx as nx

NODE_TOLERANCE_M = 0.5


class Snap(NamedTuple):
    """A point placed on its nearest usable edge.

    ``edge`` is the edge index, ``fraction`` how far along it (0 at ``u``, 1 at ``v``),
    ``distance_m`` from the point to the road, ``xy`` the snapped point (metric). A named
    tuple: every rider's answer makes one.
    """

    edge: int
    fraction: float
    distance_m: float
    xy: tuple[float, float]


@dataclass(frozen=True)
class SnapArrays:
    """Many snaps at once: edge index (-1: no road in reach), fraction, distance (m)."""

    edge: np.ndarray
    fraction: np.ndarray
    distance_m: np.ndarray


class CompiledGraph:
    """Profile-independent arrays of an osmnx graph (nodes, edges, geometries)."""

    def __init__(
        self,
        node_ids: np.ndarray,
        node_xy: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        length: np.ndarray,
        highway: list[str | list[str]] | None,
        tagged_kph: np.ndarray,
        oneway: np.ndarray,
        geoms: np.ndarray | None,
        *,
        crs: str,
        lines: tuple[np.ndarray, np.ndarray] | None = None,
        synthetic: bool = False,
        access: np.ndarray | None = None,
        contraflow: np.ndarray | None = None,
        signals: np.ndarray | None = None,
        turn_bans: np.ndarray | None = None,
        turn_ban_modes: np.ndarray | None = None,
        restrictions_unmatched: int = 0,
    ) -> None:
        self.node_ids, self.node_xy = node_ids, node_xy
        self.u, self.v, self.length = u, v, length
        if highway is not None:  # else made when asked, from the codes (a loaded graph)
            self.highway = highway
        self.tagged_kph, self.oneway = tagged_kph, oneway
        m = len(u)
        if geoms is not None:
            self.__dict__["geoms"] = geoms
            lines = shapely.get_coordinates(geoms, return_index=True)
        if lines is None:
            msg = "a compiled graph needs its edges' lines or their coordinates"
            raise ValueError(msg)
        #: every edge's coordinates (metric) in one array, and the edge each belongs to
        self.line_xy, self.line_index = lines
        #: access by mode (:data:`geo.routing.access.MODES`), from the edges' OSM tags
        self.access = (
            access if access is not None else np.full((m, len(MODES)), UNKNOWN, dtype=np.int8)
        )
        #: one-way edges bicycles may ride both ways
        self.contraflow = contraflow if contraflow is not None else np.zeros(m, dtype=bool)
        #: traffic signals each edge passes (``highway=traffic_signals`` nodes, its end included)
        self.signals = signals if signals is not None else np.zeros(m, dtype=np.int16)
        #: OSM turn restrictions as banned (arriving edge, leaving edge) pairs, and whom they bind
        self.turn_bans = turn_bans if turn_bans is not None else np.empty((0, 2), dtype=np.int64)
        self.turn_ban_modes = (
            turn_ban_modes if turn_ban_modes is not None else np.empty((0, len(MODES)), dtype=bool)
        )
        self.restrictions_unmatched = restrictions_unmatched
        self.crs = crs
        self.synthetic = synthetic
        self._local = threading.local()  # pyproj transformers are not shared between threads
        #: the travel-time views made of it (:class:`~geo.routing.profile_graph.ProfileGraph`),
        #: by profile (:func:`geo.routing.views.profile_view`)
        self.views: dict[tuple[object, ...], Any] = {}
        #: the same views by the profile object asking (its id, kept with the object itself)
        self.view_of: dict[int, tuple[TravelProfile, Any]] = {}
        #: what several views share, made once (e.g. the edges' drawing coordinates)
        self.views_shared: dict[str, Any] = {}
        #: names the compiled file this graph was read from (None: built here, not kept)
        self.fingerprint: str | None = None
        #: where the arrays derived from it are kept (None: built in memory each time)
        self.keep_dir: Path | None = None

    @property
    def to_wgs84(self) -> Transformer:
        """Transformer from the graph's metric CRS to WGS-84 (one per thread)."""
        if not hasattr(self._local, "to_wgs84"):
            self._local.to_wgs84 = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        t: Transformer = self._local.to_wgs84
        return t

    @property
    def from_wgs84(self) -> Transformer:
        """Transformer from WGS-84 to the graph's metric CRS (one per thread)."""
        if not hasattr(self._local, "from_wgs84"):
            self._local.from_wgs84 = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
        t: Transformer = self._local.from_wgs84
        return t

    @functools.cached_property
    def highway(self) -> list[str | list[str]]:
        """Each edge's road class (osmnx's ``highway``: a list where it merged several)."""
        codes, classes = self.highway_codes()
        return [classes[c] for c in codes.tolist()]

    def highway_codes(self) -> tuple[np.ndarray, list[str | list[str]]]:
        """Each edge's road class as a code into the graph's distinct classes (made once)."""
        found = self.__dict__.get("_highway_codes")
        if found is None:
            index: dict[Any, int] = {}
            classes: list[str | list[str]] = []
            codes = np.empty(len(self.highway), dtype=np.int64)
            for i, h in enumerate(self.highway):
                key = h if isinstance(h, str) else tuple(h)
                code = index.get(key)
                if code is None:
                    code = index[key] = len(classes)
                    classes.append(h if isinstance(h, str) else list(h))
                codes[i] = code
            found = self.__dict__["_highway_codes"] = (codes, classes)
        return found

    @property
    def says_of_trucks(self) -> bool:
        """Whether the extract tells trucks apart from cars anywhere.

        (``hgv`` access, posted weight, height or length limits, turn restrictions binding
        one and not the other.)
        """
        hgv, motor = MODES.index("hgv"), MODES.index("motor")
        return bool(
            np.any(self.access[:, hgv] != self.access[:, motor])
            or np.any(self.turn_ban_modes[:, hgv] != self.turn_ban_modes[:, motor])
        )

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @classmethod
    def from_graph(cls, G: nx.MultiDiGraph, *, crs: str | None = None) -> CompiledGraph:
        """Compile an osmnx graph in WGS-84 (``x``/``y`` node attributes).

        ``crs`` is the metric CRS to measure in (default: the UTM zone of the graph's middle).
        """
        node_ids = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
        index = {int(n): i for i, n in enumerate(node_ids)}
        lon = np.array([G.nodes[n]["x"] for n in node_ids], dtype=float)
        lat = np.array([G.nodes[n]["y"] for n in node_ids], dtype=float)
        crs = crs or utm_crs(float(np.median(lon)), float(np.median(lat)))
        fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        node_xy = np.column_stack(fwd.transform(lon, lat))
        m = G.number_of_edges()
        u, v = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
        length, kph = np.empty(m), np.empty(m)
        oneway = np.zeros(m, dtype=bool)
        signals = np.zeros(m, dtype=np.int16)
        highway: list[str | list[str]] = []
        coords: list[np.ndarray] = []
        tags: list[dict[str, Any]] = []
        ways: list[frozenset[int]] = []
        for i, (a, b, d) in enumerate(G.edges(data=True)):
            tags.append(d)
            osmid = d.get("osmid", ())
            ways.append(frozenset(osmid if isinstance(osmid, list) else [osmid]))
            u[i], v[i] = index[a], index[b]
            length[i] = float(d.get("length", 0.0))
            kph[i] = float(d.get("speed_kph", 0.0) or 0.0)
            oneway[i] = bool(d.get("oneway", False))
            signals[i] = int(d.get("signals", 0) or 0)
            highway.append(d.get("highway", "road"))
            geom = d.get("geometry")
            if geom is None:
                coords.append(np.array([[lon[u[i]], lat[u[i]]], [lon[v[i]], lat[v[i]]]]))
            else:
                coords.append(np.asarray(geom.coords))
        counts = np.array([len(c) for c in coords])
        flat = np.vstack(coords)
        x, y = fwd.transform(flat[:, 0], flat[:, 1])
        geoms: np.ndarray = np.asarray(
            shapely.linestrings(np.column_stack([x, y]), indices=np.repeat(np.arange(m), counts)),
            dtype=object,
        )
        length = np.where(length > 0, length, shapely.length(geoms))
        access, contraflow = access_arrays(tags)
        bans, ban_modes, unmatched = banned_turns(
            G.graph.get("restrictions", ()), index, u, v, ways
        )
        return cls(
            node_ids,
            node_xy,
            u,
            v,
            length,
            highway,
            kph,
            oneway,
            geoms,
            crs=crs,
            synthetic=bool(G.graph.get("synthetic", False)),
            access=access,
            contraflow=contraflow,
            signals=signals,
            turn_bans=bans,
            turn_ban_modes=ban_modes,
            restrictions_unmatched=unmatched,
        )

    @functools.cached_property
    def geoms(self) -> np.ndarray:
        """Every edge's line (shapely, metric CRS), made from the coordinates when asked for.

        Nothing the service runs needs them — snapping, drawing, turns and isochrones read the
        coordinates (some 60 MB less a process on the sample) — but they are at hand for a
        benchmark or a check that wants shapely's lines.
        """
        lines = shapely.linestrings(self.line_xy, indices=self.line_index)
        return np.asarray(lines, dtype=object)

    def arrays(self) -> Arrays:
        """Everything the graph is made of, by name (:meth:`from_arrays` makes it again)."""
        codes, classes = self.highway_codes()
        meta = {"synthetic": self.synthetic, "restrictions_unmatched": self.restrictions_unmatched}
        return {
            "node_ids": self.node_ids,
            "node_xy": self.node_xy,
            "u": self.u,
            "v": self.v,
            "length": self.length,
            "highway_codes": codes,
            # a class as it is; several (osmnx merged them) as a JSON list
            "highway_classes": np.array(
                [h if isinstance(h, str) else json.dumps(h, ensure_ascii=False) for h in classes]
                or [""]
            ),
            "tagged_kph": self.tagged_kph,
            "oneway": self.oneway,
            "line_xy": self.line_xy,
            "line_index": self.line_index,
            "access": self.access,
            "contraflow": self.contraflow,
            "signals": self.signals,
            "turn_bans": self.turn_bans,
            "turn_ban_modes": self.turn_ban_modes,
            "meta": np.array([self.crs, json.dumps(meta)]),
        }

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> CompiledGraph:
        """The graph :meth:`arrays` described (the arrays are used as they are, not copied)."""
        crs, text = (str(x) for x in arrays["meta"])
        meta = json.loads(text)
        classes: list[str | list[str]] = [
            json.loads(h) if h.startswith("[") else str(h) for h in arrays["highway_classes"]
        ]
        graph = cls(
            arrays["node_ids"],
            arrays["node_xy"],
            arrays["u"],
            arrays["v"],
            arrays["length"],
            None,
            arrays["tagged_kph"],
            arrays["oneway"],
            None,
            crs=crs,
            lines=(arrays["line_xy"], arrays["line_index"]),
            synthetic=bool(meta["synthetic"]),
            access=arrays["access"],
            contraflow=arrays["contraflow"],
            signals=arrays["signals"],
            turn_bans=arrays["turn_bans"],
            turn_ban_modes=arrays["turn_ban_modes"],
            restrictions_unmatched=int(meta["restrictions_unmatched"]),
        )
        graph.__dict__["_highway_codes"] = (arrays["highway_codes"], classes)
        return graph

    def save(self, folder: Path) -> Path:
        """Write the arrays as a folder of ``.npy`` files, mapped back by :meth:`load`."""
        write_arrays(folder, self.arrays())
        return folder

    @classmethod
    def load(cls, folder: Path) -> CompiledGraph:
        """A graph written by :meth:`save`, its arrays mapped from the files (kept: see below).

        The graph's derived arrays (its views, grid and drawing coordinates) are kept beside
        it (:mod:`geo.routing.kept`): the first process builds them, later ones map them.
        """
        arrays = map_arrays(folder)
        if arrays is None:
            msg = f"no compiled graph in {folder}"
            raise FileNotFoundError(msg)
        graph = cls.from_arrays(arrays)
        graph.keep_dir = folder / "derived"
        return graph

    def release(self) -> None:
        """Forget the views and what they share: they are made (or mapped) again when asked.

        A view holds its graph and the graph its views: a cycle, which the collector never
        breaks once :func:`gc.freeze` has put it aside (as a server does after loading). A
        platform that closes releases its graph, so that once nothing else holds it, it is
        freed at once and its files unmapped (their descriptors closed).
        """
        self.views.clear()
        self.view_of.clear()
        self.views_shared.clear()

    def kept(self, name: str, make: Callable[[], Arrays]) -> Arrays:
        """Arrays derived from this graph: mapped when kept beside it, else built by ``make``."""
        return kept_arrays(self.keep_dir / name if self.keep_dir else None, make)

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        """Project a WGS-84 point to the graph's metric CRS."""
        x, y = self.from_wgs84.transform(lon, lat)
        return float(x), float(y)


def line_runs(index: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``edges``' coordinates start and how many there are.

    ``index`` is each coordinate's edge, in edge order (:attr:`CompiledGraph.line_index`).
    """
    starts = np.searchsorted(index, edges)
    return starts, np.searchsorted(index, edges, side="right") - starts


def places_in_runs(counts: np.ndarray) -> np.ndarray:
    """For runs of ``counts`` items laid end to end, each item's place in its own run."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
