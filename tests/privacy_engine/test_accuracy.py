"""Cell and ratio intervals: their formulas and their empirical coverage."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.accuracy import (
    AccuracyError,
    cell_interval,
    ratio_interval,
    ratio_interval_for_plans,
)
from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.mechanisms import add_noise, plan_gaussian, plan_laplace


def test_ratio_interval_corners():
    r = ratio_interval(50, 10, 200, 10)
    assert r.estimate == 0.25
    assert r.lower == pytest.approx(40 / 210) and r.upper == pytest.approx(60 / 190)
    assert r.bounded
    neg = ratio_interval(-5, 10, 100, 20)  # numerator interval crosses zero
    assert neg.lower == pytest.approx(-15 / 80) and neg.upper == pytest.approx(5 / 80)


def test_ratio_interval_with_a_denominator_near_zero_is_unbounded():
    r = ratio_interval(3, 5, 4, 6)
    assert r.estimate == 0.75 and r.lower == -math.inf and r.upper == math.inf
    assert not r.bounded
    assert ratio_interval(3, 1, 4, 6).lower == pytest.approx(2 / 10)  # n > 0: lower end finite
    assert ratio_interval(3, 1, -2, 1).estimate is None


def test_clip_keeps_a_rate_in_its_public_range():
    r = ratio_interval(3, 5, 4, 6, clip=(0.0, 1.0))
    assert (r.lower, r.upper) == (0.0, 1.0)
    assert ratio_interval(12, 1, 10, 1, clip=(0.0, 1.0)).estimate == 1.0


def test_clip_never_returns_an_upper_end_below_the_lower_end():
    # A numerator whose whole interval is negative (noise of a zero count drew far below its
    # radius): intersecting with [0, 1] would give lower 0 > upper -0.0167, as CI once saw.
    r = ratio_interval(-50, 10, 2400, 30, clip=(0.0, 1.0))
    assert 0.0 <= r.lower <= r.upper <= 1.0
    assert (r.lower, r.upper, r.estimate) == (0.0, 0.0, 0.0)
    high = ratio_interval(300, 10, 100, 5, clip=(0.0, 1.0))  # whole box above 1
    assert (high.lower, high.upper) == (1.0, 1.0)


@settings(deadline=None)  # the property is exact; only timing could fail it
@given(st.integers(-10**6, 10**6), st.integers(0, 10**5), st.integers(-10**6, 10**6),
       st.integers(0, 10**5))
def test_clipped_ratio_interval_is_ordered_and_inside_its_range(n, nh, d, dh):
    r = ratio_interval(n, nh, d, dh, clip=(0.0, 1.0))
    assert 0.0 <= r.lower <= r.upper <= 1.0
    # the estimate is a point of the box, so it lies in the box's (clamped) range
    assert r.estimate is None or r.lower <= r.estimate <= r.upper


def test_negative_half_widths_are_refused():
    with pytest.raises(AccuracyError):
        ratio_interval(1, -1, 10, 1)
    with pytest.raises(AccuracyError):
        ratio_interval(1, 1, 10, float("nan"))


def test_cell_interval_flags_zero():
    plan = plan_gaussian(BoundSpec(0, 1), Rho.of("0.05"))  # radius 6
    c = cell_interval(4, plan)
    assert (c.lower, c.upper, c.includes_zero) == (-2, 10, True)
    assert not cell_interval(7, plan).includes_zero


@pytest.mark.slow
def test_cell_interval_coverage_is_95_percent_when_the_noise_is_wide():
    # sigma = 100: the integer radius is within 0.1 percentage point of the 95% quantile
    plan = plan_gaussian(BoundSpec(0, 1), Rho(Fraction(1, 20_000)))
    n = 20_000
    true = 12_345
    noisy = add_noise(np.full(n, true, dtype=np.int64), plan)
    r = plan.radius(0.05)
    coverage = float(np.mean(np.abs(noisy - true) <= r))
    assert 0.94 <= coverage <= 0.96


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["gaussian", "laplace"])
def test_ratio_interval_covers_at_least_95_percent(mechanism):
    spec_num, spec_den = BoundSpec(0, 60), BoundSpec(0, 360)
    if mechanism == "gaussian":
        p_num, p_den = plan_gaussian(spec_num, Rho.of("0.01")), plan_gaussian(spec_den, Rho.of("0.01"))
    else:
        p_num, p_den = plan_laplace(spec_num, Fraction(1, 10)), plan_laplace(spec_den, Fraction(1, 10))
    n = 5_000
    num_true, den_true = 4_000, 50_000
    nums = add_noise(np.full(n, num_true, dtype=np.int64), p_num)
    dens = add_noise(np.full(n, den_true, dtype=np.int64), p_den)
    hits = 0
    for a, b in zip(nums.tolist(), dens.tolist()):
        r = ratio_interval_for_plans(a, p_num, b, p_den, clip=(0.0, 1.0))
        hits += r.lower <= num_true / den_true <= r.upper
    # each total at 97.5% -> joint >= 95% (union bound); 5 standard errors of slack
    assert hits / n >= 0.95 - 5 * math.sqrt(0.05 * 0.95 / n)
