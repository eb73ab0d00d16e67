"""The differencing attack across overlapping hierarchies (municipalities and
samenwerkingsverbanden over the same schools), checked by brute force; the national-scale
algebraic attack against the LP one; frozen cells of an earlier release."""

from __future__ import annotations

import numpy as np
import pytest

from service.evaluation.differencing import (
    attack,
    feasible_intervals,
    recovered_by_algebra,
    two_release_attacks,
)
from service.evaluation.suppression import (
    Protection,
    complementary_suppression,
    hierarchy_table,
    naive_secondary,
    primary_mask,
    table_with_margins,
)
from support.attack_bruteforce import consistent_tables

# Six schools; municipality a = schools 0-2, b = 3-5; swv s = 0-1, t = 2-3, u = 4-5.
MUNI = np.array([0, 0, 0, 1, 1, 1])
SWV = np.array([0, 0, 1, 1, 2, 2])
LEVELS = {"municipality": (MUNI, ["a", "b"]), "swv": (SWV, ["s", "t", "u"]),
          "country": (np.zeros(6, int), ["NL"])}
# School 3 has 2 pupils. Naive secondary leaves every relation with two hidden cells, but
# municipality b (11) minus swv u (9, published) is school 3: recovered across hierarchies.
CROSSED = np.array([8, 0, 1, 2, 1, 8])


def _solutions(table, hidden):
    sols = consistent_tables(table, hidden)
    full = np.tile(table.values, (len(sols), 1))
    full[:, hidden] = sols
    return full


def test_naive_secondary_leaks_across_two_hierarchies_by_brute_force():
    table = hierarchy_table(CROSSED, LEVELS)
    primary = primary_mask(table.values)
    naive = naive_secondary(table, primary)
    for rel in table.relations:                 # the rule it follows does hold ...
        hidden_in = naive[[*rel.parts, rel.total]].sum()
        assert hidden_in != 1
    full = _solutions(table, naive)
    assert len(full) > 1
    school3 = 3
    assert naive[school3] and set(full[:, school3]) == {2}   # ... and school 3 is still known
    result = attack(table, naive, "naive")
    assert result.recovered_cells == 1 and result.recovered_pupils == 2
    assert recovered_by_algebra(table, naive)[school3]


def test_complementary_suppression_holds_across_two_hierarchies_by_brute_force():
    table = hierarchy_table(CROSSED, LEVELS)
    primary = primary_mask(table.values)
    hidden = complementary_suppression(table).hidden
    full = _solutions(table, hidden)
    rule = Protection()
    for p in np.flatnonzero(primary):
        x = int(table.values[p])
        assert full[:, p].max() >= x + rule.upper(x) and full[:, p].min() <= x - rule.lower(x)
    for c in np.flatnonzero(hidden):             # no hidden cell is pinned down
        assert len(set(full[:, c])) > 1
    assert attack(table, hidden, "complementary", primary=primary).recovered_cells == 0


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_algebraic_attack_finds_a_subset_of_what_the_lp_attack_finds(seed):
    # the national report uses the algebraic attack: it may miss cells pinned by x >= 0 only
    rng = np.random.default_rng(seed)            # synthetic tables: our own randomness
    table = hierarchy_table(rng.integers(0, 9, 6), LEVELS)
    for hidden in (primary_mask(table.values), naive_secondary(table, primary_mask(table.values))):
        algebra = recovered_by_algebra(table, hidden)
        lo, hi = feasible_intervals(table, hidden)
        lp = hidden & (np.nan_to_num(hi - lo, nan=np.inf) < 0.5)
        assert not (algebra & ~lp).any()
        full = _solutions(table, hidden)
        brute = hidden & np.array([len(set(full[:, c])) == 1 for c in range(table.size)])
        assert np.array_equal(lp, brute)


def test_primary_only_figures_follow_the_input():
    # the attack's counts are computed: adding a second small school changes them
    base = np.array([8, 6, 2, 9, 7, 8])
    table = hierarchy_table(base, LEVELS)
    one = attack(table, primary_mask(table.values), "primary")
    assert (one.hidden_cells, one.recovered_cells, one.recovered_pupils) == (1, 1, 2)
    table = hierarchy_table(np.array([8, 6, 2, 9, 3, 8]), LEVELS)
    two = attack(table, primary_mask(table.values), "primary")
    assert (two.hidden_cells, two.recovered_cells, two.recovered_pupils) == (2, 2, 5)


def test_frozen_cells_stay_published_and_impossible_protection_is_refused():
    table = table_with_margins(np.array([[2, 7, 9], [6, 8, 5], [9, 6, 7]]))
    primary = primary_mask(table.values)
    frozen = np.zeros(table.size, bool)
    frozen[[1, 4]] = True                        # row 0, col 1 and row 1, col 0: published before
    hidden = complementary_suppression(table, frozen=frozen).hidden
    assert not hidden[frozen].any()
    assert attack(table, hidden, "frozen", primary=primary).unprotected_cells == 0
    everything_else = ~primary
    with pytest.raises(ValueError, match="cannot be protected"):
        complementary_suppression(table, frozen=everything_else)


def test_two_releases_leak_when_suppressed_separately_and_not_jointly():
    # 12 schools in 3 municipalities; month 1, then month 2 and the cumulative count
    rng = np.random.default_rng(5)               # synthetic counts: our own randomness
    levels = {"municipality": (np.repeat(np.arange(3), 4), ["a", "b", "c"]),
              "country": (np.zeros(12, int), ["NL"])}
    leaked = 0
    for _ in range(2):
        first, second = rng.integers(0, 7, 12), rng.integers(0, 7, 12)
        results = {r.scheme: r for r in two_release_attacks(first, second, levels, exact_lp=True)}
        leaked += results["separate"].recovered_small_cells + results["separate"].unprotected_cells
        joint = results["joint"]
        # no small cell is recovered or under-protected (a hidden secondary cell of 5 or more
        # may still be pinned down by the union: the rule protects small groups only)
        assert joint.recovered_small_cells == 0 and joint.unprotected_cells == 0
        assert joint.hidden_cells >= results["separate"].hidden_cells
    assert leaked > 0
