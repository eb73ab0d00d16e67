"""The published sd of a derived (region × sector) count is its true error: over independent
releases (fresh OpenDP noise each), every derived group's errors have mean 0 and mean square
equal to its published variance. Bounds at failure probability ≤ 1e-6 per run (chi-square
with DRAWS degrees of freedom per group, 12 groups, Bonferroni)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2, norm

from privacy.budget import Rho
from privacy.release import Structure, noisy_tables

from support.derived_structure import (DERIVED, LEVELS, N, PAIRS, PLAN_LEVELS, REFERENCE, TABLES,
                                       Count, leaves)

DRAWS = 250
ALPHA = 1e-6 / (2 * 12)


def test_derived_errors_have_the_published_variance():
    data = leaves(np.random.default_rng(11))
    truth = np.bincount(PAIRS, weights=data["enrolled"], minlength=12)
    structure = Structure(N, LEVELS, DERIVED, REFERENCE)
    errors, variances = [], []
    for _ in range(DRAWS):
        out = noisy_tables(data, structure, TABLES, Rho.of("0.05"), levels=PLAN_LEVELS,
                           measures=[Count()], ranks=False)
        total = out.totals["enrolled"]
        errors.append(total.estimate["swv_sector"] - truth)
        variances.append(total.variance["swv_sector"])
    errors, variance = np.array(errors), variances[0]
    assert all(np.array_equal(v, variance) for v in variances)     # public: the same every draw
    z = errors / np.sqrt(variance)
    mean_square = (z ** 2).sum(axis=0)
    lo, hi = chi2.ppf(ALPHA, DRAWS), chi2.isf(ALPHA, DRAWS)
    assert ((mean_square > lo) & (mean_square < hi)).all(), (mean_square / DRAWS).round(3)
    bound = norm.isf(ALPHA / 2) / np.sqrt(DRAWS)
    assert (np.abs(z.mean(axis=0)) < bound).all(), z.mean(axis=0).round(3)
