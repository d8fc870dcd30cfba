"""A synthetic but plausible road network over the real city outline, written as OSM XML.

No OpenStreetMap extract of Jiangmen can be had offline, so the sample generates its roads.
They are **not** OpenStreetMap data: the XML says so in its ``generator`` attribute and in a
``source`` tag on every way, and the loader carries that into the graph.

Design: one jittered square lattice (``spacing_m``, 150 m) over the city in EPSG:32649.
Coarse cells of ``block`` x ``block`` lattice squares (1.2 km) are *urban* where the town
populations, spread around their seats, are densest: there every lattice edge is a street
(a few dropped to vary the blocks, a few one-way, some cycle- or footways). Elsewhere only the
coarse lines are roads (rural ``unclassified`` roads, some segments missing). On top:

* straight-ish links between neighbouring town seats (Delaunay), rasterised onto the lattice
  with Bresenham's line so every crossing is a junction: ``secondary`` between towns,
  ``primary`` when one end is a district seat, ``trunk`` between district seats;
* grade-separated ``motorway`` (expressways) between district seats with their own nodes,
  joined to the streets only at interchanges (``motorway_link``) every ~6 km.

Only the largest connected part is kept (islands without a bridge have no roads).
"""

from __future__ import annotations

import bz2
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import shapely
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry.base import BaseGeometry

GENERATOR = "yizhan synthetic road generator - NOT OpenStreetMap data"
SOURCE_TAG = "yizhan:synthetic"

#: Road classes by rank; a link upgrading a lattice edge keeps the higher rank.
CLASSES = (
    "footway",
    "cycleway",
    "residential",
    "unclassified",
    "tertiary",
    "secondary",
    "primary",
    "trunk",
    "motorway_link",
    "motorway",
)
RANK = {name: i for i, name in enumerate(CLASSES)}
MAXSPEED = {
    "residential": 30,
    "unclassified": 40,
    "tertiary": 40,
    "secondary": 50,
    "primary": 60,
    "trunk": 80,
    "motorway_link": 40,
    "motorway": 100,
}
LANES = {"tertiary": 2, "secondary": 4, "primary": 4, "trunk": 6, "motorway": 6, "motorway_link": 1}


@dataclass(frozen=True)
class RoadNetwork:
    """Nodes (metric coordinates) and ways (node index lists with OSM tags)."""

    xy: np.ndarray
    ways: list[tuple[list[int], dict[str, str]]]

    @property
    def n_nodes(self) -> int:
        """Number of nodes referenced by ways."""
        return len(self.xy)


def generate_road_network(
    boundary: BaseGeometry,
    seats: np.ndarray,
    population: np.ndarray,
    district_seat: np.ndarray,
    *,
    rng: np.random.Generator,
    spacing_m: float = 150.0,
    block: int = 8,
    urban_cells: int = 900,
) -> RoadNetwork:
    """Generate the road network (metric CRS in and out).

    Parameters
    ----------
    boundary
        The city outline in a metric CRS; roads stay inside it (motorways may bridge water).
    seats, population, district_seat
        Town seats ``(n, 2)``, their populations, and which of them are district seats.
    rng
        Source of randomness.
    spacing_m, block, urban_cells
        Lattice spacing, lattice squares per coarse cell side, and how many coarse cells are
        urban (the densest by population).

    Returns
    -------
    RoadNetwork
        Node coordinates and ways with ``highway``, ``maxspeed``, ``oneway``, ``lanes``,
        ``name`` and ``source`` tags.
    """
    lat = _Lattice(boundary, spacing_m, block, rng)
    urban = lat.urban_cells(seats, population, urban_cells)
    edges = lat.street_edges(urban, rng)
    for a, b, cls, name in _town_links(seats, district_seat):
        edges.upgrade_path(lat.raster_line(lat.index_of(a), lat.index_of(b)), cls, name)
    xy, ways = edges.to_ways(lat)
    xy, ways = _add_motorways(xy, ways, seats[district_seat], rng)
    return _largest_component(xy, ways)


class _Edges:
    """Lattice edges keyed by node pair, with class rank, one-way flag and name."""

    def __init__(self) -> None:
        self.rank: dict[tuple[int, int], int] = {}
        self.oneway: dict[tuple[int, int], bool] = {}
        self.name: dict[tuple[int, int], str] = {}

    def add(self, u: int, v: int, rank: int, oneway: bool = False) -> None:
        self.rank[(u, v)] = rank
        self.oneway[(u, v)] = oneway

    def upgrade_path(self, nodes: list[int], cls: str, name: str) -> None:
        for u, v in itertools.pairwise(nodes):
            key = (u, v) if (u, v) in self.rank else (v, u)
            if key in self.rank and self.rank[key] >= RANK[cls]:
                continue
            self.rank.pop(key, None)
            self.rank[(u, v)] = RANK[cls]
            self.oneway[(u, v)] = False
            self.name[(u, v)] = name

    def to_ways(self, lat: _Lattice) -> tuple[np.ndarray, list[tuple[list[int], dict[str, str]]]]:
        """Merge runs of equal edges along lattice lines into ways; renumber nodes densely."""
        keys = sorted(self.rank, key=lambda k: (self.rank[k], self.name.get(k, ""), k))
        used = np.unique(np.array(keys).ravel())
        index = {int(n): i for i, n in enumerate(used)}
        ways: list[tuple[list[int], dict[str, str]]] = []
        chains = _chain(keys, lambda k: (self.rank[k], self.oneway[k], self.name.get(k, "")))
        for chain, (rank, oneway, name) in chains:
            ways.append(([index[n] for n in chain], _tags(CLASSES[rank], oneway, name)))
        return lat.coords(used), ways


_Attrs = tuple[int, bool, str]


def _chain(
    keys: list[tuple[int, int]], attrs: Callable[[tuple[int, int]], _Attrs]
) -> list[tuple[list[int], _Attrs]]:
    """Greedily join directed edges with equal attributes head-to-tail into polylines."""
    out = []
    by_start: dict[tuple[_Attrs, int], list[tuple[int, int]]] = {}
    for k in keys:
        by_start.setdefault((attrs(k), k[0]), []).append(k)
    seen: set[tuple[int, int]] = set()
    for k in keys:
        if k in seen:
            continue
        a = attrs(k)
        chain = [k[0], k[1]]
        seen.add(k)
        while len(chain) < 40:
            nxt = [e for e in by_start.get((a, chain[-1]), []) if e not in seen]
            if not nxt:
                break
            seen.add(nxt[0])
            chain.append(nxt[0][1])
        out.append((chain, a))
    return out


def _tags(highway: str, oneway: bool, name: str) -> dict[str, str]:
    tags = {"highway": highway, "source": SOURCE_TAG}
    if highway in MAXSPEED:
        tags["maxspeed"] = str(MAXSPEED[highway])
    if highway in LANES:
        tags["lanes"] = str(LANES[highway])
    tags["oneway"] = "yes" if oneway else "no"
    if name:
        tags["name"] = name
    return tags


class _Lattice:
    """The jittered lattice: node ids are ``j * nx + i``."""

    def __init__(
        self, boundary: BaseGeometry, spacing: float, block: int, rng: np.random.Generator
    ) -> None:
        minx, miny, maxx, maxy = boundary.bounds
        self.x0, self.y0, self.s, self.block = minx, miny, spacing, block
        self.nx = int(np.ceil((maxx - minx) / spacing)) + 1
        self.ny = int(np.ceil((maxy - miny) / spacing)) + 1
        self.jitter = rng.uniform(-0.3 * spacing, 0.3 * spacing, size=(self.ny * self.nx, 2))
        ii, jj = np.meshgrid(np.arange(self.nx), np.arange(self.ny))
        xy = self.coords(np.arange(self.nx * self.ny))
        shapely.prepare(boundary)
        self.inside = shapely.contains_xy(boundary, xy[:, 0], xy[:, 1])
        self.ii, self.jj = ii.ravel(), jj.ravel()

    def coords(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        i, j = ids % self.nx, ids // self.nx
        return np.column_stack([self.x0 + i * self.s, self.y0 + j * self.s]) + self.jitter[ids]

    def index_of(self, xy: np.ndarray) -> tuple[int, int]:
        return round((xy[0] - self.x0) / self.s), round((xy[1] - self.y0) / self.s)

    def urban_cells(self, seats: np.ndarray, population: np.ndarray, count: int) -> np.ndarray:
        """Boolean ``(cy, cx)`` mask of the ``count`` coarse cells with most people nearby."""
        cs = self.s * self.block
        cx = np.arange(int(np.ceil(self.nx / self.block)))
        cy = np.arange(int(np.ceil(self.ny / self.block)))
        gx, gy = np.meshgrid(self.x0 + (cx + 0.5) * cs, self.y0 + (cy + 0.5) * cs)
        sigma = 1200.0 * np.sqrt(population / 50_000.0)
        density = np.zeros(gx.shape)
        for (sx, sy), pop, sg in zip(seats, population, sigma, strict=True):
            d2 = (gx - sx) ** 2 + (gy - sy) ** 2
            density += pop / (2 * np.pi * sg**2) * np.exp(-d2 / (2 * sg**2))
        row = np.minimum(cy[:, None] * self.block + self.block // 2, self.ny - 1)
        col = np.minimum(cx[None, :] * self.block + self.block // 2, self.nx - 1)
        centre_ids = (row * self.nx + col).astype(int)
        density[~self.inside[centre_ids]] = 0
        top = np.argsort(-density.ravel(), kind="stable")[:count]
        mask = np.zeros(density.size, dtype=bool)
        mask[top] = True
        return mask.reshape(density.shape)

    def street_edges(self, urban: np.ndarray, rng: np.random.Generator) -> _Edges:
        """Streets in urban cells, coarse rural roads elsewhere (both ends inside the city)."""
        edges = _Edges()
        b = self.block
        cyn, cxn = urban.shape
        for horizontal in (True, False):
            i, j = self.ii, self.jj
            ok = (i < self.nx - 1) if horizontal else (j < self.ny - 1)
            along, across = (i, j) if horizontal else (j, i)
            on_coarse = across % b == 0
            ci, cj = (i // b, j // b)
            cell = urban[np.minimum(cj, cyn - 1), np.minimum(ci, cxn - 1)]
            prev = (
                urban[np.maximum(cj - 1, 0), np.minimum(ci, cxn - 1)]
                if horizontal
                else urban[np.minimum(cj, cyn - 1), np.maximum(ci - 1, 0)]
            )
            urban_adj = cell | (on_coarse & (across > 0) & prev)
            seg_keep = _segment_keep(along // b, across // b, rng)
            rural = on_coarse & seg_keep
            drop = (rng.random(len(i)) < 0.08) & ~on_coarse
            present = ok & ((urban_adj & ~drop) | rural)
            u = np.flatnonzero(present)
            v = u + (1 if horizontal else self.nx)
            keep = self.inside[u] & self.inside[v]
            u, v = u[keep], v[keep]
            is_urban = urban_adj[u]
            arterial = on_coarse[u] | (across[u] % 4 == 0)
            draw = rng.random(len(u))
            for a, c, urb, art, r in zip(u, v, is_urban, arterial, draw, strict=True):
                if not urb:
                    edges.add(int(a), int(c), RANK["unclassified"])
                elif art:
                    edges.add(int(a), int(c), RANK["tertiary"])
                elif r < 0.03:
                    edges.add(int(a), int(c), RANK["cycleway"])
                elif r < 0.05:
                    edges.add(int(a), int(c), RANK["footway"])
                elif r < 0.11:
                    pair = (int(a), int(c)) if r < 0.08 else (int(c), int(a))
                    edges.add(*pair, RANK["residential"], oneway=True)
                else:
                    edges.add(int(a), int(c), RANK["residential"])
        return edges

    def raster_line(self, a: tuple[int, int], b: tuple[int, int]) -> list[int]:
        """Lattice nodes on the 8-connected Bresenham line from ``a`` to ``b`` (inside only)."""
        (x0, y0), (x1, y1) = a, b
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        out: list[int] = []
        while True:
            if 0 <= x0 < self.nx and 0 <= y0 < self.ny:
                node = y0 * self.nx + x0
                if self.inside[node]:
                    out.append(node)
                elif out and out[-1] != -1:
                    out.append(-1)
            if (x0, y0) == (x1, y1):
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x0 += sx
            if e2 <= dx:
                err += dx
                y0 += sy
        return [n for n in out if n >= 0] if -1 not in out else _split_gaps(out)


def _split_gaps(nodes: list[int]) -> list[int]:
    """Keep the line's longest stretch inside the city (a gap would cross water)."""
    runs: list[list[int]] = [[]]
    for n in nodes:
        if n < 0:
            runs.append([])
        else:
            runs[-1].append(n)
    return max(runs, key=len)


def _segment_keep(
    along_cell: np.ndarray, across_cell: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Drop a quarter of the coarse rural segments (whole segments, so no dead stubs)."""
    key = along_cell.astype(np.int64) * 100_003 + across_cell.astype(np.int64)
    uniq, inverse = np.unique(key, return_inverse=True)
    return (rng.random(len(uniq)) >= 0.25)[inverse]


def _town_links(
    seats: np.ndarray, district_seat: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, str, str]]:
    """Road links between neighbouring seats (Delaunay edges up to 30 km), with a class."""
    links = []
    for n, (a, b) in enumerate(_neighbour_pairs(seats)):
        if np.hypot(*(seats[a] - seats[b])) > 30_000:
            continue
        both, one = district_seat[a] and district_seat[b], district_seat[a] or district_seat[b]
        cls = "trunk" if both else "primary" if one else "secondary"
        prefix = {"trunk": "G", "primary": "S", "secondary": "X"}[cls]
        links.append((seats[a], seats[b], cls, f"示例{prefix}{n + 101}线"))
    return links


def _neighbour_pairs(points: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs of Delaunay neighbours (every pair when there are fewer than four points)."""
    if len(points) < 4:
        return [(a, b) for a in range(len(points)) for b in range(a + 1, len(points))]
    pairs: set[tuple[int, int]] = set()
    for simplex in Delaunay(points).simplices:
        for k in range(3):
            a, b = sorted((int(simplex[k]), int(simplex[(k + 1) % 3])))
            pairs.add((a, b))
    return sorted(pairs)


def _add_motorways(
    xy: np.ndarray,
    ways: list[tuple[list[int], dict[str, str]]],
    district_seats: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[tuple[list[int], dict[str, str]]]]:
    """Expressways between district seats on their own nodes, with interchanges every ~6 km."""
    tree = cKDTree(xy)
    pairs = _neighbour_pairs(district_seats)
    new_xy: list[np.ndarray] = []
    next_id = len(xy)
    ways = list(ways)
    for n, (a, b) in enumerate(pairs):
        p, q = district_seats[a], district_seats[b]
        length = float(np.hypot(*(q - p)))
        if length > 80_000:
            continue
        steps = max(2, int(length // 400))
        t = np.linspace(0, 1, steps + 1)[1:-1]
        normal = np.array([-(q - p)[1], (q - p)[0]]) / length
        bend = rng.uniform(-0.05, 0.05) * length
        pts = p + np.outer(t, q - p) + np.outer(np.sin(np.pi * t) * bend, normal)
        ids = list(range(next_id, next_id + len(pts)))
        next_id += len(pts)
        new_xy.append(pts)
        name = f"示例高速S{n + 1:02d}"
        ways.append((ids, _tags("motorway", False, name)))
        every = max(1, 6000 // 400)
        for k in [0, *range(every, len(ids) - 1, every), len(ids) - 1]:
            dist, street = tree.query(pts[k])
            if dist <= 800:
                ways.append(([ids[k], int(street)], _tags("motorway_link", False, f"{name}互通")))
    return np.vstack([xy, *new_xy]), ways


def _largest_component(xy: np.ndarray, ways: list[tuple[list[int], dict[str, str]]]) -> RoadNetwork:
    """Keep the ways of the largest connected part; renumber nodes."""
    u = np.concatenate([np.array(w[:-1]) for w, _ in ways])
    v = np.concatenate([np.array(w[1:]) for w, _ in ways])
    graph = coo_matrix((np.ones(len(u)), (u, v)), shape=(len(xy), len(xy)))
    _, label = connected_components(graph, directed=False)
    sizes = np.bincount(label[np.unique(np.concatenate([u, v]))])
    main = int(np.argmax(sizes))
    keep_ways = [(w, t) for w, t in ways if label[w[0]] == main]
    used = np.unique(np.concatenate([np.array(w) for w, _ in keep_ways]))
    remap = np.full(len(xy), -1)
    remap[used] = np.arange(len(used))
    return RoadNetwork(xy[used], [([int(remap[n]) for n in w], t) for w, t in keep_ways])


def write_osm_xml(network: RoadNetwork, path: Path, *, crs: str, note: str = "") -> Path:
    """Write ``network`` as OSM XML 0.6 (``.osm``, or bz2-compressed for ``.osm.bz2``).

    Parameters
    ----------
    network
        The generated network, coordinates in ``crs``.
    path
        Output file.
    crs
        CRS of ``network.xy``; written as WGS-84 longitudes/latitudes.
    note
        Text for the file's ``<note>`` element.
    """
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
        network.xy[:, 0], network.xy[:, 1]
    )
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<osm version="0.6" generator={quoteattr(GENERATOR)}>',
        f"  <note>{note or 'Synthetic roads generated by yizhan. Not OpenStreetMap data.'}</note>",
        f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" '
        f'maxlat="{lat.max():.7f}" maxlon="{lon.max():.7f}"/>',
    ]
    lines += [
        f'  <node id="{i + 1}" version="1" timestamp="{stamp}" lat="{y:.7f}" lon="{x:.7f}"/>'
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    for k, (nodes, tags) in enumerate(network.ways):
        lines.append(f'  <way id="{k + 1}" version="1" timestamp="{stamp}">')
        lines += [f'    <nd ref="{n + 1}"/>' for n in nodes]
        lines += [f"    <tag k={quoteattr(key)} v={quoteattr(val)}/>" for key, val in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>\n")
    data = "\n".join(lines).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".bz2":
        data = bz2.compress(data, compresslevel=6)
    path.write_bytes(data)
    return path
