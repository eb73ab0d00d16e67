"""Empirical privacy audit of both mechanisms, and two planted bugs it must catch.

Each audit runs the mechanism DRAWS times on two neighbouring one-cell datasets (0 and one
pupil's largest contribution) and takes a Clopper–Pearson lower bound on ε at confidence
1 - 1e-3 (Bonferroni over a fixed threshold grid). A correct mechanism must stay at or below
its claimed ε; the planted bugs — a pupil counted twice, 20% too little noise — must exceed
it. Budgets are large (ρ = 1, ε = 1) so that 50,000 draws per neighbour give the audit power.
The noise is OpenDP's and cannot be seeded; the bugs are caught with a margin of about 0.5 (Gaussian) and 0.18 (Laplace) in ε, many standard deviations of the bound.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import norm

from privacy.audit import (
    audit,
    clopper_pearson_lower,
    clopper_pearson_upper,
    default_thresholds,
    discrete_gaussian_delta,
    discrete_gaussian_epsilon,
    epsilon_lower_bound,
    plan_sampler,
)
from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.mechanisms import make_measurement, plan_gaussian, plan_laplace

DRAWS = 50_000
UPPER_G, RHO, DELTA = 10, Rho.of(1), 0.05
UPPER_L, EPS = 5, Fraction(1)


# --- planted bugs: test-only fixtures, never reachable from the service --------------------
def counted_twice(sample):
    """Bug (a): SQL counts one pupil twice, so neighbours differ by 2 x upper in the cell
    while the plan still assumes the spec's sensitivity."""
    return lambda value, n: sample(2 * value, n)


def too_little_noise(plan):
    """Bug (b): the measurement is built with 80% of the planned scale."""
    meas = make_measurement(plan.mechanism, plan.scale * 0.8)
    return lambda value, n: np.asarray(meas([int(value)] * n), dtype=np.int64)


# --- the audits -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gaussian():
    plan = plan_gaussian(BoundSpec(0, UPPER_G), RHO)
    claimed = discrete_gaussian_epsilon(plan.scale, UPPER_G, DELTA)
    thresholds = default_thresholds(0, 2 * UPPER_G, plan.scale)
    return plan, claimed, thresholds


@pytest.fixture(scope="module")
def laplace():
    plan = plan_laplace(BoundSpec(0, UPPER_L), EPS)
    thresholds = default_thresholds(0, 2 * UPPER_L, plan.scale)
    return plan, float(EPS), thresholds


def test_gaussian_claim_is_the_exact_curve_and_below_the_services_epsilon(gaussian):
    plan, claimed, _ = gaussian
    assert claimed <= RHO.epsilon(DELTA)
    assert discrete_gaussian_delta(plan.scale, UPPER_G, claimed) <= DELTA
    assert discrete_gaussian_delta(plan.scale, UPPER_G, claimed - 1e-6) > DELTA
    # the continuous Gaussian at the same mu = Δ/σ (Balle & Wang 2018) is very close
    mu = UPPER_G / plan.scale
    cont = norm.cdf(mu / 2 - claimed / mu) - math.exp(claimed) * norm.cdf(-mu / 2 - claimed / mu)
    assert cont == pytest.approx(DELTA, rel=0.02)


@pytest.mark.slow
def test_gaussian_mechanism_passes_the_audit(gaussian):
    plan, claimed, thresholds = gaussian
    result = audit(plan_sampler(plan), UPPER_G, 0, DRAWS, claimed, DELTA, thresholds)
    assert not result.violated, result
    assert result.epsilon_lower > 0.5 * claimed  # the audit has teeth: it sees most of ε


@pytest.mark.slow
def test_gaussian_audit_catches_a_pupil_counted_twice(gaussian):
    plan, claimed, thresholds = gaussian
    result = audit(counted_twice(plan_sampler(plan)), UPPER_G, 0, DRAWS, claimed, DELTA, thresholds)
    assert result.violated, result


@pytest.mark.slow
def test_gaussian_audit_catches_too_little_noise(gaussian):
    plan, claimed, thresholds = gaussian
    result = audit(too_little_noise(plan), UPPER_G, 0, DRAWS, claimed, DELTA, thresholds)
    assert result.violated, result


@pytest.mark.slow
def test_laplace_mechanism_passes_the_audit(laplace):
    plan, claimed, thresholds = laplace
    result = audit(plan_sampler(plan), UPPER_L, 0, DRAWS, claimed, 0.0, thresholds)
    assert not result.violated, result
    assert result.epsilon_lower > 0.8 * claimed


@pytest.mark.slow
def test_laplace_audit_catches_a_pupil_counted_twice(laplace):
    plan, claimed, thresholds = laplace
    result = audit(counted_twice(plan_sampler(plan)), UPPER_L, 0, DRAWS, claimed, 0.0, thresholds)
    assert result.violated, result


@pytest.mark.slow
def test_laplace_audit_catches_too_little_noise(laplace):
    plan, claimed, thresholds = laplace
    result = audit(too_little_noise(plan), UPPER_L, 0, DRAWS, claimed, 0.0, thresholds)
    assert result.violated, result


def test_the_release_path_refuses_the_too_little_noise_plan_outright(gaussian):
    """The same bug arriving as a hand-built plan never reaches the sampler."""
    from privacy.mechanisms import PlanMismatchError, add_noise

    plan, _, _ = gaussian
    with pytest.raises(PlanMismatchError):
        add_noise([0], dataclasses.replace(plan, scale=plan.scale * 0.8))


# --- the statistics under the audit ------------------------------------------------------
def test_clopper_pearson_edges_and_a_closed_form():
    n, alpha = 1000, 0.01
    assert clopper_pearson_lower(0, n, alpha) == 0.0
    assert clopper_pearson_upper(n, n, alpha) == 1.0
    # k = 0: the upper bound solves (1 - p)^n = alpha
    assert clopper_pearson_upper(0, n, alpha) == pytest.approx(1 - alpha ** (1 / n), rel=1e-9)
    # k = n: the lower bound solves p^n = alpha
    assert clopper_pearson_lower(n, n, alpha) == pytest.approx(alpha ** (1 / n), rel=1e-9)
    lo, hi = clopper_pearson_lower(300, n, alpha), clopper_pearson_upper(300, n, alpha)
    assert lo < 0.3 < hi


def test_epsilon_lower_bound_on_known_counts():
    # outputs 1 in 90% of A and 10% of B: ε >= ln(lo(0.9)/hi(0.1)) < ln 9
    a = np.array([1] * 9000 + [0] * 1000)
    b = np.array([1] * 1000 + [0] * 9000)
    eps, event = epsilon_lower_bound(a, b, [1], delta=0.0, alpha=0.01)
    level = 0.01 / 8
    expected = math.log(clopper_pearson_lower(9000, 10_000, level) / clopper_pearson_upper(1000, 10_000, level))
    assert eps == pytest.approx(expected)
    assert 0 < eps < math.log(9)
    assert epsilon_lower_bound(a, a, [1], 0.0, 0.01)[0] == 0.0  # identical outputs: nothing
