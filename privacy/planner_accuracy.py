"""Accuracy first: the budget at which a published value's 95% interval is as narrow as asked.

A query publishes a count (a sum of noisy totals) or a rate/share (a ratio of two noisy
totals); its interval comes from `privacy.statistics` (`count_intervals`: estimate ± z·sd;
`ratio_intervals`: Fieller's interval inside [0, 1]). This module inverts that very maths:
given a target half-width in the unit of the published value (pupils for a count, a fraction
for a rate or share) it finds the smallest budget per total at which the interval's
half-width ``(upper − lower) / 2`` is at most the target, and refuses — naming the best
half-width the cap buys — when even the cap does not reach it. No OpenDP scale search runs
outside ``[1 micro-ρ, cap]``, so no target (1e-9 or 1e9) can make OpenDP fail.

Counts: the half-width is ``z·sd`` of the noise, whatever the data.

Ratios: the half-width depends on the denominator D (a larger group is known better), which
is private. The target therefore holds for a group whose true denominator is at least the
stated ``denominator`` (a public planning figure the caller states; the service derives it
from a group size in pupils). The planner takes the worst case over the true ratio r in
[0, 1] (a grid of 51 values) of the interval `ratio_intervals` gives when the noisy
denominator comes out low, at ``D − z·sd(den)``, and the numerator at r times that: the
half-width falls as the noisy denominator grows, so the delivered half-width meets the
target with probability at least ``1 − alpha/2`` (97.5%) for any group at least that large
(tests/statistical/test_accuracy_targets.py measures it over draws).

The budget is split equally over the totals (each gets ``part``), as a query with a given ρ
splits it (`service.releases.queries.plan_query`); the search is a bisection over whole
micro-ρ of ``part``, each step using the exact discrete Gaussian variance of
`privacy.mechanisms.plan_gaussian`.

Privacy: planning reads only public bounds, the caller's target and the stated planning
denominator; no data enters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from privacy.bounds import BoundSpec
from privacy.budget import BudgetError, Rho
from privacy.mechanisms import plan_gaussian
from privacy.statistics import ratio_intervals, z_value

#: True ratios at which a ratio target is checked (its worst case is taken).
RATIO_GRID = np.linspace(0.0, 1.0, 51)


class TargetOutOfReach(BudgetError):
    """The target half-width needs more than the cap; ``best`` is what the cap buys
    (``math.inf`` if the cap leaves the interval unbounded: the whole of [0, 1])."""

    def __init__(self, target: float, best: float, cap: Rho) -> None:
        self.target, self.best, self.cap = target, best, cap
        super().__init__(f"a half-width of {target:g} needs more than rho {cap}; "
                         f"the most accurate within it is {best:g}")


@dataclass(frozen=True)
class AccuracyGoal:
    """What one published value is made of: the bound specs of the numerator's totals and
    of the denominator's (none for a count), and for a ratio the planning denominator (the
    smallest true denominator the target must hold for, in the denominator's unit)."""

    numerator: tuple[BoundSpec, ...]
    denominator: tuple[BoundSpec, ...] = ()
    planning_denominator: float | None = None
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not self.numerator:
            raise BudgetError("a value needs at least one numerator total")
        if self.denominator and not (self.planning_denominator is not None
                                     and math.isfinite(self.planning_denominator)
                                     and self.planning_denominator > 0):
            raise BudgetError("a ratio needs a finite planning denominator > 0")

    @property
    def totals(self) -> int:
        return len(self.numerator) + len(self.denominator)

    def half_width(self, part: Rho) -> float:
        """The published interval's half-width when every total gets ``part`` (for a ratio:
        the worst over the true ratio, at the pessimistic denominator; inf if undefined)."""
        var_num = sum(plan_gaussian(s, part).variance() for s in self.numerator)
        z = z_value(self.alpha)
        if not self.denominator:
            return z * math.sqrt(var_num)
        var_den = sum(plan_gaussian(s, part).variance() for s in self.denominator)
        den = self.planning_denominator - z * math.sqrt(var_den)
        if den <= z * math.sqrt(var_den):         # the interval would be all of [0, 1]
            return math.inf
        r = ratio_intervals(RATIO_GRID * den, np.full(RATIO_GRID.size, den), var_num, var_den,
                            0.0, self.alpha)
        return float(np.max((r.upper - r.lower) / 2.0))


def part_for_target(goal: AccuracyGoal, target: float, cap: Rho) -> Rho:
    """The smallest whole-micro-ρ budget per total whose half-width is at most ``target``,
    with ``totals × part ≤ cap``; raises `TargetOutOfReach` (with the best half-width within
    the cap) otherwise, and `BudgetError` for a target that is not a positive finite number."""
    if isinstance(target, bool) or not isinstance(target, (int, float)) \
            or not math.isfinite(target) or target <= 0:
        raise BudgetError(f"the target half-width must be a finite number > 0, got {target!r}")
    top = cap.to_micro_floor() // goal.totals
    if top < 1:
        raise TargetOutOfReach(target, math.inf, cap)
    best = goal.half_width(Rho.from_micro(top))
    if best > target:
        raise TargetOutOfReach(target, best, cap)
    low, high = 0, top              # half_width(high) <= target; low: not (or 0)
    while high - low > 1:
        mid = (low + high) // 2
        if goal.half_width(Rho.from_micro(mid)) <= target:
            high = mid
        else:
            low = mid
    return Rho.from_micro(high)


def best_half_width(goal: AccuracyGoal, rho: Rho) -> float:
    """The half-width a total budget ``rho`` buys (split equally over the totals; inf if it
    leaves a total less than one micro-ρ)."""
    part = rho.to_micro_floor() // goal.totals
    return goal.half_width(Rho.from_micro(part)) if part >= 1 else math.inf
