"""The tree mechanism: nodes and covers, pupil-level sensitivity on neighbouring datasets,
the weekly charge schedule, interval coverage and an empirical ε audit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from privacy.audit import epsilon_lower_bound
from privacy.bounds import BoundSpec
from privacy.budget import DEFAULT_DELTA, Rho
from privacy.continual import (
    ContinualError,
    StreamBound,
    TreeShape,
    choose_height,
    noise_nodes,
    plan_tree,
    range_estimate,
    tree_l2_squared,
)
from privacy.mechanisms import make_measurement


def node_vector(shape: TreeShape, x: np.ndarray, upto: int | None = None) -> np.ndarray:
    """Every node completed by `upto` as the sum of the weekly values it spans."""
    upto = shape.weeks if upto is None else upto
    return np.array([x[n.start - 1:n.end].sum() for n in shape.nodes if n.end <= upto])


@pytest.mark.parametrize("weeks,height", [(40, 5), (40, 0), (40, 3), (7, 2), (1, 0)])
def test_cover_is_a_disjoint_exact_decomposition(weeks, height):
    shape = TreeShape(weeks, height)
    for first in range(1, weeks + 1):
        for last in range(first, weeks + 1):
            cover = shape.cover(first, last)
            spanned = [w for n in cover for w in range(n.start, n.end + 1)]
            assert spanned == list(range(first, last + 1))
            assert all(n in shape.nodes for n in cover)
            if first == 1:  # a prefix: whole top-height nodes, then at most one per height
                assert len(cover) <= (last >> height) + height


def test_the_sensitivity_formula_matches_the_textbook_counts():
    # per-week stream, c = 1, T = 40, full tree: sum over heights of floor(T/2^h)·4^h
    assert tree_l2_squared(TreeShape(40, 5), StreamBound(BoundSpec(0, 1), 40)) == 2136
    # once-a-year stream: one node per completed height
    once = StreamBound(BoundSpec(0, 1), 40, 1)
    assert [tree_l2_squared(TreeShape(40, 5), once, t) for t in (1, 2, 3, 4, 8, 40)] == [1, 2, 2, 3, 4, 6]
    assert tree_l2_squared(TreeShape(40, 0), StreamBound(BoundSpec(0, 1800), 40)) == 40 * 1800**2


@pytest.mark.parametrize("year_total", [None, 1, 3])
def test_removing_one_pupil_moves_the_tree_by_at_most_the_sensitivity(year_total):
    rng = np.random.default_rng(7)  # synthetic pupils: our randomness
    weeks, c = 13, 30
    bound = StreamBound(BoundSpec(0, c), weeks, year_total if year_total is None else year_total * c)
    for height in range(0, 4):
        shape = TreeShape(weeks, height)
        others = rng.integers(0, c + 1, size=(50, weeks))
        pupils = [np.full(weeks, c)]  # absent the whole cap every week
        for _ in range(200):
            x = rng.integers(0, c + 1, size=weeks)
            if year_total is not None:  # what SQL allows: at most B over the year
                x = np.zeros(weeks, dtype=int)
                x[rng.choice(weeks, size=year_total, replace=False)] = c
            pupils.append(x)
        if year_total is not None:
            pupils[0] = np.zeros(weeks, dtype=int)
            pupils[0][:year_total] = c
        for upto in (1, 4, weeks):
            bound_sq = tree_l2_squared(shape, bound, upto)
            worst = 0
            for x in pupils:
                with_pupil = node_vector(shape, others.sum(axis=0) + x, upto)
                without = node_vector(shape, others.sum(axis=0), upto)
                diff = int(((with_pupil - without) ** 2).sum())
                assert diff <= bound_sq
                worst = max(worst, diff)
            if year_total in (None, 1):
                assert worst == bound_sq  # tight: the worst pupil attains it


def test_plan_charges_week_by_week_and_never_more_than_the_year():
    bound = StreamBound(BoundSpec(0, 1), 40, 1)
    plan = plan_tree(TreeShape(40, 5), bound, Rho.of("0.01"))
    cum = plan.cumulative_micro
    assert cum[0] == 0 and all(a <= b for a, b in zip(cum, cum[1:]))
    assert cum[-1] <= Rho.of("0.01").to_micro_floor()
    assert sum(plan.week_micro(t) for t in range(1, 41)) == cum[-1]
    assert plan.week_micro(3) == 0 and plan.week_micro(4) > 0  # new height completes at 4
    full = float(make_measurement("discrete_gaussian", plan.scale).map(np.sqrt(6.0) + 1e-12))
    assert full <= 0.01 + 1e-12


def test_the_planner_prefers_single_weeks_for_every_week_streams_and_a_tree_for_once_a_year():
    every = StreamBound(BoundSpec(0, 1800), 40)
    once = StreamBound(BoundSpec(0, 1), 40, 1)
    assert choose_height(every, {"week": 1, "rolling4": 1, "ytd": 1}) == 0
    assert choose_height(once, {"week": 0.25, "ytd": 1}) >= 3
    with pytest.raises(ContinualError):
        choose_height(once, {"month": 1})


def _node_sum_pmf(sigma: float, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact pmf of the sum of `nodes` independent N_Z(0, sigma^2) (the public noise law)."""
    xs = np.arange(-math.ceil(40 * sigma) - 2, math.ceil(40 * sigma) + 3)
    one = np.exp(-(xs.astype(float) ** 2) / (2 * sigma * sigma))
    one /= one.sum()
    p = one
    for _ in range(nodes - 1):
        p = np.convolve(p, one)
    half = (len(p) - 1) // 2
    return np.arange(-half, half + 1), p


def test_intervals_from_nodes_cover_the_truth():
    """Coverage of est ± 1.96 sd against its exact value for the integer noise (σ = 7.07: a
    single node covers 94.4%, a sum of three 95.5%), within a binomial tolerance.

    Failure probability (the noise is OpenDP's, unseeded): 10,000 cells per range, tolerance
    5.6 binomial sd (±0.012) each side; exact binomial tails 3.0e-8 (one node) and 3.6e-8
    (three), so < 1.4e-7 for the four ranges. Noise 10% wider than planned lowers coverage
    by ~2 points (> 8 sd)."""
    weeks = 16
    shape = TreeShape(weeks, 4)
    plan = plan_tree(shape, StreamBound(BoundSpec(0, 1), weeks, 1), Rho.of("0.05"))
    truth_weeks = np.arange(1, weeks + 1) * 3
    ranges = ((1, 16), (1, 11), (8, 11), (5, 5))
    needed = {n for r in ranges for n in shape.cover(*r)}  # only these are read: fewer draws
    cells = 10_000
    noisy = noise_nodes({n: np.full(cells, truth_weeks[n.start - 1:n.end].sum(), dtype=np.int64)
                         for n in needed}, plan)
    for first, last in ranges:
        est, var = range_estimate(noisy, plan, first, last)
        nodes = len(shape.cover(first, last))
        assert var == pytest.approx(nodes * plan.node_variance)
        truth = truth_weeks[first - 1:last].sum()
        half = 1.96 * np.sqrt(var)
        covered = np.mean(np.abs(est - truth) <= half)
        zs, pmf = _node_sum_pmf(plan.scale, nodes)
        exact = pmf[np.abs(zs) <= half].sum()
        tolerance = 5.6 * math.sqrt(exact * (1 - exact) / cells)
        assert abs(covered - exact) <= tolerance, (first, last, covered, exact)
        assert 0.93 <= covered <= 0.97, (first, last, covered)


def test_noise_refuses_nodes_of_another_tree_and_non_integers():
    plan = plan_tree(TreeShape(8, 1), StreamBound(BoundSpec(0, 1), 8), Rho.of("0.1"))
    other = TreeShape(8, 3).nodes[-1]
    with pytest.raises(ContinualError):
        noise_nodes({other: np.zeros(2, dtype=np.int64)}, plan)
    with pytest.raises(ContinualError):
        noise_nodes({plan.shape.nodes[0]: np.zeros(2)}, plan)


@pytest.mark.slow
def test_epsilon_audit_of_the_tree_output():
    """Neighbours: a pupil whose once-a-year event is in week 1 (touching one node per height)
    and the dataset without it. The audited statistic is the sum of the nodes the pupil touches
    (the likelihood-ratio direction). Its lower bound must stay below the claimed ε."""
    weeks, rho = 8, Rho.of("0.5")
    shape = TreeShape(weeks, 3)
    plan = plan_tree(shape, StreamBound(BoundSpec(0, 1), weeks, 1), rho)
    touched = [n for n in shape.nodes if n.start == 1]
    draws = 40_000

    def sample(value: int) -> np.ndarray:
        noisy = noise_nodes({n: np.full(draws, value, dtype=np.int64) for n in touched}, plan)
        return np.sum([noisy[n] for n in touched], axis=0)

    out_a, out_b = sample(1), sample(0)
    spread = np.sqrt(len(touched)) * plan.scale
    thresholds = list(range(int(-4 * spread), int(len(touched) + 4 * spread) + 1))
    eps, _ = epsilon_lower_bound(out_a, out_b, thresholds, DEFAULT_DELTA, 1e-3)
    claimed = rho.epsilon(DEFAULT_DELTA)
    assert 0.0 <= eps <= claimed
