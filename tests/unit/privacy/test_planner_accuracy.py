"""Accuracy targets turned into budgets: never over the cap, the smallest budget that meets
the target, a clear refusal naming the best within the cap, for any target from 1e-9 to 1e9;
and the fast accuracy of wide discrete Gaussians agrees with OpenDP's."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec
from privacy.budget import BudgetError, Rho
from privacy.mechanisms import _wide_gaussian_accuracy
from privacy.opendp_setup import opendp_prelude
from privacy.planner_accuracy import AccuracyGoal, TargetOutOfReach, best_half_width, part_for_target

COUNT = BoundSpec(0, 1)
MINUTES = BoundSpec(0, 73_800)
CAP = Rho.of("1")
GOALS = {
    "count": AccuracyGoal((COUNT,)),
    "share": AccuracyGoal((COUNT,), (COUNT,), planning_denominator=1000),
    "rate": AccuracyGoal((MINUTES,), (MINUTES,), planning_denominator=1000 * 56_400),
    "small_share": AccuracyGoal((COUNT,), (COUNT,), planning_denominator=3),
}
TARGETS = st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(target=TARGETS, which=st.sampled_from(sorted(GOALS)))
def test_any_target_is_met_minimally_within_the_cap_or_refused_with_the_best(target, which):
    goal = GOALS[which]
    try:
        part = part_for_target(goal, target, CAP)
    except TargetOutOfReach as exc:
        assert exc.best > target
        assert exc.best == best_half_width(goal, CAP)
        return
    assert part.to_micro_floor() * goal.totals <= CAP.to_micro_floor()      # never over the cap
    assert goal.half_width(part) <= target
    if part.to_micro_floor() > 1:                                            # and minimal
        assert goal.half_width(Rho.from_micro(part.to_micro_floor() - 1)) > target


def test_the_share_of_the_issue_fits_and_a_tiny_group_does_not():
    part = part_for_target(GOALS["share"], 0.02, Rho.of("0.05"))
    assert part.to_micro_floor() * 2 <= 50_000
    with pytest.raises(TargetOutOfReach) as refused:
        part_for_target(GOALS["small_share"], 0.02, CAP)
    assert refused.value.best == math.inf           # three pupils: the interval is all of [0, 1]


@pytest.mark.parametrize("target", [0.0, -1.0, math.nan, math.inf, True])
def test_a_target_that_is_not_a_positive_number_is_refused(target):
    with pytest.raises(BudgetError):
        part_for_target(GOALS["count"], target, CAP)


@pytest.mark.parametrize("sigma", [1000.0, 1417.3, 4999.9, 12_345.6, 80_000.0])
@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.2])
def test_the_wide_gaussian_accuracy_is_opendps(sigma, alpha):
    expected = float(opendp_prelude().discrete_gaussian_scale_to_accuracy(sigma, alpha))
    assert _wide_gaussian_accuracy(sigma, alpha) == expected
