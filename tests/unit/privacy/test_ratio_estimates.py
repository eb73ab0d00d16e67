"""Rates, shares and the calls against the Netherlands (issue 23), on simulated draws from the
known Gaussian law of two noisy totals.

Each statistical check draws from numpy's Generator with the fixed seed written beside it, so
a run is deterministic; the bounds are set so that a correct method would also pass with any
other seed except with probability below 1e-6 (means and proportions against 5.3 standard
errors: a two-sided normal tail of 1.2e-7 per check). The planted bugs each check was tried
against are named in its docstring (docs/benchmarks.md, issue 23).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from privacy.statistics import (UNSTABLE_G, benjamini_hochberg, ratio_intervals, ratio_p_values,
                                z_value)

Z = z_value(0.05)
TAIL = 5.3
DRAWS = 200_000

#: (true numerator, true denominator, sd of each, correlation): rates near 0 and 1, a share
#: (numerator inside the denominator), tiny and large denominators; all with g < 0.25, where
#: the estimate is meant to be unbiased (the flag `ratio_unstable` marks the rest).
CASES = [
    (0.0, 100.0, 5.0, 5.0, 0.0),         # a reason no pupil had: truth exactly 0
    (2.0, 100.0, 5.0, 5.0, 0.0),         # a rare reason: numerator within its noise of 0
    (0.3, 1000.0, 2.0, 30.0, 0.0),
    (98.0, 100.0, 5.0, 5.0, 0.0),        # attendance-like: near 1
    (30.0, 100.0, 5.0, 5.0, 0.0),
    (15.0, 100.0, 9.5, 12.0, 0.78),      # chronic share of a school of 100 pupils
    (7.5, 50.0, 9.5, 12.0, 0.78),        # … of 50 pupils (g = 0.22)
    (60.0, 100.0, 20.0, 20.0, 0.7),
]


def draws(n, d, sd_n, sd_d, rho, seed):
    rng = np.random.default_rng(seed)
    cov = rho * sd_n * sd_d
    e = rng.multivariate_normal([0.0, 0.0], [[sd_n ** 2, cov], [cov, sd_d ** 2]], DRAWS)
    return n + e[:, 0], d + e[:, 1], sd_n ** 2, sd_d ** 2, cov


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_ratio_estimate_is_unbiased_and_its_sd_is_its_rmse(case):
    """|bias| ≤ 0.05 RMSE and RMSE/sd in [0.9, 1.1] (seed 23). Planted bugs caught: the old
    cut of the estimate to [0, 1] (bias +0.56, +0.31, +0.46, −0.39 RMSE at the rates near 0
    and 1; RMSE/sd 0.70–0.75), the uncorrected ratio n/d (bias −0.08 and −0.13 RMSE at the
    shares of 100 and 50 pupils), and the delta method's sd (RMSE/sd 0.81 at the share of 50
    pupils)."""
    n, d, sd_n, sd_d, rho = case
    num, den, vn, vd, cov = draws(*case, seed=23)
    r = ratio_intervals(num, den, vn, vd, cov)
    ok = ~r.no_estimate
    assert ok.mean() > 0.98
    err = r.estimate[ok] - n / d
    rmse = math.sqrt(float((err ** 2).mean()))
    # the sd of a mean of errors is ≈ rmse/√N; allow 0.05 rmse of bias plus the tail
    assert abs(err.mean()) <= (0.05 + TAIL / math.sqrt(ok.sum())) * rmse, err.mean() / rmse
    rms_sd = math.sqrt(float((r.sd[ok] ** 2).mean()))
    assert 0.9 <= rmse / rms_sd <= 1.1, rmse / rms_sd


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_ratio_interval_covers_95_percent(case):
    """Fieller's interval is exact for Gaussian totals: coverage 95% (seed 29), plus the
    sets that fall wholly below 0 (or above 1), which become [0, …] and hold the truth: about
    Φ(−(n/sd_n + z)), 2.5% where the truth is 0. Planted bug caught: the old upper end taken
    from max(n, 0) (97.5% at the rare reason of 0.02 and at the shares, against at most
    96.7% and 96.1%)."""
    n, d, sd_n, *_ = case
    num, den, vn, vd, cov = draws(*case, seed=29)
    r = ratio_intervals(num, den, vn, vd, cov)
    truth = n / d
    hits = float(((r.lower <= truth) & (truth <= r.upper)).mean())
    tol = TAIL * math.sqrt(0.95 * 0.05 / DRAWS)
    extra = norm.cdf(-(n / sd_n + Z)) + norm.cdf(-((d - n) / sd_n + Z))
    # the allowance 0.005: the denominator's noise, ignored in `extra`, at g up to 0.22
    assert 0.95 - tol <= hits <= 0.95 + extra + 0.005 + tol, (hits, extra)
    ok = ~r.no_estimate
    assert ((r.lower[ok] <= r.shown[ok]) & (r.shown[ok] <= r.upper[ok])).all()
    assert ((0 <= r.lower) & (r.lower < r.upper) & (r.upper <= 1)).all()


@pytest.mark.slow
def test_the_uncorrected_ratio_of_a_small_share_is_biased():
    """The second-order correction matters where the denominator is uncertain: a chronic share
    of 50 pupils (g = 0.22) has the plain ratio biased by ≈ −0.13 RMSE (seed 23), the published
    estimate by less than 0.04 (seed 31: this is the check the plain n/d fails)."""
    case = (7.5, 50.0, 9.5, 12.0, 0.78)
    num, den, vn, vd, cov = draws(*case, seed=31)
    r = ratio_intervals(num, den, vn, vd, cov)
    ok = ~r.no_estimate
    plain = num[ok] / den[ok] - 0.15
    published = r.estimate[ok] - 0.15
    rmse = math.sqrt(float((published ** 2).mean()))
    se = TAIL * rmse / math.sqrt(ok.sum())
    assert abs(published.mean()) <= 0.04 * rmse + se
    assert plain.mean() < -0.06 * rmse - se


def test_unstable_flag_marks_uncertain_denominators():
    r = ratio_intervals([10.0, 10.0], [100.0, 30.0], [25.0, 25.0], [100.0, 100.0])
    g = Z * Z * 100.0 / np.array([100.0, 30.0]) ** 2
    assert (r.unstable == (g >= UNSTABLE_G)).all() and r.unstable.tolist() == [False, True]


@pytest.mark.slow
def test_p_values_are_valid_and_agree_with_the_interval():
    """Under "truth = r0" the p-value is uniform (exact pivot; seed 37) or larger (a numerator
    moved into [0, den]); and p ≤ 0.05 never happens while the published 95% interval holds
    r0, for r0 anywhere in [0, 1] (so a call never sits beside an interval holding the
    national value). Planted bug caught: a pivot from the unmoved numerator (a call beside
    an interval [0, …] that holds a national value near 0)."""
    rng = np.random.default_rng(37)
    for case in CASES:
        n, d, sd_n, sd_d, rho = case
        num, den, vn, vd, cov = draws(*case, seed=int(rng.integers(1 << 30)))
        p, side = ratio_p_values(num, den, vn, vd, cov, n / d)
        rate = float((p <= 0.05).mean())
        tol = TAIL * math.sqrt(0.05 * 0.95 / DRAWS)
        assert rate <= 0.05 + tol, (case, rate)
        if min(n, d - n) / sd_n > 3:
            assert rate >= 0.05 - tol, (case, rate)
        r = ratio_intervals(num, den, vn, vd, cov)
        for r0 in (0.0, 1e-4, 0.01, n / d, 0.5, 0.99, 1.0):
            p, side = ratio_p_values(num, den, vn, vd, cov, r0)
            inside = (r.lower <= r0) & (r0 <= r.upper)
            assert not ((p <= 0.05) & inside).any(), (case, r0)
            called = p <= 0.05
            assert ((side[called] > 0) == (r.lower[called] > r0)).all()
    # complement: a test of attendance is the mirror of the test of absence
    num, den, vn, vd, cov = draws(*CASES[4], seed=41)
    p1, s1 = ratio_p_values(num, den, vn, vd, cov, 0.32)
    p2, s2 = ratio_p_values(num, den, vn, vd, cov, 0.68, complement=True)
    assert np.allclose(p1, p2) and (s1 == -s2).all()


def test_benjamini_hochberg_matches_its_definition():
    rng = np.random.default_rng(43)
    for _ in range(200):
        m = int(rng.integers(1, 60))
        p = np.where(rng.random(m) < 0.3, rng.random(m) * 1e-3, rng.random(m))
        calls, threshold = benjamini_hochberg(p, 0.05)
        ordered = np.sort(p)
        ks = [k for k in range(1, m + 1) if ordered[k - 1] <= 0.05 * k / m]
        r = max(ks) if ks else 0
        assert calls.sum() == r
        assert (calls == (p <= ordered[r - 1])).all() if r else not calls.any()
        assert threshold == pytest.approx(0.05 * max(r, 1) / m)
    calls, _ = benjamini_hochberg(np.array([np.nan, 0.001, 0.9]))
    assert calls.tolist() == [False, True, False]


def wrong_direction_share(per_comparison: bool, seed: int, replicates: int = 40) -> float:
    """Areas like the schools of a level for a rare reason: most truths within a tiny
    distance of the national value (no exact nulls), some clearly away, on both sides; calls
    from the exact p-values, by BH at 5% or (planted bug) per comparison at 5%. Returns the
    wrong-direction calls over all calls, pooled over replicates."""
    rng = np.random.default_rng(seed)
    m, national, d, sd_n, sd_d = 2_000, 0.02, 1_000.0, 6.0, 20.0
    wrong = calls = 0
    for _ in range(replicates):
        far = rng.random(m) < 0.1
        truth = national + np.where(far, rng.choice([-1, 1], m) * rng.uniform(0.01, 0.04, m),
                                    rng.normal(0, 0.001, m))
        truth = np.clip(truth, 0.0, 1.0)
        num = truth * d + rng.normal(0, sd_n, m)
        den = d + rng.normal(0, sd_d, m)
        p, side = ratio_p_values(num, den, sd_n ** 2, sd_d ** 2, 0.0, national)
        called = p <= 0.05 if per_comparison else benjamini_hochberg(p, 0.05)[0]
        true_side = np.sign(truth - national)
        wrong += int((called & (side != true_side)).sum())
        calls += int(called.sum())
    return wrong / calls


@pytest.mark.slow
def test_calls_against_the_country_keep_the_wrong_direction_share_below_five_percent():
    """BH over the areas keeps the wrong-direction share among calls ≤ 5% (measured 1.6%,
    seed 47; pooled over thousands of calls, so 5% is far outside chance). Planted bug
    caught: calls per comparison at 95% (wrong share 11.9%)."""
    assert wrong_direction_share(per_comparison=False, seed=47) <= 0.05
    assert wrong_direction_share(per_comparison=True, seed=47) > 0.10
