"""The vectorised rank ranges give the same bounds, to the integer, as the per-area loop they
replaced (kept here as the reference, as it stood at main 22fdec2): on random inputs of every
size the release meets, with twins (two areas with the same errors), ties and an area far
from the rest. The inputs are test data, drawn with numpy's generator in the test only."""

from __future__ import annotations

import numpy as np
import pytest

from privacy import statistics
from privacy.statistics import _difference_ranges, rank_ranges


def reference_difference_ranges(point: np.ndarray, dev: np.ndarray, alpha: float,
                                block: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """`privacy.statistics._difference_ranges` before vectorisation (areas in blocks of 32,
    n × block × k temporaries)."""
    n, k = dev.shape
    dev = dev.astype(np.float32)
    c_dev = (dev.T @ dev).astype(np.float64) / n
    var = np.diag(c_dev)
    sd_all = np.sqrt(np.maximum(var[:, None] + var[None, :] - 2 * c_dev, 0.0))
    lower, upper = np.ones(k, dtype=np.int64), np.full(k, k, dtype=np.int64)
    for start in range(0, k, block):
        idx = np.arange(start, min(start + block, k))
        sd = sd_all[idx]
        own = sd <= 1e-12 * (1.0 + np.abs(point[None, :]))
        inv = np.where(own, 0.0, 1.0 / np.where(own, 1.0, sd)).astype(np.float32)
        d = np.abs(dev[:, None, :] - dev[:, idx, None])
        d *= inv[None]
        worst = d.max(axis=2)
        c = np.quantile(worst, 1.0 - alpha, axis=0, method="inverted_cdf")
        diff = point[None, :] - point[idx, None]
        half = c[:, None] * sd
        above = ((diff - half > 0) & ~own).sum(axis=1)
        below = ((diff + half < 0) & ~own).sum(axis=1)
        lower[idx], upper[idx] = 1 + above, k - below
    return lower, upper


def random_case(rng: np.random.Generator, k: int, n: int = 511) -> tuple[np.ndarray, np.ndarray]:
    """Correlated errors (common factors and noise of its own per area), estimates spread over about 2 sd, a twin pair,
    a tie and one area far above the rest."""
    shared = rng.normal(size=(k, 4)) * rng.uniform(0.1, 3.0)     # a few common factors
    dev = rng.normal(size=(n, 4)) @ shared.T + rng.normal(size=(n, k)) * rng.uniform(0.2, 2.0, k)
    point = rng.normal(size=k) * rng.uniform(0.5, 4.0)
    if k >= 4:
        dev[:, 1] = dev[:, 0]           # twins: same errors, so sd of their difference is 0
        point[3] = point[2]             # a tie of estimates
        point[-1] += 50.0               # far ahead
    return point, dev


@pytest.mark.parametrize("k", [1, 2, 3, 12, 39, 77, 150, 342])
def test_vectorised_rank_bounds_equal_the_loop_on_random_inputs(k):
    rng = np.random.default_rng(1000 + k)
    for alpha in (0.05, 0.10) if k < 100 else (0.05,):
        for _ in range(3 if k < 100 else 1):
            point, dev = random_case(rng, k)
            lower, upper = _difference_ranges(point, dev, alpha)
            ref_lower, ref_upper = reference_difference_ranges(point, dev, alpha)
            assert lower.dtype == np.int64 and upper.dtype == np.int64
            np.testing.assert_array_equal(lower, ref_lower)
            np.testing.assert_array_equal(upper, ref_upper)


def test_cases_are_not_trivial():
    """The comparison has something to compare: the reference's bounds are neither all
    [1, k] nor all exact ranks on these inputs."""
    rng = np.random.default_rng(1150)
    point, dev = random_case(rng, 150)
    lower, upper = reference_difference_ranges(point, dev, 0.05)
    width = upper - lower
    assert (width > 0).any() and (width < 149).any()
    assert lower.min() == 1 and lower.max() > 1 and upper.min() < 150


def test_rank_ranges_of_ratios_equal_the_loop():
    """Through `rank_ranges` with a ratio transform (as `privacy.release.rank_columns` calls
    it): the same bounds as the reference applied to the same draws."""
    rng = np.random.default_rng(7)
    k = 40
    num = rng.uniform(50.0, 400.0, size=k)
    den = num / rng.uniform(0.05, 0.3, size=k)
    mean = np.concatenate([num, den])
    a = rng.normal(size=(2 * k, 2 * k))
    cov = a @ a.T / (2 * k) + np.diag(np.concatenate([num, den]) * 0.3)

    def ratio(x):
        return x[:, :k] / np.maximum(x[:, k:], 1e-9)

    got = rank_ranges(mean, cov, transform=ratio)
    from privacy.statistics import _root, _ranks, normal_quantiles   # noqa: PLC0415
    root = _root((cov + cov.T) / 2.0)
    draws = mean + normal_quantiles(511, 2 * k) @ root.T
    point = ratio(mean[None, :])[0]
    lower, upper = reference_difference_ranges(point, ratio(draws) - point, 0.05)
    rank = _ranks(point[None, :])[0]
    np.testing.assert_array_equal(got.lower, np.minimum(lower, rank))
    np.testing.assert_array_equal(got.upper, np.maximum(upper, rank))
    assert (got.upper - got.lower > 0).any()


def naive_worst(dev_t: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """max_j |dev_t[j] − dev_t[i]| · inv[i, j], one area at a time."""
    return np.stack([(np.abs(dev_t - dev_t[i][None, :]) * inv[i][:, None]).max(axis=0)
                     for i in range(dev_t.shape[0])])


@pytest.mark.parametrize("k", [1, 2, 5, 64, 300])
def test_both_worst_paths_equal_the_naive_maximum(k):
    """The symmetric path (each pair once) and the general one give the naive maximum to the
    bit; the general one also for an inverse-sd matrix that is not symmetric."""
    rng = np.random.default_rng(k)
    dev_t = rng.normal(size=(k, 511)).astype(np.float32)
    a = rng.uniform(0.1, 2.0, size=(k, k)).astype(np.float32)
    sym = np.minimum(a, a.T)
    np.fill_diagonal(sym, 0.0)
    assert np.array_equal(statistics._worst_symmetric(dev_t, sym), naive_worst(dev_t, sym))
    assert np.array_equal(statistics._worst(dev_t, sym), naive_worst(dev_t, sym))
    assert np.array_equal(statistics._worst(dev_t, a), naive_worst(dev_t, a))
