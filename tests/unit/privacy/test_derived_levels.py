"""Region × sector cells derived from the reconciled leaves (issue 26): each derived group is
the sum of its leaves' GLS estimates, its variance is the exact GLS variance of that sum, the
groups of a region add up to the region, and deriving them spends nothing."""

from __future__ import annotations

import numpy as np
import pytest

from privacy.budget import Rho
from privacy.consistency import gls_model
from privacy.release import Structure, noisy_tables, plan_tables

from support.derived_structure import (DERIVED, LEVELS, N, PAIRS, PLAN_LEVELS, REFERENCE, SECTOR,
                                       TABLES, Count, Ratio, leaves)

def release(structure: Structure, data: dict[str, np.ndarray], rho: str = "0.5"):
    return noisy_tables(data, structure, TABLES, Rho.of(rho), levels=PLAN_LEVELS,
                        measures=[Count(), Ratio()], sums=None, ranks=False)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_group_variance_is_the_diagonal_of_the_gls_covariance(seed):
    """`GlsModel.group_variance` for any grouping equals diag(Sᵀ P S) computed densely."""
    rng = np.random.default_rng(seed)
    model = gls_model(N, [(None, 3.0), (LEVELS["swv"], 1.5), (LEVELS["country"], 8.0),
                          (LEVELS["sector"], 2.0)])
    groups = rng.integers(-1, 7, N)
    selector = np.zeros((N, 7))
    selector[np.flatnonzero(groups >= 0), groups[groups >= 0]] = 1.0
    want = np.diag(model.covariance(selector))
    np.testing.assert_allclose(model.group_variance(groups, 7), want, rtol=1e-10, atol=1e-12)


def test_derived_cells_are_sums_of_the_leaves_and_add_up_to_their_region():
    rng = np.random.default_rng(5)
    out = release(Structure(N, LEVELS, DERIVED, REFERENCE), leaves(rng))
    school = out.totals["enrolled"].estimate["school"]
    derived = out.totals["enrolled"].estimate["swv_sector"]
    np.testing.assert_allclose(derived, np.bincount(PAIRS, weights=school, minlength=12), rtol=1e-12)
    # the regions' sector cells add up to the region, and each sector's to the country × sector
    region = out.totals["enrolled"].estimate["swv"]
    np.testing.assert_allclose(derived.reshape(4, 3).sum(axis=1), region, rtol=1e-9)
    np.testing.assert_allclose(derived.reshape(4, 3).sum(axis=0),
                               out.totals["enrolled"].estimate["sector"], rtol=1e-9)
    cells = out.cells[("enrolled", "swv_sector")]
    np.testing.assert_allclose(cells.estimate, derived)
    assert np.isnan(cells.rank).all()            # derived cells are not ranked
    share = out.cells[("chronic_share", "swv_sector")]
    assert np.isfinite(share.p_vs_country).all() and (share.lower <= share.upper).all()


def test_deriving_spends_nothing():
    """The plan (ρ per table and level) is the same with and without the derived levels, and
    the release of the measured levels has the same noise scales: nothing else pays."""
    rho = Rho.of("0.5")
    plain = plan_tables(list(TABLES), list(PLAN_LEVELS), rho)
    rng = np.random.default_rng(3)
    data = leaves(rng)
    with_derived = release(Structure(N, LEVELS, DERIVED, REFERENCE), data)
    without = release(Structure(N, LEVELS), data)
    assert set(plain) == {(t.name, lvl) for t in TABLES for lvl in PLAN_LEVELS}
    for level in PLAN_LEVELS:
        assert with_derived.totals["enrolled"].plans[level] == without.totals["enrolled"].plans[level]
        np.testing.assert_allclose(with_derived.totals["enrolled"].variance[level],
                                   without.totals["enrolled"].variance[level])
    assert ("enrolled", "swv_sector") not in without.cells


def test_derived_verdicts_compare_with_the_same_sectors_national_value():
    """A region × sector share's p-value is against the country's value for its sector: a
    region whose true shares equal every sector's national share, with sectors far apart,
    is not called different from its sector (with pupils enough that the noise is small)."""
    enrolled = np.full(N, 20_000)
    chronic = (enrolled * np.array([0.05, 0.20, 0.50])[SECTOR]).astype(np.int64)
    out = release(Structure(N, LEVELS, DERIVED, REFERENCE), {"enrolled": enrolled, "chronic": chronic},
                  rho="5")
    p = out.cells[("chronic_share", "swv_sector")].p_vs_country
    assert (p > 1e-4).all()
    # against the one national value the sectors far from it would be wildly off
    p_region = out.cells[("chronic_share", "swv")].p_vs_country
    assert np.isfinite(p_region).all()
