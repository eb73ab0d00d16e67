"""Small-area estimates as post-processing: the Fay–Herriot model on published values.

A small school's direct estimate (its published share) is honest but wide: the noise added
to a handful of pupils is large against them. Statistical offices publish model-assisted
small-area estimates for such units (Fay and Herriot 1979; US Census SAIPE; Rao and Molina,
*Small Area Estimation*, 2nd ed., 2015, ch. 6). Here the setting is ideal for them: the
"sampling" variance of every direct estimate is known exactly — it is the noise we added.

Model, for units i = 1..m (schools), direct estimate y_i with known variance D_i:

    y_i = θ_i + e_i,   e_i ~ N(0, D_i)            (the noise: known)
    θ_i = x_iᵀβ + u_i,  u_i ~ N(0, A)             (the model across units: β, A estimated)

The empirical best linear unbiased predictor is θ̂_i = γ_i y_i + (1 − γ_i) x_iᵀβ̂ with
γ_i = Â/(Â + D_i); β̂ is the weighted least-squares fit with weights 1/(Â + D_i); Â is the
Fay–Herriot moment estimator (the root of Σ (y_i − x_iᵀβ̂)²/(A + D_i) = m − p, found by
bisection; 0 where even A = 0 leaves less than m − p). Its mean squared error, the model's
uncertainty included, is Prasad and Rao's (1990) second-order approximation as extended by
Datta, Rao and Smith (2005) to this estimator of A:

    mse_i = g1_i + g2_i + 2 g3_i − b_i
    g1 = γ_i D_i,  g2 = (1 − γ_i)² x_iᵀ (Xᵀ V⁻¹ X)⁻¹ x_i,  g3 = D_i² / (Â + D_i)³ · V̄(Â),
    V̄(Â) = 2m / (Σ 1/(Â + D_i))²,  b_i = (D_i/(Â + D_i))² · bias(Â) (the FH estimator's
    bias term, Datta–Rao–Smith eq. 3.2).

A unit without a direct estimate gets the synthetic estimate x_iᵀβ̂ with mse Â + g2_i.

Privacy argument: the inputs are published values (the direct estimates and their sds) and
public covariates (the register's sector, published area values and sizes). No step reads
anything else, so the outputs inherit the release's guarantee (post-processing immunity;
Dwork and Roth 2014, Prop. 2.1). This module takes arrays only: it cannot read the data.

The model shrinks extreme units toward the fit — the very pupils this service is for — so
its estimates never replace the direct ones: they are published beside them, and
bench/small_area.py measures the coverage conditional on the true value and the recall of
the worst units (docs/evaluation.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

__all__ = ["Posterior", "SmallArea", "beta_posterior", "fay_herriot"]

GRID_POINTS = 1_000
"""Points of the grid on (0, 1) on which `beta_posterior` integrates (midpoints: a 95%
interval's ends are exact to 1/2,000, 0.05 percentage point)."""


@dataclass(frozen=True)
class SmallArea:
    """Model estimates per unit (nan where the unit took no part), their root mean squared
    error and 95% interval cut to [lo, hi], the weight of the direct estimate γ, and the fit
    (β, Â, units used)."""

    estimate: np.ndarray
    rmse: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    model_variance: float
    fitted_units: int


def _fit(y: np.ndarray, d: np.ndarray, x: np.ndarray, a: float) -> tuple[np.ndarray, np.ndarray]:
    """WLS of y on x with variances a + d (`d` may include the known part of the model's)."""
    w = 1.0 / (a + d)
    xtw = x.T * w
    cov_beta = np.linalg.pinv(xtw @ x)
    return cov_beta @ (xtw @ y), cov_beta


def _moment_equation(y, d, x, a) -> float:
    beta, _ = _fit(y, d, x, a)
    r = y - x @ beta
    return float(np.sum(r * r / (a + d))) - (y.size - x.shape[1])


def _model_variance(y: np.ndarray, d: np.ndarray, x: np.ndarray) -> float:
    """The Fay–Herriot moment estimator of A (bisection on a decreasing function)."""
    if _moment_equation(y, d, x, 0.0) <= 0:
        return 0.0
    hi = max(float(np.var(y)), 1e-12)
    while _moment_equation(y, d, x, hi) > 0:
        hi *= 2.0
    lo = 0.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _moment_equation(y, d, x, mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def fay_herriot(direct, variance, covariates, *, known_model_variance=None, alpha: float = 0.05,
                bounds: tuple[float, float] = (0.0, 1.0)) -> SmallArea:
    """The Fay–Herriot EBLUP of every unit. `direct` and `variance` (nan where a unit has no
    direct estimate) are published values; `covariates` (units × p, an intercept included
    by the caller) public ones. Units with a direct estimate fit the model; every unit with
    finite covariates gets an estimate.

    ``known_model_variance`` h_i (optional, public): a known part of the model's variance per
    unit, Var(u_i) = A + h_i. A school's true share is a share of its few pupils: around
    the share its kind of school has, it varies as a binomial does, p(1 − p)/n, far more in
    a school of 30 than in one of 1,000; one A for all would be fitted by the big schools
    and cover the small ones badly (measured: bench/small_area.py)."""
    y = np.asarray(direct, dtype=np.float64)
    d = np.asarray(variance, dtype=np.float64)
    x = np.asarray(covariates, dtype=np.float64)
    h = (np.zeros(y.size) if known_model_variance is None
         else np.nan_to_num(np.asarray(known_model_variance, dtype=np.float64)))
    if x.ndim != 2 or x.shape[0] != y.size or d.shape != y.shape:
        raise ValueError("direct, variance and covariates must describe the same units")
    has_x = np.isfinite(x).all(axis=1)
    fit = has_x & np.isfinite(y) & np.isfinite(d) & (d > 0)
    m, p = int(fit.sum()), x.shape[1]
    nan = np.full(y.size, np.nan)
    if m <= p + 1:
        return SmallArea(nan, nan, nan, nan, nan, np.full(p, np.nan), float("nan"), m)
    yf, df, xf = y[fit], d[fit] + h[fit], x[fit]     # h joins the noise in the fit's weights
    a = _model_variance(yf, df, xf)
    beta, cov_beta = _fit(yf, df, xf, a)
    # Var(Â) to second order and the FH estimator's bias (Datta, Rao and Smith 2005)
    s1 = float(np.sum(1.0 / (a + df)))
    var_a = 2.0 * m / s1 ** 2
    bias_a = 2.0 * (m * float(np.sum(1.0 / (a + df) ** 2)) - s1 ** 2) / s1 ** 3
    synthetic = np.where(has_x, np.nan_to_num(x) @ beta, np.nan)
    xs = np.nan_to_num(x)
    g2_all = np.einsum("ij,jk,ik->i", xs, cov_beta, xs)
    with np.errstate(invalid="ignore", divide="ignore"):
        au = a + h                                   # the model variance of each unit
        gamma = np.where(fit, au / (au + d), 0.0)
        g1 = gamma * d
        g2 = (1.0 - gamma) ** 2 * g2_all
        g3 = d ** 2 / (au + d) ** 3 * var_a
        b = (d / (au + d)) ** 2 * bias_a
        mse = np.where(fit, g1 + g2 + 2.0 * g3 - b, au + g2_all)
    estimate = np.where(fit, gamma * np.nan_to_num(y) + (1.0 - gamma) * synthetic, synthetic)
    mse = np.where(has_x, np.maximum(mse, 1e-300), np.nan)
    rmse = np.sqrt(mse)
    z = float(norm.isf(alpha / 2))
    lower = np.clip(estimate - z * rmse, *bounds)
    upper = np.clip(estimate + z * rmse, *bounds)
    return SmallArea(estimate, rmse, lower, upper, np.where(has_x, gamma, np.nan), beta, a, m)


@dataclass(frozen=True)
class Posterior:
    """A share's posterior per unit: its mean, sd and equal-tailed 95% interval."""

    estimate: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def beta_posterior(direct, variance, prior_mean, prior_variance, *, pupils=None,
                   alpha: float = 0.05) -> Posterior:
    """Empirical Bayes for shares (0 ≤ θ_i ≤ 1), the model the release publishes (issue 26):

        θ_i ~ Beta with mean m_i and variance v_i         (the prior: public inputs only)
        y_i | θ_i ~ N(θ_i, D_i)                           (the noise: known)

    A school's share is a share of its n pupils: around the share m of pupils like them (its
    municipality × sector, as published), it spreads as a binomial share does, m(1 − m)/n,
    plus the published noise variance of m itself; the caller passes that sum as v. Nothing
    is fitted, so no estimated parameter's uncertainty is left out of the interval, and the
    Beta's skew keeps the prior's tails where the shares lie (a Gaussian prior, like
    Fay–Herriot's, pulls the worst schools harder: measured, bench/small_area.py). The
    posterior is integrated on `GRID_POINTS` midpoints of (0, 1). A unit without a direct
    estimate (nan) gets its prior. v at or above m(1 − m) (a school of one pupil) is taken
    as 0.95·m(1 − m): a prior with nearly all its mass at 0 and 1.

    ``pupils`` n_i (optional, public: the published size): a share of n pupils is a multiple
    of 1/n, which a continuous posterior cannot hold — a school of 20 with no chronically
    absent pupil has a share of exactly 0, below any Beta interval's lower end. As the
    binomial's continuity correction does, the interval is widened by half a pupil, 1/(2n),
    at each end (measured: it lifts the coverage of schools under 50 pupils from 0.92 to
    0.95; bench/small_area.py)."""
    y = np.asarray(direct, dtype=np.float64)
    d = np.asarray(variance, dtype=np.float64)
    m = np.clip(np.asarray(prior_mean, dtype=np.float64), 0.005, 0.995)
    v = np.asarray(prior_variance, dtype=np.float64)
    if not (y.shape == d.shape == m.shape == v.shape) or y.ndim != 1:
        raise ValueError("direct, variance, prior_mean and prior_variance must describe the same units")
    if not np.all(np.isfinite(m) & np.isfinite(v) & (v > 0)):
        raise ValueError("every unit needs a finite prior mean and a positive prior variance")
    v = np.minimum(v, 0.95 * m * (1.0 - m))
    seen = np.isfinite(y) & np.isfinite(d) & (d > 0)
    parts = [_posterior_block(np.where(seen, y, 0.0)[i:i + BLOCK], np.where(seen, d, 1.0)[i:i + BLOCK],
                              seen[i:i + BLOCK], m[i:i + BLOCK], v[i:i + BLOCK], alpha)
             for i in range(0, y.size, BLOCK)]
    mean, sd, lower, upper = (np.concatenate([part[k] for part in parts]) if parts else np.empty(0)
                              for k in range(4))
    if pupils is not None:
        half = 0.5 / np.maximum(np.asarray(pupils, dtype=np.float64), 1.0)
        lower, upper = np.maximum(lower - half, 0.0), np.minimum(upper + half, 1.0)
    return Posterior(mean, sd, lower, upper)


BLOCK = 512
"""Units integrated at once (a block's grid is BLOCK × GRID_POINTS floats, 4 MB)."""


def _posterior_block(y, d, seen, m, v, alpha):
    grid = (np.arange(GRID_POINTS) + 0.5) / GRID_POINTS
    size = m * (1.0 - m) / v - 1.0                      # a + b of the Beta
    log_post = ((m * size)[:, None] - 1.0) * np.log(grid) \
        + (((1.0 - m) * size)[:, None] - 1.0) * np.log1p(-grid)
    log_post -= np.where(seen[:, None], 0.5 * (y[:, None] - grid) ** 2 / d[:, None], 0.0)
    log_post -= log_post.max(axis=1, keepdims=True)
    weight = np.exp(log_post)
    weight /= weight.sum(axis=1, keepdims=True)
    mean = weight @ grid
    sd = np.sqrt(np.maximum(weight @ grid ** 2 - mean ** 2, 0.0))
    cdf = np.cumsum(weight, axis=1)
    half = 0.5 / GRID_POINTS
    lower = grid[np.argmax(cdf >= alpha / 2, axis=1)] - half
    upper = grid[np.argmax(cdf >= 1.0 - alpha / 2, axis=1)] + half
    return mean, sd, np.maximum(lower, 0.0), np.minimum(upper, 1.0)
