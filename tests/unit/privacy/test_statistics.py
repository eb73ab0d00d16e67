"""privacy.statistics: count and ratio intervals, differences, verdicts and rank ranges.

Statistical checks use numpy's Gaussian draws (tests only; the module itself uses no RNG) and
bounds that fail by chance with probability < 1e-6: a coverage over N independent trials is
checked against p ± 5.3·sqrt(p(1-p)/N) (two-sided normal tail 1.2e-7), plus the method's own
known bias where the interval is conservative by construction.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy.stats import norm

import privacy.statistics as statistics
from privacy.statistics import (
    KNOWN_RATIO,
    StatisticsError,
    count_intervals,
    difference,
    normal_quantiles,
    rank_ranges,
    ratio_intervals,
    verdict,
    z_value,
)

Z = z_value(0.05)
TAIL = 5.3


def test_doctests():
    failures, tried = doctest.testmod(statistics)
    assert tried >= 5 and failures == 0


def within(hits: int, n: int, p: float) -> bool:
    return abs(hits / n - p) <= TAIL * math.sqrt(p * (1 - p) / n)


# ── counts ─────────────────────────────────────────────────────────────────────────────────
def test_count_interval_is_estimate_plus_minus_z_sd_cut_at_zero_but_keeps_the_estimate():
    lo, hi = count_intervals([100.0, 2.0, -5.0, -50.0], [25.0] * 4)
    np.testing.assert_allclose(lo, [100 - 5 * Z, 0.0, -5.0, -50.0])
    np.testing.assert_allclose(hi, [100 + 5 * Z, 2 + 5 * Z, -5 + 5 * Z, 0.0])
    with pytest.raises(StatisticsError):
        count_intervals([1.0], [-1.0])
    with pytest.raises(StatisticsError):
        count_intervals([1.0], [1.0], alpha=1.5)


def test_count_interval_coverage_near_zero():
    """True counts 0 … 3 with sd 5: cutting at 0 keeps the coverage at least 95%, and the
    estimate is unbiased (it is not clipped)."""
    rng = np.random.default_rng(1)
    truth = np.repeat(np.arange(4.0), 50_000)
    est = truth + rng.normal(0, 5, truth.size)
    lo, hi = count_intervals(est, np.full(est.size, 25.0))
    hits = int(((lo <= truth) & (truth <= hi)).sum())
    # the upper end raised to 0 also covers a true 0 whose estimate fell below −1.96 sd
    assert 0.95 - TAIL * math.sqrt(0.95 * 0.05 / truth.size) <= hits / truth.size <= 0.975
    assert abs((est - truth).mean()) <= TAIL * 5 / math.sqrt(truth.size)


# ── ratios ─────────────────────────────────────────────────────────────────────────────────
def fieller_by_grid(n, d, vn, vd, c, grid):
    """Fieller's set by brute force on a grid of ratios."""
    ok = (n - grid * d) ** 2 <= Z * Z * (vn - 2 * grid * c + grid * grid * vd)
    return grid[ok].min(), grid[ok].max()


@pytest.mark.parametrize("n, d, vn, vd, c", [(50, 200, 25, 25, 0), (30, 100, 100, 400, 50),
                                             (5, 40, 30, 60, 20), (900, 1000, 400, 900, 380)])
def test_ratio_interval_is_fiellers_where_the_numerator_lies_in_zero_to_den(n, d, vn, vd, c):
    r = ratio_intervals([n], [d], [vn], [vd], c)
    lo, hi = fieller_by_grid(n, d, vn, vd, c, np.linspace(0, 1, 200_001))
    assert r.lower[0] == pytest.approx(lo, abs=1e-5)
    assert r.upper[0] == pytest.approx(hi, abs=1e-5)
    beta, x = c / vd, vd / d ** 2     # the estimate: n/d with its bias removed (issue 23)
    assert r.estimate[0] == pytest.approx(beta + (n / d - beta) * (1 - x + 3 * x * x))


def test_ratio_intervals_never_collapse_stay_inside_zero_one_and_hold_their_shown_value():
    """A noisy numerator at or below 0 (or above the denominator) must not give [0, 0] or
    [1, 1]; the shown value lies in the interval; no estimate where the denominator may be 0.
    (The unbiased estimate itself may leave [0, 1]: issue 23.)"""
    rng = np.random.default_rng(5)
    n = 50_000
    vn = rng.choice([1e2, 1e6, 1e10], n)
    vd = rng.choice([1e2, 1e6, 1e10], n)
    num = rng.normal(0, 1, n) * np.sqrt(vn) * rng.choice([0.5, 3, 10], n)
    den = rng.normal(1, 1, n) * 3e5
    cov = rng.uniform(-1, 1, n) * np.sqrt(vn * vd) * 0.5
    for complement in (False, True):
        r = ratio_intervals(num, den, vn, vd, cov, complement=complement)
        assert ((0 <= r.lower) & (r.lower < r.upper) & (r.upper <= 1)).all()
        ok = ~r.no_estimate
        assert ((r.lower[ok] <= r.shown[ok]) & (r.shown[ok] <= r.upper[ok])).all()
        assert (r.sd[ok] >= 0).all() and np.isfinite(r.sd[ok]).all()
        assert np.isnan(r.estimate[~ok]).all() and np.isnan(r.sd[~ok]).all()
        assert np.isnan(r.shown[~ok]).all()
        assert ((r.lower[~ok] == 0) & (r.upper[~ok] == 1)).all()
        assert (r.no_estimate == ((den <= 0) | (den * den <= Z * Z * vd))).all()
    low = (num <= 0) & ~r.no_estimate
    assert low.sum() > 1000


def test_a_negative_noisy_absent_total_gives_attendance_below_one():
    r = ratio_intervals([-50_000.0], [1_000_000.0], [1e9], [1e9], complement=True)
    # Fieller's set of the absence rate, [−0.074, 0.012], cut at 0: attendance [0.988, 1]
    assert r.shown[0] == 1.0 and r.upper[0] == 1.0
    assert r.lower[0] == pytest.approx(1 - (-50_000 + Z * math.sqrt(1e9 + 0.0)) / 1e6, abs=2e-4)
    assert r.estimate[0] > 1.0     # unbiased, not cut: files keep it, people read `shown`


@pytest.mark.parametrize("n_true, d_true, sd_n, sd_d, rho", [
    (30.0, 100.0, 5.0, 5.0, 0.0),       # delta method accurate (g = 0.01)
    (30.0, 100.0, 10.0, 30.0, 0.0),     # g = 0.35: Fieller, not delta
    (60.0, 100.0, 20.0, 20.0, 0.7),     # a share: numerator inside the denominator
    (2.0, 100.0, 5.0, 5.0, 0.0),        # rate near 0: the cut at 0 only adds coverage
])
def test_ratio_interval_coverage(n_true, d_true, sd_n, sd_d, rho):
    rng = np.random.default_rng(11)
    draws = 200_000
    cov = rho * sd_n * sd_d
    e = rng.multivariate_normal([0, 0], [[sd_n ** 2, cov], [cov, sd_d ** 2]], draws)
    r = ratio_intervals(n_true + e[:, 0], d_true + e[:, 1], sd_n ** 2, sd_d ** 2, cov)
    truth = n_true / d_true
    ok = ~r.no_estimate
    hits = int(((r.lower <= truth) & (truth <= r.upper)).sum())   # no estimate: [0, 1] covers
    if n_true / sd_n > 3:
        assert within(hits, draws, 0.95), hits / draws
    else:   # widened only, never narrowed: at least 95 %, at most 97.5 % + tail
        assert hits / draws >= 0.95 - TAIL * math.sqrt(0.95 * 0.05 / draws)
        assert hits / draws <= 0.98
    assert ok.mean() > 0.9


# ── differences and verdicts ───────────────────────────────────────────────────────────────
def test_difference_uses_the_covariance():
    d, sd, lo, hi = difference(10.0, 4.0, 4.0, 1.0, 1.0)
    assert d == 6.0 and sd == pytest.approx(math.sqrt(3.0))
    assert (lo, hi) == pytest.approx((6 - Z * math.sqrt(3), 6 + Z * math.sqrt(3)))
    assert difference(1.0, 1.0, 1.0, 1.0, -1.0)[1] == pytest.approx(2.0)


def test_a_verdict_agrees_with_the_interval_shown_when_one_side_is_nearly_known():
    """The issue's rule on many random pairs: when b's sd ≤ a's / 5, the verdict is
    "distinguishable" exactly when a's shown interval excludes b's estimate (and the mirror)."""
    rng = np.random.default_rng(3)
    for _ in range(20_000):
        sd_a = rng.uniform(0.001, 0.05)
        sd_b = sd_a * rng.uniform(0.0, KNOWN_RATIO)
        est_a, est_b = rng.uniform(0, 0.2), rng.uniform(0, 0.2)
        lo_a, hi_a = est_a - rng.uniform(1, 3) * sd_a, est_a + rng.uniform(1, 3) * sd_a  # asymmetric
        a = (est_a, sd_a, lo_a, hi_a)
        b = (est_b, sd_b, est_b - Z * sd_b, est_b + Z * sd_b)
        v = verdict(a, b, cov_ab=rng.uniform(-1, 1) * sd_a * sd_b)
        contains = lo_a <= est_b <= hi_a
        assert v["distinguishable"] == (not contains)
        w = verdict(b, a)
        assert w["distinguishable"] == (not contains)
        assert (v["difference"] > 0) == (est_a > est_b) or not v["distinguishable"]


def test_a_verdict_between_comparable_values_uses_their_covariance():
    a, b = (10.0, 2.0, 6.08, 13.92), (5.0, 2.0, 1.08, 8.92)
    independent = verdict(a, b, 0.0)
    correlated = verdict(a, b, 3.0)        # positive covariance: the difference is surer
    assert independent["rule"] == correlated["rule"] == "covariance"
    assert not independent["distinguishable"] and correlated["distinguishable"]
    assert correlated["sd"] == pytest.approx(math.sqrt(8 - 6))


# ── rank ranges ────────────────────────────────────────────────────────────────────────────
def test_quantiles_are_deterministic_and_stratified():
    q = normal_quantiles(1023, 5)
    assert np.array_equal(q, normal_quantiles(1023, 5))
    # each coordinate takes every stratum i/1024 once: its quantiles are exact
    expected = norm.ppf(np.arange(1, 1024) / 1024)
    for j in range(5):
        np.testing.assert_allclose(np.sort(q[:, j]), expected)


def test_rank_ranges_separate_clear_values_and_widen_for_close_ones():
    clear = rank_ranges([100.0, 50.0, 0.0], np.eye(3))
    assert clear.rank.tolist() == [1, 2, 3]
    assert clear.lower.tolist() == [1, 2, 3] and clear.upper.tolist() == [1, 2, 3]
    close = rank_ranges([1.0, 0.9, 0.8, -100.0], np.eye(4))
    assert close.lower[:3].tolist() == [1, 1, 1] and close.upper[:3].tolist() == [3, 3, 3]
    assert close.lower[3] == close.upper[3] == 4
    again = rank_ranges([1.0, 0.9, 0.8, -100.0], np.eye(4))
    assert np.array_equal(again.lower, close.lower) and np.array_equal(again.upper, close.upper)


def test_rank_ranges_of_ratios_use_the_transform_and_a_singular_covariance():
    mean = np.array([10.0, 20.0, 100.0, 100.0])            # ratios 0.1 and 0.2
    cov = np.zeros((4, 4))
    cov[0, 0] = cov[1, 1] = 1.0
    ratio = rank_ranges(mean, cov, transform=lambda x: x[:, :2] / x[:, 2:])
    assert ratio.rank.tolist() == [2, 1]
    assert ratio.lower.tolist() == [2, 1] and ratio.upper.tolist() == [2, 1]


@pytest.mark.slow
def test_rank_ranges_cover_every_true_rank_and_the_bootstrap_would_not():
    """30 close areas and 3 clear leaders, equal noise, 300 independent noisy releases: the
    published ranges (simultaneous differences) hold each area's true rank at least 95% of the
    time — the per-area minimum stays above 0.95 − 5.6 binomial sd (a chance failure has
    probability < 1e-6 over the 33 areas). The bootstrap quantiles of the rank miss the true
    rank of some areas far more often (measured minimum about 0.45): the check has teeth."""
    rng = np.random.default_rng(8)
    truth = np.r_[np.linspace(0, 1, 30), [4.0, 4.5, 5.0]]
    true_rank = np.argsort(np.argsort(-truth)) + 1
    runs = 300
    hits = {"differences": np.zeros(truth.size), "quantiles": np.zeros(truth.size)}
    for _ in range(runs):
        est = truth + rng.normal(0, 1, truth.size)
        for method in hits:
            r = rank_ranges(est, np.eye(truth.size), n_draws=1023, method=method)
            hits[method] += (r.lower <= true_rank) & (true_rank <= r.upper)
    floor = 0.95 - 5.6 * math.sqrt(0.95 * 0.05 / runs)
    assert (hits["differences"] / runs).min() >= floor
    assert (hits["quantiles"] / runs).min() < floor
