"""Split a polygon into ``n`` compact cells around seeds (centroidal Voronoi by Lloyd's method).

Used to generate approximate town areas inside districts and grid areas inside towns where
no real boundaries are available. Work in a metric CRS.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry


def sample_points(
    polygon: BaseGeometry,
    n: int,
    rng: np.random.Generator,
    *,
    centre: tuple[float, float] | None = None,
    spread_m: float = 0.0,
    share_near_centre: float = 0.0,
) -> np.ndarray:
    """Draw ``n`` points inside ``polygon``: uniform, plus a share clustered near ``centre``.

    Parameters
    ----------
    polygon
        Where the points must fall (metric CRS).
    n
        How many points.
    rng
        Source of randomness.
    centre, spread_m, share_near_centre
        When given, ``share_near_centre`` of the points are drawn from a normal distribution
        of standard deviation ``spread_m`` around ``centre`` (kept only inside ``polygon``).

    Returns
    -------
    numpy.ndarray
        An ``(n, 2)`` array of coordinates.
    """
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    n_near = round(n * share_near_centre) if centre is not None and spread_m > 0 else 0
    out: list[np.ndarray] = []
    for count, near in ((n - n_near, False), (n_near, True)):
        got = 0
        for _ in range(1000):
            if got >= count:
                break
            batch = max(64, 2 * (count - got))
            if near:
                assert centre is not None
                xy = rng.normal(loc=centre, scale=spread_m, size=(batch, 2))
            else:
                xy = rng.uniform((minx, miny), (maxx, maxy), size=(batch, 2))
            keep = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])][: count - got]
            out.append(keep)
            got += len(keep)
        if got < count:  # a centre outside the polygon: fall back to uniform points
            out.append(sample_points(polygon, count - got, rng))
    return np.concatenate(out) if out else np.empty((0, 2))


def lloyd_seeds(
    samples: np.ndarray,
    n: int,
    rng: np.random.Generator,
    *,
    fixed: np.ndarray | None = None,
    iterations: int = 25,
) -> np.ndarray:
    """Place ``n`` seeds so each owns a similar share of ``samples`` (k-means, some fixed).

    Seeds move to the mean of the samples they own, then onto the nearest sample so that they
    stay inside a non-convex polygon. ``fixed`` seeds (known places) never move and come first.
    """
    fixed = np.empty((0, 2)) if fixed is None else np.asarray(fixed, dtype=float).reshape(-1, 2)
    n_free = n - len(fixed)
    if n_free < 0:
        msg = f"{len(fixed)} fixed seeds but only {n} cells"
        raise ValueError(msg)
    seeds = np.vstack([fixed, samples[rng.choice(len(samples), n_free, replace=False)]])
    sample_tree = cKDTree(samples)
    for _ in range(iterations):
        _, owner = cKDTree(seeds).query(samples)
        for i in range(len(fixed), n):
            mine = samples[owner == i]
            if len(mine):
                seeds[i] = mine.mean(axis=0)
        _, nearest = sample_tree.query(seeds[len(fixed) :])
        seeds[len(fixed) :] = samples[nearest]
    return seeds


def voronoi_cells(polygon: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """The Voronoi cell of each seed clipped to ``polygon``, in seed order, each non-empty.

    Every part of ``polygon`` belongs to exactly one cell; a cell may be a MultiPolygon
    (islands go to the nearest seed).
    """
    if len(seeds) == 1:
        return [polygon]
    envelope = shapely.box(*shapely.buffer(polygon, 1000).bounds)
    regions = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=envelope, ordered=True)
    cells = [
        shapely.make_valid(shapely.intersection(r, polygon)) for r in shapely.get_parts(regions)
    ]
    cells = [shapely.get_parts(c) for c in cells]
    cells = [shapely.union_all([p for p in parts if p.geom_type == "Polygon"]) for parts in cells]
    if any(c.is_empty for c in cells):
        msg = "a seed lies outside the polygon: its cell is empty"
        raise ValueError(msg)
    return list(cells)


def as_multipolygon(geom: BaseGeometry) -> BaseGeometry:
    """``geom`` as a valid MultiPolygon (polygon parts only)."""
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    polys: list[shapely.Polygon] = []
    for part in parts:
        polys.extend(p for p in shapely.get_parts(part) if isinstance(p, shapely.Polygon))
    return shapely.MultiPolygon(polys)
