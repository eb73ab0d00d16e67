"""Planned noise scales, exact variances, honest half-widths and the OpenDP noise path."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import opendp.mod
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec, sensitivity
from privacy.budget import Rho
from privacy.mechanisms import (
    AggregateRangeError,
    MechanismError,
    NoisePlan,
    PlanMismatchError,
    add_noise,
    make_measurement,
    plan_gaussian,
    plan_laplace,
    rho_for_half_width,
)
from privacy.opendp_setup import ForbiddenFeatureError, opendp_prelude


def _dgauss_pmf(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    xs = np.arange(-math.ceil(40 * sigma) - 2, math.ceil(40 * sigma) + 3)
    w = np.exp(-(xs.astype(float) ** 2) / (2 * sigma * sigma))
    return xs, w / w.sum()


def _dgauss_accuracy(sigma: float, alpha: float) -> int:
    """Smallest integer a with P(|X| >= a) <= alpha, X ~ N_Z(0, sigma^2), by the exact series."""
    xs, p = _dgauss_pmf(sigma)
    a = 0
    while p[np.abs(xs) >= a].sum() > alpha:
        a += 1
    return a


@pytest.mark.parametrize(
    ("upper", "max_cells", "rho"),
    [(1, 1, "0.05"), (1, 1, "0.5"), (30, 3, "0.5"), (300, 1, "0.01"), (1, 4, "1/8")],
)
def test_gaussian_scale_matches_the_closed_form(upper, max_cells, rho):
    r = Rho.of(rho)
    plan = plan_gaussian(BoundSpec(0, upper, max_cells), r)
    expected = math.sqrt(max_cells) * upper / math.sqrt(2 * float(r))  # sigma = Δ2 / sqrt(2ρ)
    assert plan.scale == pytest.approx(expected, rel=1e-12)
    assert plan.mechanism == "discrete_gaussian" and plan.rho == r and plan.epsilon is None


def test_the_reference_count_table():
    # shared/OPENDP.md: L2 sensitivity 1 at rho = 0.05 -> scale 3.16, 95% half-width 7
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.05"))
    assert plan.scale == pytest.approx(math.sqrt(10), rel=1e-12)
    assert plan.half_width(0.05) == _dgauss_accuracy(math.sqrt(10), 0.05) == 7
    assert plan.radius(0.05) == 6


def test_gaussian_scale_is_the_smallest_that_fits():
    dp = opendp_prelude()
    spec, rho = BoundSpec(0, 30, 3), Rho.of("0.5")
    plan = plan_gaussian(spec, rho)
    space = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T="f64"))
    d_in = sensitivity(spec).l2
    assert Fraction(dp.m.make_gaussian(*space, scale=plan.scale).map(d_in)) <= rho.value
    smaller = plan.scale * (1 - 1e-9)
    assert Fraction(dp.m.make_gaussian(*space, scale=smaller).map(d_in)) > rho.value


@pytest.mark.parametrize(
    ("upper", "max_cells", "eps", "expected"),
    [(1, 1, Fraction(1), 1.0), (5, 2, Fraction(1, 2), 20.0), (360, 1, Fraction(3), 120.0)],
)
def test_laplace_scale_is_l1_over_epsilon(upper, max_cells, eps, expected):
    plan = plan_laplace(BoundSpec(0, upper, max_cells), eps)
    assert plan.scale == pytest.approx(expected, rel=1e-12)
    assert plan.epsilon == eps and plan.rho is None


@pytest.mark.parametrize("b", [0.7, 1.0, 5.0, 40.0])
def test_laplace_half_width_and_variance_follow_the_formulas(b):
    plan = NoisePlan("discrete_laplace", b, BoundSpec(0, 1), epsilon=Fraction(1) / Fraction(b))
    t = math.exp(-1 / b)
    # P(|X| >= a) = 2 t^a / (1 + t): solve = alpha
    expected = math.log(0.05 * (1 + t) / 2) / math.log(t)
    assert plan.half_width(0.05) == pytest.approx(expected, rel=1e-9)
    assert plan.variance() == pytest.approx(2 * t / (1 - t) ** 2, rel=1e-12)
    # the integer radius is honest: P(|X| <= r) >= 0.95
    r = plan.radius(0.05)
    assert 1 - 2 * t ** (r + 1) / (1 + t) >= 0.95


@pytest.mark.parametrize("sigma", [0.3, 0.8, 2.0, 3.5, 12.0, 50.0])
def test_gaussian_variance_and_radius_follow_the_series(sigma):
    plan = NoisePlan("discrete_gaussian", sigma, BoundSpec(0, 1), rho=Rho(Fraction(1, 1)))
    xs, p = _dgauss_pmf(sigma)
    assert plan.variance() == pytest.approx(float((xs**2 * p).sum()), rel=1e-9)
    assert plan.variance() <= sigma * sigma * (1 + 1e-12)
    assert plan.half_width(0.05) == _dgauss_accuracy(sigma, 0.05)
    assert p[np.abs(xs) <= plan.radius(0.05)].sum() >= 0.95


def test_small_sigma_variance_is_below_sigma_squared():
    plan = NoisePlan("discrete_gaussian", 0.5, BoundSpec(0, 1), rho=Rho.of(2))
    # terms |x| <= 3 by hand: 2(e^-2 + 4e^-8 + 9e^-18) / (1 + 2(e^-2 + e^-8 + e^-18))
    e = math.exp
    by_hand = 2 * (e(-2) + 4 * e(-8) + 9 * e(-18)) / (1 + 2 * (e(-2) + e(-8) + e(-18)))
    assert plan.variance() == pytest.approx(by_hand, rel=1e-12)
    assert plan.variance() < 0.25 * 0.9


def test_rho_for_half_width_is_minimal_in_micro_units():
    spec = BoundSpec(0, 1)
    rho = rho_for_half_width(spec, 7.0)
    assert plan_gaussian(spec, rho).half_width() <= 7.0
    less = Rho.from_micro(rho.to_micro_ceil() - 1)
    assert plan_gaussian(spec, less).half_width() > 7.0
    # closed form: the largest sigma whose 95% accuracy is <= 7, then rho = Δ²/(2σ²)
    sigma = 3.0
    while _dgauss_accuracy(sigma + 0.01, 0.05) <= 7:
        sigma += 0.01
    assert float(rho) == pytest.approx(1 / (2 * sigma**2), rel=0.01)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 2000),
    st.integers(1, 4),
    st.floats(1.0, 5000.0, allow_nan=False),
    st.sampled_from([0.05, 0.1, 0.01]),
)
def test_rho_for_half_width_delivers_the_half_width(upper, max_cells, half_width, alpha):
    spec = BoundSpec(0, upper, max_cells)
    rho = rho_for_half_width(spec, half_width, alpha)
    assert plan_gaussian(spec, rho).half_width(alpha) <= half_width


def test_add_noise_returns_int64_of_the_same_length_and_adds_noise():
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.0001"))  # sigma ~ 70
    out = add_noise(np.arange(500, dtype=np.int64), plan)
    assert out.dtype == np.int64 and out.shape == (500,)
    assert np.count_nonzero(out != np.arange(500)) > 450
    assert add_noise([], plan).shape == (0,)


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["discrete_gaussian", "discrete_laplace"])
def test_noise_has_mean_zero_and_the_planned_variance(mechanism):
    spec = BoundSpec(0, 10)
    plan = (
        plan_gaussian(spec, Rho.of("0.5"))
        if mechanism == "discrete_gaussian"
        else plan_laplace(spec, Fraction(1))
    )
    n = 40_000
    noise = add_noise(np.full(n, 1000, dtype=np.int64), plan) - 1000
    var = plan.variance()
    assert abs(noise.mean()) < 6 * math.sqrt(var / n)
    # sample variance: relative standard error <= sqrt((kurtosis - 1)/n) <= sqrt(5/n) for Laplace
    assert noise.var() == pytest.approx(var, rel=6 * math.sqrt(5 / n))


@pytest.mark.parametrize(
    "bad", [[1.5, 2.0], [True, False], np.array([2**60]), [[1, 2]], ["1"], [2**70]]
)
def test_add_noise_refuses_anything_but_moderate_integers(bad):
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.1"))
    with pytest.raises(AggregateRangeError):
        add_noise(bad, plan)


def test_a_plan_with_too_little_noise_is_refused_before_sampling():
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.05"))
    with pytest.raises(PlanMismatchError) as info:
        add_noise([1, 2, 3], dataclasses.replace(plan, scale=plan.scale * 0.8))
    assert info.value.stated == Fraction(1, 20)
    laplace = plan_laplace(BoundSpec(0, 1), Fraction(1))
    with pytest.raises(PlanMismatchError):
        add_noise([1], dataclasses.replace(laplace, spec=BoundSpec(0, 2)))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mechanism": "discrete_gaussian", "scale": 1.0, "epsilon": Fraction(1)},
        {"mechanism": "discrete_laplace", "scale": 1.0, "rho": Rho.of(1)},
        {"mechanism": "discrete_gaussian", "scale": 0.0, "rho": Rho.of(1)},
        {"mechanism": "discrete_gaussian", "scale": float("nan"), "rho": Rho.of(1)},
        {"mechanism": "gaussian", "scale": 1.0, "rho": Rho.of(1)},
    ],
)
def test_inconsistent_plans_are_refused(kwargs):
    with pytest.raises(MechanismError):
        NoisePlan(spec=BoundSpec(0, 1), **kwargs)


def test_planning_refuses_empty_budgets():
    with pytest.raises(MechanismError):
        plan_gaussian(BoundSpec(0, 1), Rho.zero())
    with pytest.raises(MechanismError):
        plan_laplace(BoundSpec(0, 1), Fraction(0))
    with pytest.raises(MechanismError):
        plan_laplace(BoundSpec(0, 1), 0.5)  # floats are not exact budgets


def test_a_forbidden_opendp_feature_stops_the_noise_path(monkeypatch):
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.05"))
    monkeypatch.setattr(opendp.mod, "GLOBAL_FEATURES", {"contrib", "honest-but-curious"})
    with pytest.raises(ForbiddenFeatureError) as info:
        add_noise([1, 2], plan)
    assert info.value.features == frozenset({"honest-but-curious"})
    with pytest.raises(ForbiddenFeatureError):
        make_measurement("discrete_laplace", 1.0)
