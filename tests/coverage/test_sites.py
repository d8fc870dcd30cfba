"""Site selection: the MILP equals brute force on small instances; greedy keeps its bound."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from geo.coverage.sites import MaximalCoverage, PMedian
from geo.errors import ValidationError


def _instance(seed: int, n_d: int = 40, n_c: int = 9) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10, (n_d, 2))
    sites = rng.uniform(0, 10, (n_c, 2))
    cost = np.linalg.norm(demand[:, None, :] - sites[None, :, :], axis=2)
    cost[rng.random(cost.shape) < 0.1] = np.inf  # some unreachable pairs
    return cost, rng.integers(1, 100, n_d).astype(float)


def _brute_coverage(model: MaximalCoverage, k: int) -> float:
    return max(model.value_of(c) for c in itertools.combinations(range(model.n_candidates), k))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_mclp_milp_equals_brute_force(seed: int, k: int) -> None:
    cost, w = _instance(seed)
    model = MaximalCoverage.from_cost_matrix(cost, w, max_cost=3.0)
    sel = model.solve(k, method="milp")
    assert sel.method == "milp (HiGHS)"
    assert len(sel.selected) == k
    assert sel.value == pytest.approx(_brute_coverage(model, k))
    assert sel.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_greedy_within_its_bounds(seed: int) -> None:
    cost, w = _instance(seed, n_c=10)
    model = MaximalCoverage.from_cost_matrix(cost, w, max_cost=3.0)
    best = _brute_coverage(model, 3)
    sel = model.solve(3, method="greedy")
    assert sel.value >= (1 - 1 / math.e) * best - 1e-9
    assert sel.bound >= best - 1e-9  # the reported bound really bounds the optimum
    assert sum(sel.gains) == pytest.approx(sel.value)
    assert list(sel.gains) == sorted(sel.gains, reverse=True)


def test_already_covered_demand_is_worth_nothing() -> None:
    cost = np.array([[1.0, 9.0], [9.0, 1.0], [9.0, 1.0]])
    w = np.array([100.0, 10.0, 10.0])
    fresh = MaximalCoverage.from_cost_matrix(cost, w, max_cost=2.0)
    assert fresh.solve(1).selected == (0,)
    covered = MaximalCoverage.from_cost_matrix(
        cost, w, max_cost=2.0, already_covered=np.array([True, False, False])
    )
    sel = covered.solve(1)
    assert sel.selected == (1,)
    assert sel.value == 20.0


@pytest.mark.parametrize("seed", range(6))
def test_chosen_sites_are_numbered_by_the_people_each_adds(seed: int) -> None:
    cost, w = _instance(seed)
    model = MaximalCoverage.from_cost_matrix(cost, w, max_cost=3.0)
    sel = model.solve(3, method="milp")
    order = model.by_priority(sel.selected)
    assert sorted(j for j, _ in order) == sorted(sel.selected)
    gains = [g for _, g in order]
    assert sum(gains) == pytest.approx(sel.value)  # each person counted once
    assert gains == sorted(gains, reverse=True)
    first = order[0][0]
    assert gains[0] == pytest.approx(model.value_of([first]))  # the first adds all it covers


def test_overlapping_sites_share_their_people_once() -> None:
    cost = np.array([[1.0, 1.0], [1.0, 9.0], [9.0, 1.0]])
    model = MaximalCoverage.from_cost_matrix(cost, np.array([50.0, 30.0, 20.0]), max_cost=2.0)
    assert model.by_priority((1, 0)) == [(0, 80.0), (1, 20.0)]


def test_hand_checked_example() -> None:
    # three villages on a line; site B (middle) reaches all within 5, A and C only their ends
    cost = np.array([[0.0, 4.0, 8.0], [4.0, 0.0, 4.0], [8.0, 4.0, 0.0]])
    w = np.array([10.0, 1.0, 10.0])
    assert MaximalCoverage.from_cost_matrix(cost, w, max_cost=5.0).solve(1).selected == (1,)
    assert MaximalCoverage.from_cost_matrix(cost, w, max_cost=3.0).solve(2).selected == (0, 2)
    pm = PMedian.from_cost_matrix(cost, w)
    assert pm.solve(1).selected == (1,)  # 10*4 + 10*4 = 80 beats 1*4 + 10*8 = 84


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_p_median_milp_equals_brute_force_and_heuristic_is_close(seed: int, k: int) -> None:
    cost, w = _instance(seed, n_d=25, n_c=8)
    existing = np.random.default_rng(seed).uniform(2, 12, 25)
    model = PMedian.from_cost_matrix(cost, w, existing=existing)
    brute = min(model.value_of(c) for c in itertools.combinations(range(8), k))
    exact = model.solve(k, method="milp")
    assert exact.value == pytest.approx(brute)
    heuristic = model.solve(k, method="greedy")
    assert heuristic.value <= brute * 1.05


def test_k_out_of_range() -> None:
    cost, w = _instance(0)
    with pytest.raises(ValidationError, match="k must be between 1"):
        MaximalCoverage.from_cost_matrix(cost, w, max_cost=3.0).solve(0)
    with pytest.raises(ValidationError, match="k must be between 1"):
        PMedian.from_cost_matrix(cost, w).solve(99)
