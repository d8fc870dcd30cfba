"""Coverage of demand by travel time to the nearest open station, and the gaps left.

``CoverageModel`` snaps a demand layer to the road graph once (per profile); after that a
full recompute — the time from every demand point to its nearest eligible station — is a few
vectorised operations over the routing engine's precomputed station fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.coverage.demand import Demand
from geo.errors import ValidationError
from geo.routing.compiled import SnapArrays
from geo.routing.engine import RoutingEngine
from geo.routing.table import point_table


@dataclass(frozen=True)
class CoverageResult:
    """Travel time from each demand point to its nearest eligible station, and coverage.

    ``times`` are seconds (``inf``: no station reachable, or no road near the point);
    ``covered`` is ``times <= minutes * 60``; ``no_road`` marks the points no road reaches
    within the snapping distance (water, land without roads): unreachable by any station,
    new ones included, so never a gap to fill.
    """

    demand: Demand
    minutes: float
    profile: str
    times: np.ndarray
    station: np.ndarray
    no_road: np.ndarray | None = None

    @property
    def roadless(self) -> np.ndarray:
        """``no_road``, or all False when it was not recorded."""
        if self.no_road is None:
            return np.zeros(len(self.times), dtype=bool)
        return self.no_road

    @property
    def gap(self) -> np.ndarray:
        """Demand a station could cover but none does: not covered, weighted, a road near."""
        weight = self.demand.frame["weight"].to_numpy()
        return ~self.covered & (weight > 0) & ~self.roadless

    @property
    def covered(self) -> np.ndarray:
        """Which demand points are within the time limit."""
        return self.times <= self.minutes * 60.0

    def summary(self, by: str | None = None) -> pd.DataFrame:
        """Covered share and travel-time statistics, overall or per ``by`` column.

        Columns: ``demand``, ``covered``, ``share``, ``mean_time_s`` and ``p95_time_s``
        (demand-weighted, over points that reach a station), ``unreachable`` (demand
        reaching no station at all) and ``no_road`` (the part of it no road reaches).
        """
        frame = self.demand.frame.assign(
            _t=self.times,
            _c=self.covered.astype(float) * self.demand.frame["weight"],
            _n=self.roadless.astype(float) * self.demand.frame["weight"],
        )
        groups = [("all", frame)] if by is None else list(frame.groupby(by, sort=True))
        rows = []
        for key, g in groups:
            w, t = g["weight"].to_numpy(), g["_t"].to_numpy()
            finite = np.isfinite(t)
            rows.append(
                {
                    (by or "area"): key,
                    "demand": float(w.sum()),
                    "covered": float(g["_c"].sum()),
                    "share": float(g["_c"].sum() / w.sum()) if w.sum() > 0 else float("nan"),
                    "mean_time_s": _weighted_mean(t[finite], w[finite]),
                    "p95_time_s": weighted_quantile(t[finite], w[finite], 0.95),
                    "unreachable": float(w[~finite].sum()),
                    "no_road": float(g["_n"].sum()),
                }
            )
        return pd.DataFrame(rows)


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.average(values, weights=weights)) if weights.sum() > 0 else float("nan")


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (lower value at ties)."""
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    idx = int(np.searchsorted(cum, q * cum[-1], side="left"))
    return float(values[order][min(idx, len(values) - 1)])


class CoverageModel:
    """A demand layer snapped to the road graph, ready for fast coverage recomputes."""

    def __init__(self, engine: RoutingEngine, demand: Demand) -> None:
        self.engine = engine
        self.demand = demand
        self.points = demand.frame[["lon", "lat"]].to_numpy(dtype=float)
        self._snaps: dict[str, SnapArrays] = {}

    def snaps(self, profile: str) -> SnapArrays:
        """The demand points snapped for ``profile`` (computed once)."""
        if profile not in self._snaps:
            self._snaps[profile] = self.engine.snap_points(self.points, profile)
        return self._snaps[profile]

    def compute(
        self,
        *,
        minutes: float,
        profile: str = "e_bike",
        at: datetime | None = None,
        kinds: Sequence[str] = (),
        amenities: Sequence[str] = (),
        engine: RoutingEngine | None = None,
    ) -> CoverageResult:
        """Coverage within ``minutes`` by stations open at ``at`` (and of ``kinds``...).

        ``engine`` lets a scenario (:meth:`RoutingEngine.scenario`) be evaluated on the same
        snapped demand.
        """
        if not 0 < minutes <= 180:
            msg = "minutes must be above 0 and at most 180"
            raise ValidationError(msg)
        eng = engine or self.engine
        eng.profile_graph(profile)
        ids = eng.fields.station_ids(profile)
        mask = eng.fields.eligible(ids, kinds=kinds, amenities=amenities, at=at)
        snaps = self.snaps(profile)
        times, station = eng.fields.times_from_points(snaps, profile, mask=mask)
        return CoverageResult(self.demand, minutes, profile, times, station, snaps.edge < 0)

    def compute_to(
        self,
        stations: np.ndarray,
        station_ids: np.ndarray,
        *,
        minutes: float,
        profile: str = "e_bike",
        search_minutes: float | None = None,
        batch: int = 500,
    ) -> CoverageResult:
        """Coverage by the stations at ``stations`` (WGS-84 ``(n, 2)``), for many stations.

        :meth:`compute` keeps a dense travel-time field per station (fast recomputes, but
        memory grows with stations x road nodes: 1,673 stations on 75,000 nodes take 1.5 GB a
        profile). This searches from the stations in batches, only ``search_minutes``
        (default twice ``minutes``) far, and keeps each point's best: times beyond the search
        are ``inf`` (counted as unreachable within it).
        """
        limit_s = (search_minutes or 2 * minutes) * 60.0
        snaps = self.snaps(profile)
        best = np.full(len(self.points), np.inf)
        station = np.full(len(self.points), -1, dtype=np.int64)
        for start in range(0, len(stations), batch):
            part = stations[start : start + batch]
            times = point_table(self.engine, snaps, part, profile=profile, limit_s=limit_s)
            if times.shape[1] == 0:
                continue
            arg = np.argmin(times, axis=1)
            t = times[np.arange(len(arg)), arg]
            better = t < best
            best[better] = t[better]
            station[better] = station_ids[start + arg[better]]
        return CoverageResult(self.demand, minutes, profile, best, station, snaps.edge < 0)


def roadless_area(result: CoverageResult) -> gpd.GeoDataFrame:
    """Where demand lies that no road reaches (water, land without roads), as one area.

    One row (none when every point has a road near): the cells' outline and their
    ``people``. Shown as "no road reaches" in its own colour, never as a gap.
    """
    cells = result.demand.cells
    weight = result.demand.frame["weight"].to_numpy()
    mask = result.roadless & (weight > 0)
    if cells is None or not mask.any():
        return gpd.GeoDataFrame({"people": []}, geometry=[], crs="EPSG:4326")
    outline = shapely.union_all(cells.geometry.to_numpy()[mask])
    return gpd.GeoDataFrame(
        {"people": [float(weight[mask].sum())]}, geometry=[outline], crs=cells.crs
    ).to_crs("EPSG:4326")


def coverage_gaps(
    result: CoverageResult,
    *,
    towns: pd.DataFrame | None = None,
    max_side_m: float = 10_000.0,
    metric_crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Uncovered demand cells merged into gap areas, ranked by uncovered demand.

    Needs a demand layer with cells (the population hexagons). A gap is a connected group of
    uncovered cells *within one town* and within one square of ``max_side_m`` — a place a
    planner can visit and act on, not one polygon across half the city. Each gap names its
    town (from ``towns`` when given: ``code`` → ``name``).
    """
    cells = result.demand.cells
    if cells is None:
        msg = "gaps need a demand layer of cells (population hexagons)"
        raise ValidationError(msg)
    frame = result.demand.frame
    out = result.gap  # demand no road reaches is no gap: no station could reach it
    if not out.any():
        return gpd.GeoDataFrame(
            {"rank": [], "uncovered_demand": [], "cells": [], "town": [], "towns": []},
            geometry=[],
            crs="EPSG:4326",
        )
    metric_crs = metric_crs or cells[out].estimate_utm_crs().to_string()
    gap_cells = cells[out].to_crs(metric_crs)
    centre = gap_cells.geometry.centroid
    parts = pd.DataFrame(
        {
            "component": _hex_components(frame["id"].to_numpy()[out]),
            "town": frame["town_code"].to_numpy()[out],
            "gx": np.floor(centre.x.to_numpy() / max_side_m).astype(np.int64),
            "gy": np.floor(centre.y.to_numpy() / max_side_m).astype(np.int64),
        }
    )
    label = parts.groupby(list(parts.columns), sort=False).ngroup().to_numpy()
    merged = [
        shapely.union_all(shapely.buffer(gap_cells.to_numpy()[label == k], 1.0)).simplify(5.0)
        for k in range(int(label.max()) + 1)
    ]
    sub = frame[out].assign(_gap=label, _t=result.times[out])
    names = dict(zip(towns["code"], towns["name"], strict=True)) if towns is not None else {}
    rows = []
    for gap_key, g in sub.groupby("_gap"):
        gap = int(cast(int, gap_key))
        codes = g.groupby("town_code")["weight"].sum().sort_values(ascending=False)
        rows.append(
            {
                "uncovered_demand": float(g["weight"].sum()),
                "cells": len(g),
                "town": names.get(codes.index[0], codes.index[0]),
                "towns": [names.get(c, c) for c in codes.index],
                "town_codes": list(codes.index),
                "unreachable_demand": float(g.loc[~np.isfinite(g["_t"]), "weight"].sum()),
                "geometry": merged[gap],
            }
        )
    gaps = gpd.GeoDataFrame(rows, geometry="geometry", crs=metric_crs).to_crs("EPSG:4326")
    gaps = gaps.sort_values("uncovered_demand", ascending=False).reset_index(drop=True)
    gaps.insert(0, "rank", np.arange(1, len(gaps) + 1))
    return gaps


def town_shares(result: CoverageResult, towns: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Towns (polygons, ``code``, ``name``) with ``share`` covered and ``uncovered`` people.

    Also ``people`` and ``covered`` (the demand and its covered part) and ``p95_min``, the
    minutes within which 95% of the town's people who reach a station reach one.
    """
    table = result.summary(by="town_code").set_index("town_code")
    out = towns[["code", "name", "geometry"]].copy()
    out["share"] = out["code"].map(table["share"])
    out["uncovered"] = out["code"].map(table["demand"] - table["covered"]).fillna(0.0)
    out["people"] = out["code"].map(table["demand"]).fillna(0.0)
    out["covered"] = out["code"].map(table["covered"]).fillna(0.0)
    out["p95_min"] = out["code"].map(table["p95_time_s"]) / 60.0
    return out


def _hex_components(cell_ids: np.ndarray) -> np.ndarray:
    """Connected groups of hexagons (axial ``"q_r"`` ids of :func:`hex_grid`), as labels."""
    q, r = (
        np.array([int(v) for v in part])
        for part in zip(*(c.split("_") for c in cell_ids), strict=True)
    )
    index = {(a, b): i for i, (a, b) in enumerate(zip(q.tolist(), r.tolist(), strict=True))}
    src, dst = [], []
    for i, (a, b) in enumerate(zip(q.tolist(), r.tolist(), strict=True)):
        shift = 1 if a % 2 else -1
        for na, nb in ((a, b + 1), (a + 1, b), (a + 1, b + shift)):
            j = index.get((na, nb))
            if j is not None:
                src.append(i)
                dst.append(j)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(len(q), len(q)))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels)


def coverage_delta(before: CoverageResult, after: CoverageResult, *, by: str) -> pd.DataFrame:
    """Per area: covered demand and share before and after, and the change."""
    a, b = before.summary(by), after.summary(by)
    merged = a[[by, "demand", "covered", "share"]].merge(
        b[[by, "covered", "share"]], on=by, suffixes=("_before", "_after")
    )
    merged["covered_change"] = merged["covered_after"] - merged["covered_before"]
    merged["share_change"] = merged["share_after"] - merged["share_before"]
    return merged


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-safe records (NaN and infinities become None)."""
    clean = df.replace([np.inf, -np.inf], np.nan).astype(object).where(df.notna(), None)
    return [
        {str(k): (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()}
        for r in clean.to_dict("records")
    ]


#: the demand column of each kind of area coverage is reported by
BY_COLUMN = {"district": "district_adcode", "town": "town_code"}


def named_areas(df: pd.DataFrame, by: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """Per-area rows (``by``: district or town) with ``code`` and ``name`` first, as records."""
    out = df.rename(columns={BY_COLUMN[by]: "code"})
    out.insert(1, "name", out["code"].map(names))
    return to_records(out)
