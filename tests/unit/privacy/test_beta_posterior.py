"""The Beta–Gaussian posterior (privacy/small_area.py::beta_posterior) in a world where its
prior holds: shares drawn from Beta priors of school-like sizes, direct estimates with
Gaussian noise of known variance. Its 95% intervals cover, its sd is the empirical error,
it is far narrower than the direct estimate, and a unit without a direct estimate gets its
prior. Simulated data (numpy's RNG is fine here: no release path)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta as beta_law

from privacy.small_area import beta_posterior

UNITS = 40_000


def world(rng, units=UNITS):
    """Schools of 10–600 pupils, a prior mean per school between 3% and 40%, the binomial
    spread of its size, and noise as a release gives it (sd 2–18 percentage points)."""
    size = rng.integers(10, 600, units)
    mean = rng.uniform(0.03, 0.40, units)
    var = mean * (1 - mean) / size
    s = mean * (1 - mean) / var - 1
    theta = rng.beta(mean * s, (1 - mean) * s)
    d = rng.uniform(0.02, 0.18, units) ** 2
    y = theta + rng.normal(0, np.sqrt(d))
    return y, d, mean, var, theta


def test_intervals_cover_and_the_sd_is_the_error():
    y, d, mean, var, theta = world(np.random.default_rng(3))
    post = beta_posterior(y, d, mean, var)
    err = post.estimate - theta
    covered = (post.lower <= theta) & (theta <= post.upper)
    # 40,000 units: the coverage's standard error is 0.0011
    assert covered.mean() == pytest.approx(0.95, abs=0.006)
    assert np.mean(err ** 2) / np.mean(post.sd ** 2) == pytest.approx(1.0, abs=0.04)
    assert abs(err.mean()) < 0.03 * np.sqrt(np.mean(err ** 2))
    assert np.median(post.upper - post.lower) < 0.6 * np.median(2 * 1.96 * np.sqrt(d))
    # the worst tenth of the shares keeps its coverage
    top = theta >= np.quantile(theta, 0.9)
    assert covered[top].mean() > 0.90


def test_a_unit_without_a_direct_estimate_gets_its_prior():
    mean, var = np.array([0.1, 0.3]), np.array([0.001, 0.004])
    post = beta_posterior(np.array([np.nan, np.nan]), np.array([np.nan, 0.01]), mean, var)
    s = mean * (1 - mean) / var - 1
    law = beta_law(mean * s, (1 - mean) * s)
    np.testing.assert_allclose(post.estimate, mean, atol=1e-4)
    np.testing.assert_allclose(post.sd, np.sqrt(var), rtol=0.01)
    np.testing.assert_allclose(post.lower, law.ppf(0.025), atol=1e-3)
    np.testing.assert_allclose(post.upper, law.ppf(0.975), atol=1e-3)


def test_the_noise_is_weighed_as_given():
    """A direct estimate with little noise decides; one drowned in noise leaves the prior."""
    mean, var = np.array([0.1, 0.1]), np.array([0.002, 0.002])
    post = beta_posterior(np.array([0.3, 0.3]), np.array([1e-6, 10.0]), mean, var)
    assert post.estimate[0] == pytest.approx(0.3, abs=0.002)
    assert post.estimate[1] == pytest.approx(0.1, abs=0.002)


def test_one_pupil_and_shapes():
    post = beta_posterior(np.array([0.5]), np.array([0.04]), np.array([0.2]), np.array([0.2 * 0.8]))
    assert 0.0 <= post.lower[0] < post.estimate[0] < post.upper[0] <= 1.0
    with pytest.raises(ValueError, match="same units"):
        beta_posterior(np.zeros(2), np.ones(3), np.full(2, 0.1), np.full(2, 0.01))
    with pytest.raises(ValueError, match="prior"):
        beta_posterior(np.zeros(1), np.ones(1), np.array([np.nan]), np.array([0.01]))


def test_half_a_pupil_at_each_end_for_shares_of_few_pupils():
    """Shares of 12 pupils are multiples of 1/12: a school with none of them absent (share 0)
    is inside the widened interval, and the widening is exactly 1/24 at each inner end."""
    y, d = np.array([0.02]), np.array([0.01])
    mean, var = np.array([0.15]), np.array([0.15 * 0.85 / 12])
    plain = beta_posterior(y, d, mean, var)
    widened = beta_posterior(y, d, mean, var, pupils=np.array([12]))
    assert plain.lower[0] > 0.0 and widened.lower[0] == 0.0
    assert widened.upper[0] == pytest.approx(plain.upper[0] + 1 / 24)
    assert widened.estimate[0] == plain.estimate[0]
