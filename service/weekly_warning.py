"""Early warning: areas whose rolling attendance falls below their own baseline by more than
privacy noise and ordinary week-to-week variation explain.

Only released (noisy) values are read: this is post-processing and costs no budget.

The test, per area and week ``t`` (docs/weekly.md has the reasoning and measured rates):

* current  = the released rolling 4-week attendance rate, weeks ``t−3..t``;
* baseline = the mean of the released weekly rates of weeks ``1..t−4`` (``b >= MIN_BASELINE``
  weeks, disjoint from the current window, so their privacy noise is independent);
* change   = current − baseline, minus the same change for the country (a flu wave or a
  holiday week moves every area; only a LOCAL departure is a signal);
* spread   = the sample variance ``s²`` of the area's own weekly released rates in the
  baseline — it holds privacy noise AND ordinary variation together — floored at the known
  noise variance of a week; under "nothing changed" (weeks exchangeable)
  ``Var(change) ≈ s²·(1/4 + 1/b)`` plus the country's (tiny) share;
* flag when ``−change / sd`` exceeds the one-sided Student-t quantile at level ``alpha`` with
  ``b − 1`` degrees of freedom (``s²`` is estimated from ``b`` weeks).

With ``alpha = 0.001`` about one area-week in a thousand is flagged when nothing changed, if
weekly values are exchangeable; bench/weekly_evidence.py measures the real rate on synthetic
data (docs/weekly.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from service.weekly import release_cells, week_releases

MIN_BASELINE = 6
ALPHA = 0.001


@dataclass(frozen=True)
class WarningRule:
    alpha: float = ALPHA
    min_baseline: int = MIN_BASELINE


def detect(weekly: pd.DataFrame, rolling: pd.DataFrame, week: int,
           rule: WarningRule = WarningRule()) -> pd.DataFrame:
    """Warnings for ``week`` from released series.

    ``weekly``: rows ``(level, area_code, area_name, week, estimate, sd)`` of
    ``attendance_rate_week`` (sector 'all'); ``rolling``: the same for ``attendance_rate_4wk``.
    Returns one row per area with the reasoning columns and ``flagged``.
    """
    b = week - 4
    if b < rule.min_baseline:
        return pd.DataFrame(columns=["level", "area_code", "area_name", "week", "flagged"])
    base = weekly[(weekly["week"] >= 1) & (weekly["week"] <= b)]
    stats = base.groupby(["level", "area_code"]).agg(
        baseline=("estimate", "mean"), spread=("estimate", "var"), noise_var=("sd", lambda s: float(np.nanmean(s**2))),
        weeks=("estimate", "count")).reset_index()
    cur = rolling[rolling["week"] == week][["level", "area_code", "area_name", "estimate", "sd"]]
    out = cur.rename(columns={"estimate": "current", "sd": "current_sd"}).merge(stats, on=["level", "area_code"])
    out["change"] = out["current"] - out["baseline"]
    nl = out[out["level"] == "country"]
    nl_change = float(nl["change"].iloc[0]) if len(nl) else 0.0
    nl_var = float(nl["spread"].iloc[0] * (1 / 4 + 1 / b)) if len(nl) else 0.0
    var = np.maximum(out["spread"], out["noise_var"]) * (1 / 4 + 1 / out["weeks"])
    out["national_change"] = nl_change
    out["excess"] = out["change"] - np.where(out["level"] == "country", 0.0, nl_change)
    out["sd"] = np.sqrt(var + np.where(out["level"] == "country", 0.0, nl_var))
    out["z"] = -out["excess"] / out["sd"]
    out["threshold"] = student_t.ppf(1 - rule.alpha, np.maximum(out["weeks"] - 1, 1))
    out["flagged"] = (out["z"] > out["threshold"]) & out["current"].notna()
    out["week"] = week
    out["reason"] = [
        (f"rolling 4-week attendance {c:.1%} vs baseline {bl:.1%} (weeks 1–{b}); change {ch:+.2%}, "
         f"national change {nl_change:+.2%}, local excess {ex:+.2%}; noise+ordinary sd {sd:.2%}; "
         f"z = {z:.1f} {'>' if f else '<='} {th:.1f}")
        if np.isfinite(z) else "no estimate"
        for c, bl, ch, ex, sd, z, th, f in zip(out["current"], out["baseline"], out["change"],
                                              out["excess"], out["sd"], out["z"], out["threshold"],
                                              out["flagged"])]
    return out.sort_values(["flagged", "z"], ascending=[False, False]).reset_index(drop=True)


def released_series(con: duckdb.DuckDBPyConnection, school_year: str, measure: str) -> pd.DataFrame:
    frames = []
    for week, rid in week_releases(con, school_year).items():
        cells = release_cells(con, rid)
        part = cells[(cells["measure"] == measure) & (cells["sector"] == "all")]
        frames.append(part.assign(week=week)[["level", "area_code", "area_name", "week", "estimate", "sd"]])
    if not frames:
        return pd.DataFrame(columns=["level", "area_code", "area_name", "week", "estimate", "sd"])
    out = pd.concat(frames, ignore_index=True)
    out["estimate"] = pd.to_numeric(out["estimate"], errors="coerce")
    out["sd"] = pd.to_numeric(out["sd"], errors="coerce")
    return out


def warnings(con: duckdb.DuckDBPyConnection, school_year: str, week: int | None = None,
             rule: WarningRule = WarningRule()) -> pd.DataFrame:
    """Warnings for `week` (default: the latest released week) from the stored releases."""
    released = week_releases(con, school_year)
    if not released:
        return detect(pd.DataFrame(), pd.DataFrame(), 0, rule)
    week = max(released) if week is None else week
    return detect(released_series(con, school_year, "attendance_rate_week"),
                  released_series(con, school_year, "attendance_rate_4wk"), week, rule)
