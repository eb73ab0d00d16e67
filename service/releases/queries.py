"""Ad-hoc queries for researchers: validate against the catalogue, plan the budget (or the
budget a target accuracy costs), show cost and expected intervals (dry run), or release.

A query is one measure over the full cross product of public group-by keys (register and
catalogue keys only, every key released, zeros included), restricted by public filters.
Yearly, each pupil contributes to exactly one key, so every total's L2 sensitivity is its
catalogue bound with one cell. By month (group-by `month`, or a filter on one month) a pupil
contributes to one key per selected month: the bound is the month bound with max_cells = the
months selected (`QuerySpec.bound`, from `catalogue.table_bound`). `privacy.bounds.sensitivity`
derives the sensitivity from that spec in both cases. The measure's totals are noised with the
discrete Gaussian; a rate or share is the ratio of two noisy totals with a conservative
interval (`privacy.statistics`). No consistency step (one level): the estimate is the noisy
total itself, unbiased.

The canonical request (dataset, measure, group-by, sorted filters, exact ρ) is hashed: the same
question asked again — by anyone — returns the stored release at no cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from privacy.statistics import count_intervals, ratio_intervals
from privacy.budget import Rho
from privacy.ledger import StoredRelease
from privacy.mechanisms import add_noise, plan_gaussian
from service.db import Database
from service.releases import aggregate
from service.releases.catalogue import MEASURES, MONTH, QuerySpec, validate_query
from service.releases.query_accuracy import AccuracyTarget, plan_target
from service.releases.query_costs import cost_facts
from service.register.dimensions import CatalogueError
from service.releases.cells import flags
from service.releases.publish import Computed, ReleaseSpec, publish, question_text, stored_in_memory
from service.settings import Settings

MIN_RHO = Rho.of("0.000001")
MAX_RHO = Rho.of("1")


@dataclass(frozen=True)
class QueryPlan:
    """ρ per total of the measure and what it buys (before spending)."""

    spec: QuerySpec
    rho_per_total: dict[str, Rho]
    target: AccuracyTarget | None = None

    @property
    def rho(self) -> Rho:
        return sum(self.rho_per_total.values(), Rho.zero())

    def expected(self) -> list[dict]:
        """95% half-width of each total per cell, in its own unit (pupils or minutes)."""
        out = []
        units = {t.name: t.unit for t in self.spec.totals()}
        for name, rho in self.rho_per_total.items():
            bound = self.spec.bound(name)
            p = plan_gaussian(bound, rho)
            row = {"total": name, "unit": units[name], "rho": str(rho.value),
                   "noise": p.mechanism, "scale": p.scale, "half_width_95": p.radius(0.05)}
            if self.spec.period == MONTH:
                row["cells_per_pupil"] = bound.max_cells
            out.append(row)
        return out


def plan_query(spec: QuerySpec, rho: Rho | None = None,
               half_width: float | AccuracyTarget | None = None) -> QueryPlan:
    """Split a budget over the measure's totals (equally, relative to each total's
    sensitivity), or find the budget at which the answer is as accurate as asked: an
    `AccuracyTarget` in the unit of the measure (percentage points, a fraction, pupils), or
    a number: every total's 95% accuracy in its own unit (pupils or minutes). A target the
    per-query cap cannot buy is a CatalogueError naming the best within it."""
    totals = spec.totals()
    if (rho is None) == (half_width is None):
        raise CatalogueError("budget", "give either a budget (rho) or an accuracy (half_width)")
    if rho is not None:
        if not MIN_RHO <= rho <= MAX_RHO:
            raise CatalogueError("budget", f"rho must lie in [{MIN_RHO}, {MAX_RHO}]")
        part = Rho.from_micro(max(1, rho.to_micro_floor() // len(totals)))
        return QueryPlan(spec, {t.name: part for t in totals})
    target = half_width if isinstance(half_width, AccuracyTarget) else AccuracyTarget(half_width)
    if isinstance(target.half_width, bool) or not isinstance(target.half_width, (int, float)) \
            or not math.isfinite(target.half_width) or target.half_width <= 0:
        raise CatalogueError("accuracy.half_width", "half_width must be a finite number > 0")
    return QueryPlan(spec, plan_target(spec, target, MAX_RHO), target)


def canonical_spec(dataset: str, spec: QuerySpec, plan: QueryPlan) -> dict:
    return {"measure": spec.measure, "group_by": list(spec.group_by),
            "filters": {name: sorted(values) for name, values in spec.filters},
            "rho_per_total": {k: str(v.value) for k, v in sorted(plan.rho_per_total.items())},
            "dataset": dataset}


def compute_query(con: duckdb.DuckDBPyConnection, dataset: str, plan: QueryPlan) -> Computed:
    """Noisy cells for every public key of the query (the true totals stay in here)."""
    spec = plan.spec
    measure = MEASURES[spec.measure]
    grouped = aggregate.grouped_totals(con, dataset, list(spec.group_by), dict(spec.filters))
    plans = {}
    for name, rho in plan.rho_per_total.items():
        if grouped.totals[name].bound != spec.bound(name):
            raise RuntimeError("the aggregate's bound and the query's bound differ")
        plans[name] = plan_gaussian(spec.bound(name), rho)
    noisy = {name: add_noise(grouped.totals[name].values, p) for name, p in plans.items()}
    num = sum(noisy[n].astype(float) for n in measure.numerator)
    num_var = sum(plans[n].variance() for n in measure.numerator)
    lead = plans[measure.numerator[0]]
    no_estimate = unstable = None
    shown = None
    if measure.denominator:
        # different totals are noised independently: covariance 0
        den = sum(noisy[n].astype(float) for n in measure.denominator)
        den_var = sum(plans[n].variance() for n in measure.denominator)
        r = ratio_intervals(num, den, num_var, den_var, 0.0, complement=measure.complement)
        est, lower, upper, sd = r.estimate, r.lower, r.upper, r.sd
        no_estimate, unstable, shown = r.no_estimate, r.unstable, r.shown
        decimals = 6
    else:
        est = num
        lower, upper = count_intervals(num, np.full(num.size, num_var))
        sd = np.full(len(num), math.sqrt(num_var))
        decimals = 2
        shown = np.maximum(num, 0.0)
    level = ",".join(spec.group_by) or "all"
    sector = dict(spec.filters).get("sector")
    frame = pd.DataFrame({
        "measure": spec.measure, "level": level,
        "area_code": [",".join(k) for k in grouped.keys] or ["all"],
        "area_name": [",".join(k) for k in grouped.key_names] or ["all"],
        "sector": ",".join(sector) if sector else "all",
        "estimate": [None if not math.isfinite(v) else round(float(v), decimals) for v in est],
        "shown": [None if not math.isfinite(v) else round(float(v), decimals) for v in shown],
        "lower": [round(float(v), decimals) if math.isfinite(v) else None for v in lower],
        "upper": [round(float(v), decimals) if math.isfinite(v) else None for v in upper],
        "sd": [round(float(v), 6) if math.isfinite(v) else None for v in sd],
        "unit": measure.unit, "noise": lead.mechanism, "scale": round(lead.scale, 6)})
    n = len(frame)
    frame["flags"] = flags(np.array([lo is not None and lo <= 0 for lo in frame["lower"]]),
                           np.zeros(n, bool) if no_estimate is None else no_estimate,
                           np.zeros(n, bool) if unstable is None else unstable)
    method = {"mechanism": "discrete_gaussian (OpenDP 0.16, zCDP)",
              "estimate": "the noisy total itself (unbiased; may be negative for tiny groups); "
                          "rates and shares: the ratio of two noisy totals",
              "intervals": "95%: counts estimate ± 1.96 sd, cut at 0; rates and shares: "
                           "Fieller's interval of the two noisy totals, inside [0, 1]",
              "unit_of_privacy": "one pupil in one school year", "filters": canonical_spec(dataset, spec, plan)["filters"]}
    if spec.period == MONTH:
        method["period"] = {"name": MONTH,
                            "cells_per_pupil": spec.bound(measure.numerator[0]).max_cells,
                            "note": "monthly values come from the table pupil_month; one pupil adds to at most "
                                    "one cell per selected month"}
    return Computed(frame, method)


@dataclass(frozen=True, kw_only=True)
class QueryRelease(ReleaseSpec):
    """A researcher's query: its canonical question, paid from the researcher pool and the
    principal's allowance; `plan` (ρ per total) follows from the question."""

    kind: str = "query"
    pool: str = "researcher"
    plan: QueryPlan = field(compare=False)

    @classmethod
    def of(cls, dataset: str, plan: QueryPlan, principal: str | None) -> QueryRelease:
        return cls(dataset=dataset, question=question_text(canonical_spec(dataset, plan.spec, plan)),
                   rho=plan.rho, principal=principal, plan=plan)

    def compute(self, con: duckdb.DuckDBPyConnection) -> Computed:
        return compute_query(con, self.dataset, self.plan)


def run_query(con: duckdb.DuckDBPyConnection, settings: Settings, *, principal: str,
              dataset: str, measure: str, group_by, filters, rho: Rho | None = None,
              half_width: float | None = None, database: Database | None = None) -> StoredRelease:
    """Release a query from the researcher pool, charged to `principal`'s allowance (or
    return the stored release of the same canonical query, free)."""
    spec = validate_query(measure, group_by, filters)
    plan = plan_query(spec, rho, half_width)
    return publish(con, settings, QueryRelease.of(dataset, plan, principal), database=database)


def stored_query(database: Database, *, dataset: str, measure: str, group_by, filters,
                 rho: Rho | None = None, half_width: float | None = None) -> StoredRelease | None:
    """The stored release of this canonical query if this process has it in memory (what
    :func:`run_query` would return free), else None. Raises CatalogueError like run_query."""
    spec = validate_query(measure, group_by, filters)
    plan = plan_query(spec, rho, half_width)
    return stored_in_memory(database, QueryRelease.of(dataset, plan, None))


def dry_run(con: duckdb.DuckDBPyConnection, *, dataset: str, measure: str, group_by, filters,
            rho: Rho | None = None, half_width: float | AccuracyTarget | None = None,
            principal: str | None = None, settings: Settings | None = None,
            database: Database | None = None) -> dict:
    """Cost and expected intervals without touching data or budget: whether the answer is
    already stored on the current data (free) or new and what it costs, what is left after
    it, whether it fits and, if not, the most accurate request that does
    (`service.releases.query_costs`)."""
    spec = validate_query(measure, group_by, filters)
    plan = plan_query(spec, rho, half_width)
    keys = math.prod(len(k) for k in aggregate._key_sets(con, dataset, spec.group_by, spec.filters))
    facts = cost_facts(con, settings, QueryRelease.of(dataset, plan, principal), database=database,
                       max_rho=MAX_RHO, min_rho=MIN_RHO)
    return {"measure": spec.measure, "group_by": list(spec.group_by),
            "filters": {n: sorted(v) for n, v in spec.filters},
            **facts,
            "cost": {"rho": str(plan.rho.value), "rho_decimal": float(plan.rho),
                     "epsilon": round(plan.rho.epsilon(), 4), "charged_now": facts["cost"]},
            "cells": keys, "expected": plan.expected(), "unit": MEASURES[spec.measure].unit}


def refusal_facts(con: duckdb.DuckDBPyConnection, settings: Settings, *, principal: str,
                  dataset: str, measure: str, group_by, filters, rho: Rho | None = None,
                  half_width: float | AccuracyTarget | None = None,
                  database: Database | None = None) -> dict:
    """The dry run's facts for a request the budget refused (for its 409)."""
    spec = validate_query(measure, group_by, filters)
    plan = plan_query(spec, rho, half_width)
    return cost_facts(con, settings, QueryRelease.of(dataset, plan, principal), database=database,
                      max_rho=MAX_RHO, min_rho=MIN_RHO)
