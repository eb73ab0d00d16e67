"""The one statistics module: intervals for counts and ratios, differences and rank ranges.

Every published number is a linear (counts) or ratio (rates, shares) function of unbiased,
approximately Gaussian estimates whose variances and covariances are known exactly: the raw
noisy totals of a query (independent, variance from the noise plan) or the reconciled GLS
totals of a release (covariance from `privacy.consistency.Reconciled.covariance`). This module
turns those into what users read, and nothing else computes an interval:

- `count_intervals`: the estimate ± z·sd, its lower end cut at a public bound (0 pupils);
- `ratio_intervals`: num/den of two correlated totals. The estimate removes the ratio's
  bias to second order and is not cut to [0, 1] (a cut is a bias); its sd is its root mean
  squared error under the totals' Gaussian law; the interval is Fieller's (the set of ratios
  r for which num − r·den is within z sd of 0: exact for Gaussian totals) cut to [0, 1], and
  `shown` is the estimate moved into it, for reading. Where the denominator's interval
  reaches 0 there is no estimate; `ratio_p_values` gives the matching tests against a value;
- `benjamini_hochberg`: the calls "higher/lower than the Netherlands" over all areas of a
  level, with the false discovery rate controlled;
- `difference` and `verdict`: the difference of two published values from their real
  covariance, and the rule that makes a verdict a statement about the intervals shown
  (docs/privacy.md, "Verdicts");
- `rank_ranges`: each area's 95% range of ranks from simultaneous intervals of its
  differences with every other area, their critical value simulated from the published
  estimates' covariance with deterministic quasi-random draws (unscrambled Sobol points
  through the normal quantile). No random number generator is involved: the same release
  gives the same ranges (invariant 1 keeps every RNG out of the release path).

Privacy: post-processing of noisy values, their public noise variances and public structure
only; no true value enters (Dwork and Roth 2014, Prop. 2.1; Bun and Steinke 2016, Lemma 1.8).

References: E. C. Fieller, "Some problems in interval estimation", JRSS B 16 (1954);
Klein, Wright and Wieczorek, "A joint confidence region for an overall ranking of
populations", JRSS C 69 (2020), for rank uncertainty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cholesky
from scipy.stats import norm, qmc

from privacy.blas_threads import one_blas_thread

__all__ = [
    "KNOWN_RATIO",
    "RankRanges",
    "RatioEstimates",
    "StatisticsError",
    "UNSTABLE_G",
    "benjamini_hochberg",
    "count_intervals",
    "difference",
    "normal_quantiles",
    "rank_ranges",
    "ratio_intervals",
    "ratio_p_values",
    "verdict",
    "z_value",
]

#: A value whose sd is at most this fraction of the other's counts as known in a verdict.
KNOWN_RATIO = 0.2
#: Quasi-random draws for rank ranges (2⁹ − 1: the unscrambled Sobol points without 0); they
#: set the simultaneous critical value (a 95% quantile of a maximum: about 25 draws beyond it).
RANK_DRAWS = 511


class StatisticsError(ValueError):
    """Arguments that cannot define an interval (negative variance, alpha outside (0, 1))."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def z_value(alpha: float = 0.05) -> float:
    """The two-sided normal quantile ``z_{1-alpha/2}`` (1.96 for 95%)."""
    if not 0.0 < alpha < 1.0:
        raise StatisticsError(f"alpha must be in (0, 1), got {alpha}")
    return float(norm.ppf(1.0 - alpha / 2.0))


def _variance(name: str, value) -> np.ndarray:
    v = np.asarray(value, dtype=np.float64)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        raise StatisticsError(f"{name} must be finite and >= 0")
    return v


def count_intervals(estimate, variance, alpha: float = 0.05,
                    floor: float | None = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``estimate ± z·sd`` cut at ``floor`` (a public bound the true value satisfies: 0
    pupils), but never cut past the estimate itself: an unbiased estimate of a tiny group can
    be negative, and its interval still contains it. Cutting where the truth cannot lie never
    lowers coverage.

    >>> lo, hi = count_intervals([10.0, 1.0, -3.0], [4.0, 4.0, 4.0])
    >>> [round(float(x), 2) for x in lo], [round(float(x), 2) for x in hi]
    ([6.08, 0.0, -3.0], [13.92, 4.92, 0.92])
    """
    est = np.asarray(estimate, dtype=np.float64)
    half = z_value(alpha) * np.sqrt(_variance("variance", variance))
    lower, upper = est - half, est + half
    if floor is not None:
        lower = np.minimum(np.maximum(lower, floor), est)
        upper = np.maximum(upper, floor)
    return lower, upper


@dataclass(frozen=True)
class RatioEstimates:
    """Ratios with their sd and interval; ``estimate``/``shown``/``sd`` are nan where the
    denominator's interval reaches 0 (``no_estimate``), and the interval is then [0, 1].

    ``estimate`` is the approximately unbiased estimate (for anyone who aggregates: it may lie
    a little outside [0, 1], and then outside the interval); ``shown`` is the value for reading:
    the estimate moved into the interval, so it always lies in [lower, upper] ⊂ [0, 1]. ``sd``
    is the root mean squared error of ``estimate`` (not of ``shown``)."""

    estimate: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    no_estimate: np.ndarray   # bool: the denominator may be zero
    unstable: np.ndarray      # bool: z²·var(den)/den² ≥ UNSTABLE_G (second-order bias left)
    shown: np.ndarray


def _fieller_ends(n, d, vn, vd, c, z):
    """Both ends of Fieller's set {r : (n − r d)² ≤ z² (vn − 2 r c + r² vd)} where
    d² > z² vd (the set is then a bounded interval containing n/d)."""
    a = d * d - z * z * vd
    b = n * d - z * z * c
    c0 = n * n - z * z * vn
    root = np.sqrt(np.maximum(b * b - a * c0, 0.0))
    return (b - root) / a, (b + root) / a


#: The ratio's correction factor K(x) = 1 − x + 3x² of (n/d − β), x = var(den)/den²: with the
#: denominator's relative error v ~ N(0, x), E[1/(1+v)] = 1 + x + 3x² + O(x³), and the plug-in
#: x̂ = x/(1+v)² makes E[K(x̂)/(1+v)] = 1 + O(x³) (docs/privacy.md, "Rates and shares").
def _correction(x):
    return 1.0 - x + 3.0 * x * x


#: Above this g = z²·var(den)/den² the third-order bias of the corrected ratio and the
#: selection on a defined denominator are no longer negligible (measured in
#: docs/benchmarks.md): such cells carry the flag `ratio_unstable`.
UNSTABLE_G = 0.25
_MOMENT_GRID = 256


def _moment_table(z: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """E[Q | defined] and E[Q² | defined] for Q = K(x/(1+v)²)/(1+v), v ~ N(0, x), on a grid of
    x in [0, 1/z²] (deterministic quadrature: the trapezoid rule on ±9 sd). "Defined" is the
    published condition: 1 + v > 0 and z²·x/(1+v)² < 1."""
    key = round(z, 12)
    table = _MOMENTS.get(key)
    if table is None:
        xs = np.linspace(0.0, 1.0 / (z * z), _MOMENT_GRID)
        t = np.linspace(-9.0, 9.0, 6001)
        w = np.exp(-0.5 * t * t)
        one = 1.0 + np.sqrt(xs)[:, None] * t[None, :]
        ok = one > 0
        inv = np.where(ok, 1.0 / np.where(ok, one, 1.0), 0.0)
        xh = xs[:, None] * inv * inv
        ok &= z * z * xh < 1.0
        q = inv * _correction(xh)
        mass = (w * ok).sum(axis=1)
        m1 = (w * ok * q).sum(axis=1) / mass
        m2 = (w * ok * q * q).sum(axis=1) / mass
        table = (xs, m1, m2)
        _MOMENTS[key] = table
    return table


_MOMENTS: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def ratio_intervals(num, den, var_num, var_den, cov=0.0, alpha: float = 0.05, *,
                    complement: bool = False) -> RatioEstimates:
    """num/den of two jointly Gaussian unbiased totals with known (co)variances, for a part of
    a whole (0 ≤ true num ≤ true den per pupil, so the true ratio lies in [0, 1]).

    Estimate (docs/privacy.md): write num = β·den + ε with β = cov/var_den, so that ε is
    independent of den; then E[num/den] = β + (r − β)·E[d/den], and the estimate
    β + (num/den − β)·K(x̂) with K(x) = 1 − x + 3x², x̂ = var_den/den², removes the
    denominator's bias up to O(x³). It is not cut to [0, 1] (a cut is a bias: issue 23).
    sd: the root mean squared error of that estimate under the two totals' Gaussian law,
    a²·(m2 − 2·m1 + 1) + var(ε)/den²·m2 with a = r − β and m1, m2 the first two moments of
    K(x̂)·d/den (deterministic quadrature), plugged in at the estimates.
    Interval: Fieller's (exact for Gaussian totals) cut to [0, 1]; where Fieller's set misses
    [0, 1] (a noisy numerator far below 0 or above the denominator) the set of the numerator
    moved to 0 (or to the denominator), which only widens it. ``shown``: the estimate moved into
    the interval. Where den ≤ z·sd(den) the data do not bound the ratio: no estimate, interval
    [0, 1]. ``complement``: publish 1 − ratio (attendance from absence).

    >>> r = ratio_intervals([50.0], [200.0], [25.0], [25.0])
    >>> round(float(r.estimate[0]), 4), round(float(r.lower[0]), 4), round(float(r.upper[0]), 4)
    (0.2498, 0.2, 0.3012)
    """
    z = z_value(alpha)
    n = np.asarray(num, dtype=np.float64)
    d = np.asarray(den, dtype=np.float64)
    vn, vd = _variance("var_num", var_num), _variance("var_den", var_den)
    c = np.broadcast_to(np.asarray(cov, dtype=np.float64), n.shape)
    n, d, vn, vd, c = np.broadcast_arrays(n, d, vn, vd, c)
    defined = (d > 0) & (d * d > z * z * vd)
    safe_d = np.where(defined, d, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo_f, hi_f = _fieller_ends(n, safe_d, vn, vd, c, z)
        lower, upper = np.maximum(lo_f, 0.0), np.minimum(hi_f, 1.0)
        below, above = hi_f <= 0.0, lo_f >= 1.0
        upper = np.where(below, _fieller_ends(np.zeros_like(n), safe_d, vn, vd, c, z)[1], upper)
        lower = np.where(above, 1.0 - _fieller_ends(np.zeros_like(n), safe_d, vn + vd - 2 * c,
                                                    vd, vd - c, z)[1], lower)
        lower, upper = np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)
        x = vd / (safe_d * safe_d)
        beta = np.where(vd > 0, c / np.where(vd > 0, vd, 1.0), 0.0)
        ratio = beta + (n / safe_d - beta) * _correction(x)
        xs, m1_t, m2_t = _moment_table(z)
        m1, m2 = np.interp(x, xs, m1_t), np.interp(x, xs, m2_t)
        a = ratio - beta
        v_eps = np.maximum(vn - np.where(vd > 0, c * c / np.where(vd > 0, vd, 1.0), 0.0), 0.0) \
            / (safe_d * safe_d)
        sd = np.sqrt(np.maximum(a * a * (m2 - 2 * m1 + 1) + v_eps * m2, 0.0))
    no_estimate = ~defined
    unstable = defined & (z * z * x >= UNSTABLE_G)
    estimate = np.where(no_estimate, np.nan, ratio)
    sd = np.where(no_estimate, np.nan, sd)
    lower, upper = np.where(no_estimate, 0.0, lower), np.where(no_estimate, 1.0, upper)
    shown = np.where(no_estimate, np.nan, np.clip(estimate, lower, upper))
    if complement:
        estimate, lower, upper, shown = 1.0 - estimate, 1.0 - upper, 1.0 - lower, 1.0 - shown
    return RatioEstimates(estimate, sd, lower, upper, no_estimate, unstable, shown)


def ratio_p_values(num, den, var_num, var_den, cov, value, *,
                   complement: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values of "the true ratio equals ``value``" and the side of the data
    (+1: above, −1: below, 0: no estimate), from Fieller's pivot
    (num − r₀·den)/sd(num − r₀·den), which is exactly N(0, 1) for Gaussian totals when the
    truth is r₀. The numerator is first moved into [0, den] (only where it lies outside: there
    the p-value grows), so that p ≤ alpha implies that the published 1 − alpha interval of
    `ratio_intervals` excludes ``value``: a verdict never contradicts the interval shown.
    ``complement``: ``value`` is of 1 − ratio (attendance), and so is the side."""
    n = np.asarray(num, dtype=np.float64)
    d = np.asarray(den, dtype=np.float64)
    vn, vd = _variance("var_num", var_num), _variance("var_den", var_den)
    r0 = np.asarray(value, dtype=np.float64)
    if complement:
        r0 = 1.0 - r0
    n, d, vn, vd, c, r0 = np.broadcast_arrays(n, d, vn, vd,
                                              np.asarray(cov, dtype=np.float64), r0)
    defined = (d > 0) & (d * d > z_value() ** 2 * vd) & np.isfinite(r0)
    moved = np.clip(n, 0.0, np.maximum(d, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (moved - r0 * d) / np.sqrt(np.maximum(vn - 2 * r0 * c + r0 * r0 * vd, 1e-300))
    p = np.where(defined, 2.0 * norm.sf(np.abs(t)), 1.0)
    side = np.where(defined, np.sign(t), 0.0) * (-1.0 if complement else 1.0)
    return p, side


def benjamini_hochberg(p_values, q: float = 0.05) -> tuple[np.ndarray, float]:
    """The Benjamini–Hochberg step-up procedure at false discovery rate ``q``: which
    hypotheses are rejected, and the threshold t = R·q/m (rejected ⇔ p ≤ t; t = q/m when
    none is). Nan p-values take no part (they are not counted in m).

    >>> calls, threshold = benjamini_hochberg([0.001, 0.02, 0.03, 0.5], q=0.05)
    >>> calls.tolist(), round(threshold, 4)
    ([True, True, True, False], 0.0375)
    """
    p = np.asarray(p_values, dtype=np.float64)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return np.zeros(p.shape, bool), q
    ordered = np.sort(p[ok])
    passed = np.flatnonzero(ordered <= q * np.arange(1, m + 1) / m)
    r = int(passed[-1]) + 1 if passed.size else 0
    threshold = q * max(r, 1) / m
    return ok & (p <= threshold) & (r > 0), float(threshold)


def difference(est_a, est_b, var_a, var_b, cov_ab=0.0,
               alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a − b, sd, lower, upper): ``sd² = var_a + var_b − 2 cov_ab`` from the real covariance
    (0 between different releases, whose noise is independent).

    >>> [round(float(x), 3) for x in difference(10.0, 4.0, 4.0, 1.0, 1.0)]
    [6.0, 1.732, 2.605, 9.395]
    """
    diff = np.asarray(est_a, dtype=np.float64) - np.asarray(est_b, dtype=np.float64)
    var = np.asarray(var_a, dtype=np.float64) + np.asarray(var_b, dtype=np.float64) \
        - 2.0 * np.asarray(cov_ab, dtype=np.float64)
    sd = np.sqrt(np.maximum(var, 0.0))
    half = z_value(alpha) * sd
    return diff, sd, diff - half, diff + half


def verdict(a: tuple[float, float, float, float], b: tuple[float, float, float, float],
            cov_ab: float = 0.0, alpha: float = 0.05) -> dict:
    """The difference a − b of two published values and whether it stands out from the noise.

    ``a`` and ``b`` are (estimate, sd, lower, upper) as published. The rule (docs/privacy.md):
    where one side's sd is at most `KNOWN_RATIO` (1/5) of the other's, that side counts as
    known and the difference's interval is the other side's published interval shifted by its
    estimate: the verdict then says exactly whether the shown interval contains the known
    value. Otherwise the interval is ``a − b ± z·sd`` with ``sd² = sd_a² + sd_b² − 2 cov``.
    "Distinguishable" means the difference's interval excludes 0.

    >>> v = verdict((0.09, 0.02, 0.05, 0.13), (0.06, 0.001, 0.058, 0.062))
    >>> v["rule"], v["distinguishable"], round(v["lower"], 3)
    ('b_known', False, -0.01)
    """
    est_a, sd_a, lo_a, hi_a = a
    est_b, sd_b, lo_b, hi_b = b
    if sd_b <= KNOWN_RATIO * sd_a:
        rule, lower, upper = "b_known", lo_a - est_b, hi_a - est_b
        sd = sd_a
    elif sd_a <= KNOWN_RATIO * sd_b:
        rule, lower, upper = "a_known", est_a - hi_b, est_a - lo_b
        sd = sd_b
    else:
        _, sd, lower, upper = (float(x) for x in difference(est_a, est_b, sd_a ** 2, sd_b ** 2,
                                                            cov_ab, alpha))
        rule = "covariance"
    diff = est_a - est_b
    return {"difference": float(diff), "lower": float(lower), "upper": float(upper),
            "sd": float(sd), "distinguishable": bool(lower > 0 or upper < 0), "rule": rule}


def normal_quantiles(n_draws: int, dim: int) -> np.ndarray:
    """``n_draws × dim`` standard normal quantiles at unscrambled Sobol points (the origin
    skipped): deterministic, and each coordinate's points are exactly the strata i/2^m."""
    if dim < 1 or n_draws < 1:
        raise StatisticsError("need at least one draw and one dimension")
    # The first d coordinates of Sobol points do not depend on the total dimension: keep one
    # table per draw count and grow it when a wider one is asked.
    table = _QUANTILES.get(n_draws)
    if table is None or table.shape[1] < dim:
        sobol = qmc.Sobol(max(dim, 64), scramble=False)
        sobol.fast_forward(1)
        table = norm.ppf(sobol.random(n_draws))
        table.flags.writeable = False
        _QUANTILES[n_draws] = table
    return table[:, :dim]


_QUANTILES: dict[int, np.ndarray] = {}


def _root(cov: np.ndarray) -> np.ndarray:
    """A matrix L with L Lᵀ = cov: Cholesky, or (for a singular covariance, e.g. two areas
    with the same schools) a symmetric square root from the eigendecomposition."""
    try:
        return cholesky(cov, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0.0, None))


@dataclass(frozen=True)
class RankRanges:
    """Rank 1 = highest value. ``rank`` from the estimates; ``lower``/``upper`` the 2.5% and
    97.5% quantiles of the rank over the draws (1 ≤ lower ≤ upper ≤ k)."""

    rank: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def rank_ranges(mean, cov, *, transform: Callable[[np.ndarray], np.ndarray] | None = None,
                alpha: float = 0.05, n_draws: int = RANK_DRAWS,
                method: str = "differences") -> RankRanges:
    """Ranges of ranks for k values whose estimates have joint Gaussian ``(mean, cov)``.

    ``transform`` maps draws (n × len(mean)) to the k ranked values (e.g. a ratio of the two
    halves of a stacked numerator/denominator vector); without it the draws are ranked
    themselves. Ranks are by descending value (1 = highest), ties by position.

    ``method="differences"`` (published): for each area i, the draws give the joint
    distribution of the errors of its k − 1 differences θ_j − θ_i; c_i is the (1 − alpha)
    quantile of their largest standardised size, so that with probability 1 − alpha every
    difference lies within c_i sd of its estimate. Then every area significantly above i is
    truly above it, and i's true rank lies in
    [1 + #{j significantly above}, k − #{j significantly below}] with probability ≥ 1 − alpha
    (the simultaneous-comparison construction of Klein, Wright and Wieczorek 2020, with the
    critical value from the joint distribution instead of Bonferroni).
    ``method="quantiles"``: the alpha/2 and 1 − alpha/2 quantiles of i's rank over draws around
    the estimates (a parametric bootstrap). Measured in docs/benchmarks.md, it misses the true
    rank of extreme areas far more often than 5%: kept for that comparison only.
    """
    if method not in ("differences", "quantiles"):
        raise StatisticsError(f"unknown rank-range method {method!r}")
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    if cov.shape != (mean.size, mean.size):
        raise StatisticsError("cov must be a square matrix matching mean")
    transform = transform or (lambda x: x)
    point = np.asarray(transform(mean[None, :]), dtype=np.float64)[0]
    k = point.size
    if k == 0:
        empty = np.empty(0, dtype=np.int64)
        return RankRanges(empty, empty, empty)
    with one_blas_thread():   # matrices of a few hundred: threads only contend
        root = _root((cov + cov.T) / 2.0)
        draws = mean + normal_quantiles(n_draws, mean.size) @ root.T
    values = np.asarray(transform(draws), dtype=np.float64)
    rank = _ranks(point[None, :])[0]
    if method == "quantiles":
        ranks = _ranks(values)
        lower = np.quantile(ranks, alpha / 2.0, axis=0, method="inverted_cdf")
        upper = np.quantile(ranks, 1.0 - alpha / 2.0, axis=0, method="inverted_cdf")
    else:
        lower, upper = _difference_ranges(point, values - point, alpha)
    return RankRanges(rank, np.minimum(lower, rank).astype(np.int64),
                      np.maximum(upper, rank).astype(np.int64))


#: Bytes of the working block of `_difference_ranges` (areas × areas × draws in float32): small
#: enough to stay in a core's cache, so each pass over it does not go out to memory.
_BLOCK_BYTES = 1 << 20


def _difference_ranges(point: np.ndarray, dev: np.ndarray,
                       alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Rank bounds from simultaneous intervals of each area's differences (see rank_ranges);
    ``dev``: draws of the errors (n × k).

    For area i and draw s the largest standardised error of its differences is
    ``worst[i, s] = max_j |dev[s, j] − dev[s, i]| / sd(θ_j − θ_i)`` (j ≠ i, twins left out),
    computed in float32 (the quantile of a maximum: single precision is ample) over blocks of
    areas in one preallocated buffer, laid out draws-last so that every pass is contiguous.
    The arithmetic per element is the same as the former per-area loop's (difference,
    absolute value, times the inverse sd, maximum), so the bounds are the same to the bit
    (tests/unit/privacy/test_rank_ranges_vectorised.py keeps that loop as the reference)."""
    n, k = dev.shape
    dev = dev.astype(np.float32)
    with one_blas_thread():
        c_dev = (dev.T @ dev).astype(np.float64) / n
    var = np.diag(c_dev)
    sd = np.sqrt(np.maximum(var[:, None] + var[None, :] - 2 * c_dev, 0.0))   # k × k
    own = sd <= 1e-12 * (1.0 + np.abs(point[None, :]))        # j = i (or an identical twin)
    inv = np.where(own, 0.0, 1.0 / np.where(own, 1.0, sd)).astype(np.float32)
    dev_t = np.ascontiguousarray(dev.T)                        # k × n
    if np.array_equal(inv, inv.T):
        worst = _worst_symmetric(dev_t, inv)
    else:
        worst = _worst(dev_t, inv)
    c = np.quantile(worst, 1.0 - alpha, axis=1, method="inverted_cdf")
    diff = point[None, :] - point[:, None]                     # k × k: θ̂_j − θ̂_i
    half = c[:, None] * sd
    above = ((diff - half > 0) & ~own).sum(axis=1)
    below = ((diff + half < 0) & ~own).sum(axis=1)
    return (1 + above).astype(np.int64), (k - below).astype(np.int64)


def _worst(dev_t: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """``worst[i, s] = max_j |dev_t[j, s] − dev_t[i, s]| · inv[i, j]`` (k × n, float32), over
    blocks of areas i in one preallocated buffer."""
    k, n = dev_t.shape
    worst = np.empty((k, n), dtype=np.float32)
    block = max(1, _BLOCK_BYTES // (4 * n * k))
    buffer = np.empty((min(block, k), k, n), dtype=np.float32)
    for start in range(0, k, block):
        stop = min(start + block, k)
        d = buffer[:stop - start]                              # b × k × n: θ_j − θ_i errors
        np.subtract(dev_t[None, :, :], dev_t[start:stop, None, :], out=d)
        np.abs(d, out=d)
        d *= inv[start:stop, :, None]
        d.max(axis=1, out=worst[start:stop])
    return worst


def _worst_symmetric(dev_t: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """`_worst` when ``inv`` is symmetric (as it is unless twins sit at the edge of the
    tolerance): the standardised size of θ_j − θ_i is, to the bit, that of θ_i − θ_j (IEEE
    subtraction is exactly antisymmetric), so each pair is computed once and counts for both
    areas: the rows i of a block take the maximum over j ≥ i, and the areas j ≥ i the
    maximum over the block's i. The same values enter each maximum, so the result is
    identical; half the arithmetic."""
    k, n = dev_t.shape
    worst = np.zeros((k, n), dtype=np.float32)
    block = max(1, _BLOCK_BYTES // (4 * n * k))
    buffer = np.empty((min(block, k), k, n), dtype=np.float32)
    for start in range(0, k, block):
        stop = min(start + block, k)
        d = buffer[:stop - start, :k - start]                  # b × (k − start) × n
        np.subtract(dev_t[None, start:, :], dev_t[start:stop, None, :], out=d)
        np.abs(d, out=d)
        d *= inv[start:stop, start:, None]
        np.maximum(worst[start:stop], d.max(axis=1), out=worst[start:stop])
        np.maximum(worst[start:], d.max(axis=0), out=worst[start:])
    return worst


def _ranks(values: np.ndarray) -> np.ndarray:
    """Descending ranks (1 = highest) per row, ties by position; nan ranks last."""
    filled = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-filled, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, values.shape[1] + 1)[None, :]
    return ranks
