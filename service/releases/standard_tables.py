"""The yearly standard release: every measure at every area level, reconciled, with intervals.

Flow (docs/releases.md):
1. one SQL scan gives, per school (the leaves, from the public register, zeros included), the
   true integer totals the measures need (`service.aggregate.leaf_totals`); they stay in
   memory and are never logged;
2. the budget plan (`plan_tables`) splits the standard pool's ρ over every total × level with
   `privacy.planner.split_budget` (minimising weighted variance; weights below);
3. each total × level vector gets discrete Gaussian noise from OpenDP at its planned scale;
4. `privacy.consistency.reconcile` makes schools add up to municipalities, provinces, the
   country, samenwerkingsverbanden and RMC regions (post-processing of noisy values only);
5. measures are formed from the reconciled totals (counts; rates and shares as ratios of two
   totals), each with its 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.consistency import Level, Measured, interval, reconcile
from privacy.mechanisms import NoisePlan, add_noise, plan_gaussian
from privacy.planner import LevelDemand, split_budget
from scipy.stats import norm

from service.register.areas import AreaLevels

#: How much the error at each level matters to users (docs/releases.md). Municipality and
#: samenwerkingsverband are where regions act; schools are many and small.
LEVEL_WEIGHTS = {"school": 1.0, "municipality": 2.0, "swv": 1.5, "rmc": 1.0,
                 "province": 0.5, "country": 0.5, "sector": 0.5}


@dataclass
class TotalResult:
    plans: dict[str, NoisePlan]
    estimate: dict[str, np.ndarray]    # WLS (unbiased) per level incl. "school"
    variance: dict[str, np.ndarray]
    integer: dict[str, np.ndarray]
    gain: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """One noised table: a total (or a joint table of totals one pupil touches one cell of)
    with its per-pupil bound and its weight in the budget plan."""

    name: str
    totals: tuple[str, ...]
    bound: BoundSpec
    weight: float = 1.0


def plan_tables(tables: list[Table], level_names: list[str], rho: Rho) -> dict[tuple[str, str], Rho]:
    """ρ per (table, level). Weights: the table's weight × the level's weight, divided by the
    squared sensitivity so that every table is judged on its error relative to one pupil."""
    from privacy.bounds import sensitivity

    demands = []
    for t in tables:
        l2 = sensitivity(t.bound).l2
        for lvl in level_names:
            demands.append(LevelDemand(f"{t.name}@{lvl}", t.weight * LEVEL_WEIGHTS[lvl] / (l2 * l2), t.bound))
    split = split_budget(demands, rho, "min_weighted_variance")
    return {(t.name, lvl): split[f"{t.name}@{lvl}"] for t in tables for lvl in level_names}


def predicted_half_widths(totals: list[Table], level_names: list[str], rho: Rho) -> pd.DataFrame:
    """Before spending: the raw 95% half-width per total and level (reconciliation only
    narrows it)."""
    plan = plan_tables(totals, level_names, rho)
    rows = []
    for t in totals:
        for lvl in level_names:
            p = plan_gaussian(t.bound, plan[(t.name, lvl)])
            rows.append({"total": t.name, "level": lvl, "rho": float(plan[(t.name, lvl)]),
                         "scale": p.scale, "half_width_95": p.half_width(0.05)})
    return pd.DataFrame(rows)


def noisy_total(leaf: np.ndarray, total: Table, areas: AreaLevels,
                plan: dict[tuple[str, str], Rho]) -> TotalResult:
    """Noise every level of one total with OpenDP and reconcile. `leaf` is private. For a
    joint table, call once per member total with the table's plan: one pupil touches one
    cell of the whole table, so the table's ρ is spent once."""
    measurements, plans = [], {}
    p = plan_gaussian(total.bound, plan[(total.name, "school")])
    plans["school"] = p
    measurements.append(Measured(None, add_noise(leaf, p), p.variance()))
    for name, level in areas.levels.items():
        true = np.bincount(level.group_of_leaf, weights=leaf, minlength=level.n_groups).astype(np.int64)
        p = plan_gaussian(total.bound, plan[(total.name, name)])
        plans[name] = p
        measurements.append(Measured(level, add_noise(true, p), p.variance()))
    rec = reconcile(len(leaf), measurements)
    out = TotalResult(plans, {"school": rec.leaf_estimate}, {"school": rec.leaf_variance},
                      {"school": rec.leaf_integer.astype(np.int64)})
    out.gain["school"] = float(np.median(rec.leaf_raw_variance / np.maximum(rec.leaf_variance, 1e-300)))
    for name, res in rec.levels.items():
        out.estimate[name], out.variance[name], out.integer[name] = res.estimate, res.variance, res.integer
        out.gain[name] = res.median_gain
    return out


def _sum(results: dict[str, TotalResult], names: tuple[str, ...], level: str):
    est = sum(results[n].estimate[level] for n in names)
    var = sum(results[n].variance[level] for n in names)   # totals are noised independently
    integer = sum(results[n].integer[level] for n in names)
    return est, var, integer


def measure_cells(measure, results: dict[str, TotalResult], level: str,
                  alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Estimate, interval and sd of one measure for every group of one level."""
    n_est, n_var, n_int = _sum(results, measure.numerator, level)
    if not measure.denominator:
        lower, upper = interval(n_est, n_var, n_int, alpha)
        return {"estimate": n_int.astype(float), "lower": np.floor(lower), "upper": np.ceil(upper),
                "sd": np.sqrt(n_var)}
    d_est, d_var, d_int = _sum(results, measure.denominator, level)
    # Each total's interval at 1 - alpha/2: the box covers both with probability >= 1 - alpha
    # (union bound), so the range of num/den over the box is a conservative interval.
    z = norm.ppf(1 - alpha / 4)
    n_lo = np.minimum(np.maximum(n_est - z * np.sqrt(n_var), 0), n_int)
    n_hi = np.maximum(n_est + z * np.sqrt(n_var), n_int)
    d_lo = np.minimum(np.maximum(d_est - z * np.sqrt(d_var), 0), d_int)
    d_hi = np.maximum(d_est + z * np.sqrt(d_var), d_int)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.where(d_int > 0, n_int / np.maximum(d_int, 1), np.nan)
        lower = np.where(d_hi > 0, n_lo / np.maximum(d_hi, 1e-300), 0.0)
        upper = np.where(d_lo > 0, n_hi / np.maximum(d_lo, 1e-300), 1.0)
        # delta-method sd of the ratio (for comparisons), from the unbiased totals
        ratio = np.where(d_est > 0, n_est / np.maximum(d_est, 1e-300), np.nan)
        sd = np.where(d_est > 0, np.sqrt(n_var + ratio**2 * d_var) / np.maximum(d_est, 1e-300), np.nan)
    est = np.clip(est, 0.0, 1.0)
    lower, upper = np.clip(lower, 0.0, 1.0), np.clip(upper, 0.0, 1.0)
    if measure.complement:
        est, lower, upper = 1.0 - est, 1.0 - upper, 1.0 - lower
    return {"estimate": est, "lower": lower, "upper": upper, "sd": sd}


def cells_frame(measures: list, results: dict[str, TotalResult], areas: AreaLevels,
                alpha: float = 0.05) -> pd.DataFrame:
    """Every measure × level × area as one tidy table (sector 'all')."""
    frames = []
    for m in measures:
        lead = results[m.numerator[0]]
        for level in ["country", "sector", "province", "rmc", "swv", "municipality", "school"]:
            if level != "school" and level not in areas.levels:
                continue
            vals = measure_cells(m, results, level, alpha)
            codes = areas.school_codes if level == "school" else areas.codes[level]
            names = areas.school_names if level == "school" else areas.names[level]
            plan = lead.plans[level]
            frame = pd.DataFrame({
                "measure": m.name, "level": level, "area_code": codes, "area_name": names,
                "sector": "all", **vals, "unit": m.unit, "noise": plan.mechanism,
                "scale": plan.scale})
            frames.append(frame)
    cells = pd.concat(frames, ignore_index=True)
    counts = (cells["unit"] == "pupils").to_numpy()
    for col in ("estimate", "lower", "upper", "sd"):
        values = cells[col].to_numpy(dtype=float)
        rounded = np.where(counts & (col != "sd"), np.round(values, 0), np.round(values, 6))
        cells[col] = pd.Series(rounded, dtype=object).where(np.isfinite(rounded), None)
    cells["scale"] = cells["scale"].round(6)
    includes_0 = cells["lower"].to_numpy(dtype=float) <= 0
    no_estimate = cells["estimate"].isna().to_numpy()
    cells["flags"] = [FLAGS[(a, b)] for a, b in zip(includes_0, no_estimate)]
    return cells


#: flags per (interval includes 0, no estimate because the noisy denominator is not positive)
FLAGS = {(False, False): [], (True, False): ["interval_includes_0"],
         (False, True): ["no_estimate_denominator_not_positive"],
         (True, True): ["interval_includes_0", "no_estimate_denominator_not_positive"]}
