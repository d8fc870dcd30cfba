"""Choosing new station sites: maximal covering (MCLP) and p-median, exact or greedy.

Models are built from a cost matrix (travel times, demand x candidate) and then solved;
``solve`` returns a frozen :class:`SiteSelection` (no attributes that appear only after
solving).

* **Maximal covering** — choose ``k`` candidates maximising the demand newly brought within
  ``max_cost`` (demand already covered by existing stations counts for nothing). Exact as a
  MILP solved by HiGHS (``scipy.optimize.milp``) when the instance is small enough, else
  lazy greedy, whose value is at least ``1 - 1/e`` of the optimum (submodularity); for the
  greedy answer we also report the data-dependent bound ``OPT ≤ f(S) + Σ top-k marginal
  gains``, usually far tighter, and the gap it implies.
* **p-median** — choose ``k`` candidates minimising total demand-weighted travel time to
  the nearest station (existing ones included). Exact MILP for small instances; otherwise
  greedy with a pass of vertex substitution (Teitz–Bart).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack, identity, vstack

from geo.errors import ValidationError

Method = Literal["auto", "milp", "greedy"]


@dataclass(frozen=True)
class SiteSelection:
    """The answer of a site-selection model.

    Attributes
    ----------
    selected
        Candidate indices, in the order chosen (greedy) or ascending (MILP).
    objective
        ``coverage`` or ``p_median``.
    value
        Newly covered demand (coverage) or total weighted travel time (p-median).
    method
        How it was solved, e.g. ``milp (HiGHS)``, ``lazy greedy``.
    bound
        A proven bound on the optimum (upper for coverage, lower for p-median), if known.
    gap
        Relative optimality gap implied by ``bound`` (0 for a proven optimum).
    seconds
        Solve time.
    gains
        For coverage: demand added by each selected site, in order.
    """

    selected: tuple[int, ...]
    objective: str
    value: float
    method: str
    bound: float | None
    gap: float | None
    seconds: float
    gains: tuple[float, ...] = ()


def _check_k(k: int, n: int) -> None:
    if not 1 <= k <= n:
        msg = f"k must be between 1 and the number of candidates ({n}), got {k}"
        raise ValidationError(msg)


class MaximalCoverage:
    """Maximal covering location problem over a coverage matrix.

    Build with :meth:`from_cost_matrix`; ``cover[i, j]`` says candidate ``j`` covers demand
    point ``i``.
    """

    def __init__(self, cover: csr_matrix, weights: np.ndarray) -> None:
        self.cover = cover.tocsr()
        self.weights = np.asarray(weights, dtype=float)

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray | csr_matrix,
        weights: np.ndarray,
        max_cost: float,
        *,
        already_covered: np.ndarray | None = None,
    ) -> MaximalCoverage:
        """From travel times (demand x candidate; ``inf`` or absent = unreachable).

        Demand points in ``already_covered`` get weight 0: covering them again gains nothing.
        """
        if isinstance(cost, np.ndarray):
            cover = csr_matrix(np.isfinite(cost) & (cost <= max_cost))
        else:
            c = cost.tocsr().copy()
            c.data = (c.data <= max_cost).astype(float)
            c.eliminate_zeros()
            cover = c
        w = np.asarray(weights, dtype=float).copy()
        if already_covered is not None:
            w[np.asarray(already_covered, dtype=bool)] = 0.0
        return cls(csr_matrix(cover, dtype=float), w)

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites."""
        return int(self.cover.shape[1])

    def value_of(self, selected: list[int] | tuple[int, ...]) -> float:
        """Demand covered by ``selected``."""
        if not selected:
            return 0.0
        hit = np.asarray(self.cover[:, list(selected)].sum(axis=1)).ravel() > 0
        return float(self.weights[hit].sum())

    def by_priority(self, selected: list[int] | tuple[int, ...]) -> list[tuple[int, float]]:
        """The chosen sites, the one adding the most demand first, each with what it adds.

        Whatever the method chose, a planner builds one site at a time: each site's figure
        is the demand it covers that no existing station and no earlier site covers.
        """
        columns = self.cover.tocsc()
        covered = np.zeros(self.cover.shape[0], dtype=bool)
        left, order = list(selected), []
        while left:
            best, best_gain, best_rows = left[0], -1.0, np.empty(0, dtype=int)
            for j in left:
                rows = columns[:, j].indices
                rows = rows[~covered[rows]]
                gain = float(self.weights[rows].sum())
                if gain > best_gain:
                    best, best_gain, best_rows = j, gain, rows
            covered[best_rows] = True
            left.remove(best)
            order.append((best, best_gain))
        return order

    def solve(self, k: int, *, method: Method = "auto", time_limit: float = 30.0) -> SiteSelection:
        """Choose ``k`` sites (``auto``: MILP when under ~2 million matrix entries)."""
        _check_k(k, self.n_candidates)
        if method == "auto":
            method = "milp" if self.cover.nnz <= 2_000_000 else "greedy"
        return self._milp(k, time_limit) if method == "milp" else self._greedy(k)

    def _greedy(self, k: int) -> SiteSelection:
        t0 = time.perf_counter()
        cols = csc_matrix(self.cover)
        members = [
            cols.indices[cols.indptr[j] : cols.indptr[j + 1]] for j in range(self.n_candidates)
        ]
        w = self.weights
        heap = [(-float(w[m].sum()), j) for j, m in enumerate(members)]
        heapq.heapify(heap)
        covered = np.zeros(len(w), dtype=bool)
        chosen: list[int] = []
        gains: list[float] = []
        while len(chosen) < k and heap:
            _, j = heapq.heappop(heap)
            fresh = float(w[members[j][~covered[members[j]]]].sum())
            if heap and fresh < -heap[0][0] - 1e-12:
                heapq.heappush(heap, (-fresh, j))  # stale: re-queue with its true gain
                continue
            chosen.append(j)
            gains.append(fresh)
            covered[members[j]] = True
        value = float(w[covered].sum())
        rest = sorted(
            (float(w[m[~covered[m]]].sum()) for j, m in enumerate(members) if j not in chosen),
            reverse=True,
        )[:k]
        bound = value + float(sum(rest))
        return SiteSelection(
            tuple(chosen),
            "coverage",
            value,
            "lazy greedy",
            bound,
            _gap(value, bound),
            time.perf_counter() - t0,
            tuple(gains),
        )

    def _milp(self, k: int, time_limit: float) -> SiteSelection:
        from scipy.optimize import Bounds, LinearConstraint, milp  # ~0.5 s: only where it solves

        t0 = time.perf_counter()
        useful = np.flatnonzero(
            (np.asarray(self.cover.sum(axis=1)).ravel() > 0) & (self.weights > 0)
        )
        a = self.cover[useful]
        n_c, n_d = self.n_candidates, len(useful)
        c = np.concatenate([np.zeros(n_c), -self.weights[useful]])
        # y_i - sum_j a_ij x_j <= 0 ;  sum_j x_j = k
        link = hstack([-a, identity(n_d, format="csr")], format="csr")
        count = hstack([csr_matrix(np.ones((1, n_c))), csr_matrix((1, n_d))], format="csr")
        constraints = [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count, k, k),
        ]
        integrality = np.concatenate([np.ones(n_c), np.zeros(n_d)])
        res = milp(
            c,
            constraints=constraints,
            integrality=integrality,
            bounds=Bounds(0, 1),
            options={"time_limit": time_limit, "mip_rel_gap": 1e-9},
        )
        if res.x is None:
            return self._greedy(k)
        x = res.x[:n_c]
        chosen = tuple(int(j) for j in np.flatnonzero(x > 0.5))
        value = self.value_of(chosen)
        bound = (
            -float(res.mip_dual_bound)
            if getattr(res, "mip_dual_bound", None) is not None
            else value
        )
        bound = max(bound, value)
        return SiteSelection(
            chosen,
            "coverage",
            value,
            "milp (HiGHS)",
            bound,
            _gap(value, bound),
            time.perf_counter() - t0,
        )


class PMedian:
    """p-median: minimise demand-weighted travel time to the nearest (existing or new) site."""

    def __init__(self, cost: np.ndarray, weights: np.ndarray, existing: np.ndarray) -> None:
        self.cost = np.asarray(cost, dtype=float)
        self.weights = np.asarray(weights, dtype=float)
        self.existing = np.asarray(existing, dtype=float)

    @classmethod
    def from_cost_matrix(
        cls,
        cost: np.ndarray,
        weights: np.ndarray,
        *,
        existing: np.ndarray | None = None,
        cap: float | None = None,
    ) -> PMedian:
        """From travel times (demand x candidate, ``inf`` = unreachable).

        ``existing`` is each demand point's time to its nearest existing station; ``cap``
        replaces unreachable and longer times (default: twice the largest finite time).
        """
        cost = np.asarray(cost, dtype=float)
        ex = (
            np.full(cost.shape[0], np.inf)
            if existing is None
            else np.asarray(existing, dtype=float)
        )
        finite = np.concatenate([cost[np.isfinite(cost)], ex[np.isfinite(ex)]])
        cap = cap if cap is not None else (2.0 * float(finite.max()) if len(finite) else 1.0)
        return cls(
            np.minimum(np.nan_to_num(cost, posinf=cap), cap),
            weights,
            np.minimum(np.nan_to_num(ex, posinf=cap), cap),
        )

    def value_of(self, selected: list[int] | tuple[int, ...]) -> float:
        """Total weighted travel time with ``selected`` added."""
        best = self.existing.copy()
        if selected:
            best = np.minimum(best, self.cost[:, list(selected)].min(axis=1))
        return float(self.weights @ best)

    def solve(self, k: int, *, method: Method = "auto", time_limit: float = 30.0) -> SiteSelection:
        """Choose ``k`` sites (``auto``: MILP up to 200,000 assignment variables)."""
        _check_k(k, self.cost.shape[1])
        if method == "auto":
            method = "milp" if self.cost.size <= 200_000 else "greedy"
        return self._milp(k, time_limit) if method == "milp" else self._greedy(k)

    def _greedy(self, k: int) -> SiteSelection:
        t0 = time.perf_counter()
        chosen: list[int] = []
        best = self.existing.copy()
        for _ in range(k):
            totals = self.weights @ np.minimum(best[:, None], self.cost)
            totals[chosen] = np.inf
            j = int(np.argmin(totals))
            chosen.append(j)
            best = np.minimum(best, self.cost[:, j])
        improved = True
        while improved and time.perf_counter() - t0 < 20:
            improved = False
            for pos in range(len(chosen)):
                others = chosen[:pos] + chosen[pos + 1 :]
                base = self.existing.copy()
                if others:
                    base = np.minimum(base, self.cost[:, others].min(axis=1))
                totals = self.weights @ np.minimum(base[:, None], self.cost)
                totals[others] = np.inf
                j = int(np.argmin(totals))
                current = self.value_of(chosen)
                if j != chosen[pos] and totals[j] < current - 1e-9 * max(1.0, abs(current)):
                    chosen[pos] = j
                    improved = True
        value = self.value_of(chosen)
        return SiteSelection(
            tuple(chosen),
            "p_median",
            value,
            "greedy + interchange",
            None,
            None,
            time.perf_counter() - t0,
        )

    def _milp(self, k: int, time_limit: float) -> SiteSelection:
        from scipy.optimize import Bounds, LinearConstraint, milp  # ~0.5 s: only where it solves

        t0 = time.perf_counter()
        n_d, n_c = self.cost.shape
        # variables: x_j (n_c), z_ij (n_d * n_c), e_i (n_d: served by existing)
        c = np.concatenate(
            [
                np.zeros(n_c),
                (self.weights[:, None] * self.cost).ravel(),
                self.weights * self.existing,
            ]
        )
        n_z = n_d * n_c
        rows = np.repeat(np.arange(n_d), n_c)
        assign = hstack(
            [
                csr_matrix((n_d, n_c)),
                csr_matrix((np.ones(n_z), (rows, np.arange(n_z))), shape=(n_d, n_z)),
                identity(n_d, format="csr"),
            ],
            format="csr",
        )
        # z_ij - x_j <= 0
        link = hstack(
            [
                -csr_matrix(
                    (np.ones(n_z), (np.arange(n_z), np.tile(np.arange(n_c), n_d))), shape=(n_z, n_c)
                ),
                identity(n_z, format="csr"),
                csr_matrix((n_z, n_d)),
            ],
            format="csr",
        )
        count = hstack([csr_matrix(np.ones((1, n_c))), csr_matrix((1, n_z + n_d))], format="csr")
        a = vstack([assign, link, count], format="csr")
        lower = np.concatenate([np.ones(n_d), np.full(n_z, -np.inf), [k]])
        upper = np.concatenate([np.ones(n_d), np.zeros(n_z), [k]])
        integrality = np.concatenate([np.ones(n_c), np.zeros(n_z + n_d)])
        res = milp(
            c,
            constraints=LinearConstraint(a, lower, upper),
            integrality=integrality,
            bounds=Bounds(0, 1),
            options={"time_limit": time_limit, "mip_rel_gap": 1e-9},
        )
        if res.x is None:
            return self._greedy(k)
        chosen = tuple(int(j) for j in np.flatnonzero(res.x[:n_c] > 0.5))
        value = self.value_of(chosen)
        bound = float(getattr(res, "mip_dual_bound", value) or value)
        return SiteSelection(
            chosen,
            "p_median",
            value,
            "milp (HiGHS)",
            min(bound, value),
            _gap(min(bound, value), value),
            time.perf_counter() - t0,
        )


def _gap(low: float, high: float) -> float:
    """Relative gap between a value and a bound (0 when equal)."""
    if high <= 0:
        return 0.0
    return max(0.0, (high - low) / high)
