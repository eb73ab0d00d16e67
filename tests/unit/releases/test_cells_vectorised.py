"""The column-wise cell layout keeps the per-cell formulas it replaced (kept here as the
reference): p-values at 6 significant digits as ``f"{v:.6g}"`` printed them, and the flags
of every combination of interval-includes-0, no estimate and unstable."""

from __future__ import annotations

import itertools

import numpy as np

from service.releases.cells import (
    FLAG_INCLUDES_0,
    FLAG_NO_ESTIMATE,
    FLAG_UNSTABLE,
    flags,
    significant_6,
)


def test_significant_6_equals_the_printed_rounding():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.uniform(0, 1, 20_000), 10 ** rng.uniform(-300, 0, 5_000),
                             [0.0, 1.0, 0.1234565, 0.12345650000001, 1e-7, 5e-324, 0.9999995,
                              np.nan, np.inf]])
    reference = np.array([float(f"{v:.6g}") if np.isfinite(v) else np.nan for v in values])
    got = significant_6(values)
    finite = np.isfinite(values)
    assert np.array_equal(got[finite], reference[finite])
    assert np.isnan(got[-2]) and got[-1] == np.inf
    assert (got[finite] != values[finite]).any()        # it does round


def test_flags_of_every_combination_equal_the_per_cell_rule():
    combos = list(itertools.product([False, True], repeat=3))
    a, b, c = (np.array(x) for x in zip(*combos))
    got = flags(a, b, c)
    for (x, y, z), row in zip(combos, got):
        assert row == (([FLAG_INCLUDES_0] if x else []) + ([FLAG_NO_ESTIMATE] if y else [])
                       + ([FLAG_UNSTABLE] if z and not y else []))
