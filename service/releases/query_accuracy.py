"""A researcher's accuracy target in the unit of the measure, turned into a budget.

A rate or share is asked in percentage points (or as a fraction), a count in pupils; the
per-total targets of before (each total's 95% accuracy in its own unit, pupils or minutes;
``hours`` is minutes × 60) stay for programs that used them. The maths is
`privacy.planner_accuracy` (the answer's own interval formulas, inverted); this module says
which totals a measure is made of and, for a ratio, the planning denominator: a rate or share
is planned for groups of at least ``min_group`` pupils (default 1,000), and a rate's
denominator (possible minutes) for such a group is taken as ``min_group`` pupils with the
legal minimum teaching time of a school year (940 h: `PUPIL_YEAR_MINUTES`; a twelfth of it
per month). Smaller groups, or pupils enrolled part of the year, get wider intervals: the
answer says so.

No target, however small or large, reaches OpenDP outside the caps: a target the per-query
cap cannot buy is a `CatalogueError` (400) naming the best half-width within the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from privacy.budget import Rho
from privacy.mechanisms import plan_gaussian
from privacy.planner_accuracy import AccuracyGoal, TargetOutOfReach, best_half_width, part_for_target
from service.register.dimensions import CatalogueError
from service.releases.catalogue import MEASURES, MONTH, QuerySpec

#: Units of a target, by the kind of measure they fit.
RATIO_UNITS = ("percentage_points", "fraction")
COUNT_UNITS = ("pupils",)
TOTAL_UNITS = ("minutes", "hours")     # per total, each total's 95% accuracy (OpenDP's)
UNITS = RATIO_UNITS + COUNT_UNITS + TOTAL_UNITS
#: Possible minutes of one pupil in a school year, for planning only: the legal minimum of
#: 940 teaching hours a year (primary; secondary has 1,000).
PUPIL_YEAR_MINUTES = 940 * 60
DEFAULT_MIN_GROUP = 1000


@dataclass(frozen=True)
class AccuracyTarget:
    """A target half-width of every published value's 95% interval, in `unit` (None: the
    per-total target of before, in each total's own unit), for groups of ≥ `min_group`
    pupils (rates and shares)."""

    half_width: float
    unit: str | None = None
    min_group: int = DEFAULT_MIN_GROUP


def default_unit(measure: str) -> str:
    return "percentage_points" if MEASURES[measure].denominator else "pupils"


def _value(target: AccuracyTarget) -> float:
    """The target in the published value's own scale (a fraction for rates and shares)."""
    return target.half_width / 100.0 if target.unit == "percentage_points" else target.half_width


def _shown(value: float, unit: str) -> float | None:
    """A half-width in the published scale, in `unit` (None for an unbounded one)."""
    if not math.isfinite(value):
        return None
    return round(value * 100.0 if unit == "percentage_points" else value, 6)


def goal(spec: QuerySpec, min_group: int = DEFAULT_MIN_GROUP) -> AccuracyGoal:
    """What one published value of `spec` is made of, with its planning denominator."""
    measure = MEASURES[spec.measure]
    num = tuple(spec.bound(n) for n in measure.numerator)
    if not measure.denominator:
        return AccuracyGoal(num)
    den = tuple(spec.bound(n) for n in measure.denominator)
    per_pupil = 1.0
    if measure.unit == "rate":      # possible minutes
        per_pupil = PUPIL_YEAR_MINUTES / (12 if spec.period == MONTH else 1)
    return AccuracyGoal(num, den, planning_denominator=min_group * per_pupil)


def check_unit(spec: QuerySpec, target: AccuracyTarget) -> None:
    if target.unit is None or target.unit in TOTAL_UNITS:
        return
    ratio = bool(MEASURES[spec.measure].denominator)
    fits = RATIO_UNITS if ratio else COUNT_UNITS
    if target.unit not in fits:
        raise CatalogueError("accuracy.unit", f"measure {spec.measure} is "
                             f"{'a rate or share' if ratio else 'a count of pupils'}: give its "
                             f"accuracy in {' or '.join(fits)}")


def plan_target(spec: QuerySpec, target: AccuracyTarget, cap: Rho) -> dict:
    """ρ per total (name → Rho) at which the target is met, all within `cap`; raises
    CatalogueError (400) naming the best half-width the cap buys."""
    check_unit(spec, target)
    totals = [t.name for t in spec.totals()]
    if target.unit is None or target.unit in TOTAL_UNITS:
        width = target.half_width * (60.0 if target.unit == "hours" else 1.0)
        return _per_total(spec, width, cap)
    g = goal(spec, target.min_group)
    try:
        part = part_for_target(g, _value(target), cap)
    except TargetOutOfReach as exc:
        best = _shown(exc.best, target.unit)
        raise CatalogueError("accuracy.half_width", (
            f"± {target.half_width:g} {_words(target.unit)} cannot be reached within the cap of "
            f"ρ {float(cap):g} per query; the most accurate within it is "
            + (f"± {best:g} {_words(target.unit)}" if best is not None else
               "no bound at all (the interval is the whole of 0–100%)")
            + _group_note(spec, target))) from exc
    return {name: part for name in totals}


def _per_total(spec: QuerySpec, width: float, cap: Rho) -> dict:
    """Each total's own budget for an OpenDP 95% accuracy of `width` (its own unit), the
    sum within `cap`: checked at both ends first, so OpenDP's search stays inside the caps."""
    if not (math.isfinite(width) and width > 0):
        raise CatalogueError("accuracy.half_width", "half_width must be a finite number > 0")
    totals = spec.totals()
    part_cap = Rho.from_micro(max(cap.to_micro_floor() // len(totals), 1))
    out = {}
    for total in totals:
        name, bound = total.name, spec.bound(total.name)
        best = plan_gaussian(bound, part_cap).half_width(0.05)
        if best > width:
            raise CatalogueError("accuracy.half_width", (
                f"a 95% accuracy of {width:g} for the total {name} cannot be reached within the "
                f"cap of ρ {float(cap):g} per query; the most accurate within it is "
                f"{math.ceil(best):g} {total.unit}" + (
                    f"; ask in {' or '.join(RATIO_UNITS)} for the {MEASURES[spec.measure].unit} "
                    "itself" if MEASURES[spec.measure].denominator else "")))
        low, high = 0, part_cap.to_micro_floor()      # the smallest micro-ρ that reaches it
        while high - low > 1:
            mid = (low + high) // 2
            if plan_gaussian(bound, Rho.from_micro(mid)).half_width(0.05) <= width:
                high = mid
            else:
                low = mid
        out[name] = Rho.from_micro(high)
    return out


def describe(spec: QuerySpec, target: AccuracyTarget, rho: Rho) -> dict:
    """What the plan promises, in the target's unit (for the dry run and the answer)."""
    if target.unit is None or target.unit in TOTAL_UNITS:
        return {"half_width": target.half_width, "unit": target.unit or "per total (own unit)"}
    g = goal(spec, target.min_group)
    out = {"half_width": target.half_width, "unit": target.unit, "coverage": 0.95,
           "planned_half_width": _shown(best_half_width(g, rho), target.unit)}
    if g.denominator:
        out["for_groups_of_at_least"] = target.min_group
        out["note"] = _group_note(spec, target).strip("; ")
    return out


def best_within(spec: QuerySpec, target: AccuracyTarget | None, rho: Rho) -> dict:
    """The half-width a total budget `rho` buys, in the target's unit (the measure's
    natural unit without a target)."""
    unit = target.unit if target is not None and target.unit in RATIO_UNITS + COUNT_UNITS \
        else default_unit(spec.measure)
    min_group = target.min_group if target is not None else DEFAULT_MIN_GROUP
    g = goal(spec, min_group)
    out = {"half_width": _shown(best_half_width(g, rho), unit), "unit": unit}
    if g.denominator:
        out["for_groups_of_at_least"] = min_group
    return out


def _words(unit: str) -> str:
    return {"percentage_points": "percentage points", "fraction": "(as a fraction)"}.get(unit, unit)


def _group_note(spec: QuerySpec, target: AccuracyTarget) -> str:
    measure = MEASURES[spec.measure]
    if not measure.denominator:
        return ""
    minutes = (f", each with {PUPIL_YEAR_MINUTES // 60} possible hours a year"
               if measure.unit == "rate" else "")
    return (f"; for groups of at least {target.min_group:,} pupils{minutes} (smaller groups "
            "get wider intervals; give min_group to plan for them)")
