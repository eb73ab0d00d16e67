"""The Fay–Herriot estimator (privacy/small_area.py) in a world where its model holds: the
EBLUP is unbiased, its Prasad–Rao mean squared error is the empirical one, its 95% intervals
cover, it is narrower than the direct estimate, and the known part of the model variance
(small schools' binomial spread) is honoured. Simulated data (numpy's RNG is fine here: no
release path)."""

from __future__ import annotations

import numpy as np
import pytest

from privacy.small_area import fay_herriot

M, REPS = 1_500, 40


def world(rng, h=None, m=M):
    x = np.column_stack([np.ones(m), rng.integers(0, 2, m), rng.uniform(0, 1, m)])
    beta, a = np.array([0.2, 0.05, 0.1]), 0.002
    d = rng.choice([0.0005, 0.004, 0.02], m)
    extra = np.zeros(m) if h is None else h
    theta = x @ beta + rng.normal(0, np.sqrt(a + extra))
    y = theta + rng.normal(0, np.sqrt(d))
    return x, d, theta, y


def test_few_units_the_mse_counts_the_models_own_uncertainty():
    """With 30 units the fitted β and Â are uncertain: the published mse (g1 + g2 + 2g3 − b)
    matches the empirical one, where g1 alone falls short."""
    rng = np.random.default_rng(4)
    err, mse, g1 = [], [], []
    for _ in range(600):
        x, d, theta, y = world(rng, m=30)
        fit = fay_herriot(y, d, x, bounds=(-np.inf, np.inf))
        err.append(fit.estimate - theta)
        mse.append(fit.rmse ** 2)
        g1.append(fit.gamma * d)
    err, mse, g1 = np.concatenate(err), np.concatenate(mse), np.concatenate(g1)
    assert np.mean(err ** 2) / mse.mean() == pytest.approx(1.0, abs=0.06)
    assert np.mean(err ** 2) / g1.mean() > 1.1


def test_eblup_mse_and_coverage_hold_where_the_model_holds():
    rng = np.random.default_rng(1)
    err, mse, covered, direct_width, model_width = [], [], [], [], []
    for _ in range(REPS):
        x, d, theta, y = world(rng)
        fit = fay_herriot(y, d, x, bounds=(-np.inf, np.inf))
        err.append(fit.estimate - theta)
        mse.append(fit.rmse ** 2)
        covered.append((fit.lower <= theta) & (theta <= fit.upper))
        direct_width.append(np.sqrt(d))
        model_width.append(fit.rmse)
    err, mse = np.concatenate(err), np.concatenate(mse)
    assert abs(err.mean()) < 0.05 * np.sqrt(mse.mean())
    assert np.mean(err ** 2) / mse.mean() == pytest.approx(1.0, abs=0.05)
    assert np.mean(np.concatenate(covered)) == pytest.approx(0.95, abs=0.01)
    assert np.mean(np.concatenate(model_width)) < 0.8 * np.mean(np.concatenate(direct_width))


def test_units_without_a_direct_estimate_get_the_synthetic_one_and_cover():
    rng = np.random.default_rng(2)
    covered = []
    for _ in range(REPS):
        x, d, theta, y = world(rng)
        y[:100] = np.nan
        fit = fay_herriot(y, d, x, bounds=(-np.inf, np.inf))
        assert (fit.gamma[:100] == 0).all()
        np.testing.assert_allclose(fit.estimate[:100], x[:100] @ fit.beta)
        covered.append((fit.lower[:100] <= theta[:100]) & (theta[:100] <= fit.upper[:100]))
    assert np.mean(covered) == pytest.approx(0.95, abs=0.02)


def test_the_known_part_of_the_model_variance_keeps_small_units_covered():
    """Half the units spread ten times more around the fit (small schools); told so, the
    model covers them (and the fit weighs them less, so it is as accurate as it can be);
    not told, it does not cover them."""
    rng = np.random.default_rng(3)
    h = np.where(np.arange(M) % 2 == 0, 0.02, 0.0)
    told, untold = [], []
    for _ in range(REPS):
        x, d, theta, y = world(rng, h)
        for out, known in ((told, h), (untold, None)):
            fit = fay_herriot(y, d, x, known_model_variance=known, bounds=(-np.inf, np.inf))
            out.append(((fit.lower <= theta) & (theta <= fit.upper))[h > 0])
    assert np.mean(told) == pytest.approx(0.95, abs=0.015)
    assert np.mean(untold) < 0.92
    # the model variance Â is of the rest: 0.002 in this world, whatever the spread of the half
    fits = [fay_herriot(*(lambda w: (w[3], w[1], w[0]))(world(rng, h)), known_model_variance=h)
            for _ in range(REPS)]
    assert np.mean([f.model_variance for f in fits]) == pytest.approx(0.002, rel=0.1)


def test_too_few_units_give_no_model_estimate():
    fit = fay_herriot([0.1, 0.2, np.nan], [0.01, 0.01, 0.01], np.ones((3, 1)) * [[1.0, 1.0]][0][:1])
    assert np.isnan(fit.estimate).all()
