"""Suppression, the differencing attack and the membership test, checked by brute force on
tables small enough to enumerate every integer table consistent with what was published."""

from __future__ import annotations

import numpy as np
import pytest

from privacy.budget import Rho
from service.evaluation.differencing import (
    attack,
    audited_suppression,
    feasible_intervals,
    suppress_two_releases,
    two_release_table,
    unprotected,
)
from service.evaluation.membership import (
    advantage_bound,
    best_threshold_advantage,
    dp_membership,
    suppressed_membership,
)
from service.evaluation.suppression import (
    complementary_suppression,
    hierarchy_table,
    naive_secondary,
    primary_mask,
    table_with_margins,
)
from support.attack_bruteforce import consistent_tables

# p = 2 sits in a 2x2 block with two zeros: naive secondary hides the zeros (the smallest
# cells) and then 7, which pins p exactly (a zero can't go below 0).
TRAP = np.array([[2, 0, 9], [7, 0, 8], [10, 12, 11]])
PLAIN = np.array([[3, 12, 20], [15, 2, 30], [25, 18, 9]])


def brute_intervals(table, hidden):
    sols = consistent_tables(table, hidden)
    lo = np.full(table.size, np.nan)
    hi = np.full(table.size, np.nan)
    lo[hidden], hi[hidden] = sols.min(axis=0), sols.max(axis=0)
    return lo, hi, sols


def test_primary_mask_hides_one_to_four_and_publishes_zeros():
    assert primary_mask(np.array([0, 1, 4, 5, 12])).tolist() == [False, True, True, False, False]


@pytest.mark.parametrize("inner", [TRAP, PLAIN])
def test_primary_only_is_recovered_exactly_by_the_margins(inner):
    table = table_with_margins(inner)
    hidden = primary_mask(table.values)
    lo, hi, sols = brute_intervals(table, hidden)
    assert len(sols) == 1                                   # one table fits: all recovered
    assert np.array_equal(sols[0], table.values[hidden])
    result = attack(table, hidden, "primary", primary=hidden)
    assert result.recovered_cells == hidden.sum() > 0
    assert result.recovered_pupils == table.values[hidden].sum()


def test_naive_secondary_is_beaten_but_complementary_suppression_holds():
    table = table_with_margins(TRAP)
    primary = primary_mask(table.values)
    naive = naive_secondary(table, primary)
    assert naive.sum() > primary.sum()                      # it did hide more cells
    lo, hi, _ = brute_intervals(table, naive)
    p = int(np.flatnonzero(primary)[0])
    assert lo[p] == hi[p] == 2                              # ... and p is still recovered
    assert attack(table, naive, "naive", primary=primary).recovered_cells >= 1

    result = complementary_suppression(table)
    lo, hi, sols = brute_intervals(table, result.hidden)
    assert len(sols) > 1
    assert hi[p] >= 5 and lo[p] <= 1                        # protection rule, by brute force
    assert attack(table, result.hidden, "complementary", primary=primary).recovered_cells == 0
    assert not unprotected(table, result.hidden, primary).any()


@pytest.mark.parametrize("inner", [TRAP, PLAIN, np.array([[1, 6, 3], [4, 0, 8], [9, 2, 5]])])
def test_lp_audit_agrees_with_brute_force(inner):
    table = table_with_margins(inner)
    for hidden in (naive_secondary(table, primary_mask(table.values)),
                   complementary_suppression(table).hidden):
        lo, hi = feasible_intervals(table, hidden)
        blo, bhi, _ = brute_intervals(table, hidden)
        assert np.allclose(lo[hidden], blo[hidden]) and np.allclose(hi[hidden], bhi[hidden])


def test_audited_suppression_protects_every_primary_cell():
    inner = np.array([[1, 6, 3], [4, 0, 8], [9, 2, 5]])
    table = table_with_margins(inner)
    result = audited_suppression(table)
    assert not unprotected(table, result.hidden, result.primary).any()
    assert result.secondary.sum() > 0


def test_two_levels_primary_only_leaks_and_complementary_does_not():
    # six schools in two municipalities of one province; totals at both levels published
    leaf = np.array([3, 9, 14, 6, 2, 11])
    levels = {"municipality": (np.array([0, 0, 0, 1, 1, 1]), ["a", "b"]),
              "province": (np.zeros(6, int), ["p"])}
    table = hierarchy_table(leaf, levels)
    primary = primary_mask(table.values)
    assert attack(table, primary, "primary", primary=primary).recovered_cells == 2
    hidden = complementary_suppression(table).hidden
    lo, hi, sols = brute_intervals(table, hidden)
    assert attack(table, hidden, "complementary", primary=primary).recovered_cells == 0
    assert np.all(hi[primary] >= 5)


def test_two_consecutive_releases_leak_unless_suppressed_jointly():
    # month 1 per school, then month 2 and the cumulative count: a cell hidden in one release
    # is the difference of published cells of the other
    first = np.array([6, 9, 2, 7])
    second = np.array([0, 3, 5, 4])
    levels = {"municipality": (np.array([0, 0, 1, 1]), ["a", "b"])}
    table, n = two_release_table(first, second, levels)
    primary = primary_mask(table.values)
    leaked = attack(table, suppress_two_releases(table, n, "primary"), "primary", primary=primary)
    assert leaked.recovered_cells > 0
    joint = suppress_two_releases(table, n, "joint")
    lo, hi, sols = brute_intervals(table, joint)
    assert len(sols) > 1
    result = attack(table, joint, "joint", primary=primary)
    assert result.recovered_cells == 0 and result.unprotected_cells == 0
    assert joint.sum() > primary.sum()


def test_best_threshold_advantage_and_bound():
    assert best_threshold_advantage(np.array([0, 0, 1, 1]), np.array([2, 2, 3, 3])) == 1.0
    assert best_threshold_advantage(np.array([0, 1]), np.array([0, 1])) == 0.0
    assert advantage_bound(0.0, 0.0) == 0.0
    assert 0.46 < advantage_bound(1.0, 0.0) < 0.47


def test_dp_membership_stays_under_the_bound_and_suppression_does_not():
    result = dp_membership(Rho.of("0.15"), trials=10_000)
    # measured advantage within sampling error of the exact optimum, far under the bound.
    # OpenDP noise, unseeded: |measured - exact| <= sup|F̂ - F| over both samples, so by DKW
    # (Massart) P(miss by >= 0.06) <= 2 · 2·exp(-2 · 10,000 · 0.03²) = 6e-8 (4,000 trials
    # gave a bound of 3e-3; simulated sd 0.011, so ~3e-8 there). Bound ≈ 0.92 vs TV ≈ 0.22.
    assert abs(result.advantage - result.exact_advantage) < 0.06
    assert result.advantage <= result.bound
    assert suppressed_membership(np.array([7, 12, 0, 6])).advantage == 1.0
