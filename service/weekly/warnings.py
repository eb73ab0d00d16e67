"""Early warning: areas whose rolling attendance falls below their own baseline by more than
privacy noise and ordinary week-to-week variation explain.

Only released (noisy) values are read: this is post-processing and costs no budget.

The test, per area and week ``t`` (docs/weekly.md has the reasoning and measured rates):

* current  = the released rolling 4-week attendance rate, weeks ``t−3..t``;
* baseline = the mean of the released weekly rates of weeks ``1..t−4`` (``b >= MIN_BASELINE``
  weeks, disjoint from the current window, so their privacy noise is independent);
* change   = current − baseline, minus the same change for the country (a flu wave or a
  holiday week moves every area; only a LOCAL departure is a signal);
* spread   = the sample variance ``s²`` over the baseline weeks of the area's released weekly
  rate minus the country's (the country: its own rate) — it holds privacy noise AND ordinary
  local variation together, not the season every area shares — floored at the known noise
  variance of a week; under "nothing changed" (weekly departures exchangeable)
  ``Var(excess) ≈ s²·(1/4 + 1/b)``;
* flag when ``−change / sd`` exceeds the one-sided Student-t quantile at level ``alpha`` with
  ``b − 1`` degrees of freedom (``s²`` is estimated from ``b`` weeks);
* areas whose released weekly rate has a noise sd above ``max_noise_sd`` (5 points) are not
  tested ("too few pupils"): their rates are ratios of mostly-noise totals, heavy-tailed, and
  the t-test's false-flag rate there is far above ``alpha`` (measured 0.8% per area-week at
  week 10 in tests/integration/test_weekly_warning_pipeline.py before this guard).

With ``alpha = 0.001`` about one area-week in a thousand is flagged when nothing changed, if
weekly values are exchangeable; bench/weekly_evidence.py measures the real rate on synthetic
data (docs/weekly.md).

The second signal, a rise in NEW LONG-TERM ABSENTEES (pupils who first complete four
consecutive fully absent school weeks), per area and week ``t`` (:func:`detect_long_term`):

* current  = the noisy count over the last ``window`` weeks ``t−w+1..t`` (w = 8), summed from
  the released tree nodes of ``new_long_term`` (unbiased integers; the published counts are
  clipped at 0, so they are not summed);
* baseline = the noisy count over weeks ``4..t−w`` (``b >= MIN_BASELINE`` weeks; nobody can
  complete four weeks before week 4), as a rate per week;
* expected = baseline rate × ``w`` × the country's factor (its current rate over its baseline
  rate: a national season moves every area; 1 when the country's baseline is within three
  noise sds of 0, and for the country itself);
* under "nothing changed" the counts are Poisson-like (rare, independent pupils) plus the
  known noise, so ``Var(current − expected) ≈ expected + Var_noise(current) + (f·w/b)²·(baseline
  + Var_noise(baseline)) + (baseline·w/b)²·Var(f)``;
* flag when ``(current − expected) / sd`` exceeds the normal quantile at level ``alpha``.

Its sd is dominated by privacy noise (tens of pupils per area, whatever the area's size), so it
flags large local rises only; docs/weekly.md has the measured false-flag rate and power.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as student_t

from service.db import Database
from service.weekly.series import release_cells, week_releases

MIN_BASELINE = 6
ALPHA = 0.001


#: the first school week in which a pupil can complete four consecutive absent weeks
LONG_TERM_FIRST_WEEK = 4
LONG_TERM_WINDOW = 8
NODE_COLUMNS = ["level", "area_code", "area_name", "start", "end", "estimate", "sd"]


#: areas whose released weekly attendance has a noise sd above this are not tested: their rates
#: are ratios of totals that are mostly noise (heavy-tailed), and their intervals say so
MAX_NOISE_SD = 0.05


@dataclass(frozen=True)
class WarningRule:
    alpha: float = ALPHA
    min_baseline: int = MIN_BASELINE
    max_noise_sd: float = MAX_NOISE_SD


@dataclass(frozen=True)
class LongTermRule:
    alpha: float = ALPHA
    min_baseline: int = MIN_BASELINE
    window: int = LONG_TERM_WINDOW


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
    base = weekly[(weekly["week"] >= 1) & (weekly["week"] <= b)].copy()
    # the spread is read from each area's weekly departure from the country (its own rate for
    # the country): the season and holiday weeks that move every area are not "ordinary
    # variation" of one area, and the test is on the local excess
    nl_week = base[base["level"] == "country"].set_index("week")["estimate"]
    nl_week = nl_week[~nl_week.index.duplicated()]
    is_nl = (base["level"] == "country").to_numpy()
    base["residual"] = base["estimate"] - np.where(is_nl, 0.0, base["week"].map(nl_week).to_numpy(dtype=float)
                                                   if len(nl_week) else 0.0)
    base["noise_var"] = base["sd"].astype(float) ** 2
    stats = base.groupby(["level", "area_code"]).agg(
        baseline=("estimate", "mean"), spread=("residual", "var"), noise_var=("noise_var", "mean"),
        weeks=("estimate", "count")).reset_index()
    cur = rolling[rolling["week"] == week][["level", "area_code", "area_name", "estimate", "sd"]]
    out = cur.rename(columns={"estimate": "current", "sd": "current_sd"}).merge(stats, on=["level", "area_code"])
    out["change"] = out["current"] - out["baseline"]
    nl = out[out["level"] == "country"]
    nl_change = float(nl["change"].iloc[0]) if len(nl) else 0.0
    var = np.fmax(out["spread"], out["noise_var"]) * (1 / 4 + 1 / out["weeks"])
    out["national_change"] = nl_change
    out["excess"] = out["change"] - np.where(out["level"] == "country", 0.0, nl_change)
    out["sd"] = np.sqrt(var)
    out["z"] = -out["excess"] / out["sd"]
    out["threshold"] = student_t.ppf(1 - rule.alpha, np.maximum(out["weeks"] - 1, 1))
    out["tested"] = np.sqrt(out["noise_var"]) <= rule.max_noise_sd
    out["flagged"] = (out["z"] > out["threshold"]) & out["current"].notna() & out["tested"]
    out["week"] = week
    out["signal"] = "attendance"
    out["reason"] = [
        (f"rolling 4-week attendance {c:.1%} vs baseline {bl:.1%} (weeks 1–{b}); change {ch:+.2%}, "
         f"national change {nl_change:+.2%}, local excess {ex:+.2%}; noise+ordinary sd {sd:.2%}; "
         f"z = {z:.1f} {'>' if f else '<='} {th:.1f}")
        if np.isfinite(z) and ok else
        (f"not tested: weekly attendance noise sd {np.sqrt(nv):.1%} > {rule.max_noise_sd:.0%} "
         "(too few pupils for the warning)" if np.isfinite(nv) and not ok else "no estimate")
        for c, bl, ch, ex, sd, z, th, f, ok, nv in zip(out["current"], out["baseline"], out["change"],
                                                      out["excess"], out["sd"], out["z"], out["threshold"],
                                                      out["flagged"], out["tested"], out["noise_var"])]
    return out.sort_values(["flagged", "z"], ascending=[False, False]).reset_index(drop=True)


def released_series(con: duckdb.DuckDBPyConnection, school_year: str, measure: str,
                    database: Database | None = None) -> pd.DataFrame:
    frames = []
    for week, rid in week_releases(con, school_year).items():
        cells = release_cells(con, rid, database)
        part = cells[(cells["measure"] == measure) & (cells["sector"] == "all")]
        frames.append(part.assign(week=week)[["level", "area_code", "area_name", "week", "estimate", "sd"]])
    if not frames:
        return pd.DataFrame(columns=["level", "area_code", "area_name", "week", "estimate", "sd"])
    out = pd.concat(frames, ignore_index=True)
    out["estimate"] = pd.to_numeric(out["estimate"], errors="coerce")
    out["sd"] = pd.to_numeric(out["sd"], errors="coerce")
    return out


def range_sums(nodes: pd.DataFrame, first: int, last: int) -> pd.DataFrame | None:
    """Per area: the noisy total over weeks ``first..last`` as a sum of released disjoint tree
    nodes (greedy: the longest released node starting at each week), its noise variance and
    the number of nodes; None when the released nodes do not cover the range."""
    spans = nodes[["start", "end"]].drop_duplicates()
    longest = spans[spans["end"] <= last].groupby("start")["end"].max().to_dict()
    cover, i = [], first
    while i <= last:
        if i not in longest:
            return None
        cover.append((i, longest[i]))
        i = longest[i] + 1
    part = nodes.merge(pd.DataFrame(cover, columns=["start", "end"]), on=["start", "end"])
    out = part.assign(var=part["sd"] ** 2).groupby(["level", "area_code", "area_name"], sort=False).agg(
        estimate=("estimate", "sum"), var=("var", "sum"), nodes=("estimate", "count")).reset_index()
    return out[out["nodes"] == len(cover)].reset_index(drop=True)


def detect_long_term(nodes: pd.DataFrame, week: int, rule: LongTermRule = LongTermRule()) -> pd.DataFrame:
    """Long-term-absence warnings for ``week`` from released ``new_long_term`` tree nodes.

    ``nodes``: rows ``(level, area_code, area_name, start, end, estimate, sd)`` (sector 'all').
    Returns one row per area with the reasoning columns and ``flagged``."""
    w = rule.window
    b = week - w - LONG_TERM_FIRST_WEEK + 1
    empty = pd.DataFrame(columns=["level", "area_code", "area_name", "week", "signal", "flagged"])
    if b < rule.min_baseline or not len(nodes):
        return empty
    cur = range_sums(nodes, week - w + 1, week)
    base = range_sums(nodes, LONG_TERM_FIRST_WEEK, week - w)
    if cur is None or base is None:
        return empty
    out = cur.rename(columns={"estimate": "current", "var": "current_noise_var"}).drop(columns="nodes").merge(
        base.rename(columns={"estimate": "baseline", "var": "baseline_noise_var"}).drop(columns="nodes"),
        on=["level", "area_code", "area_name"])
    out["baseline_rate"] = out["baseline"] / b
    nl = out[out["level"] == "country"]
    factor, factor_var = 1.0, 0.0
    if len(nl):
        c_nl, cv_nl = float(nl["current"].iloc[0]), float(nl["current_noise_var"].iloc[0])
        b_nl, bv_nl = float(nl["baseline"].iloc[0]), float(nl["baseline_noise_var"].iloc[0])
        if b_nl > 3 * np.sqrt(bv_nl) and c_nl > 0:
            factor = (c_nl / w) / (b_nl / b)
            factor_var = factor**2 * ((c_nl + cv_nl) / c_nl**2 + (b_nl + bv_nl) / b_nl**2)
    is_nl = (out["level"] == "country").to_numpy()
    f = np.where(is_nl, 1.0, factor)
    fv = np.where(is_nl, 0.0, factor_var)
    k = f * w / b
    out["national_factor"] = f
    out["expected"] = k * out["baseline"]
    out["excess"] = out["current"] - out["expected"]
    base_pos = np.maximum(out["baseline"], 0.0)
    var = (np.maximum(out["expected"], 0.0) + out["current_noise_var"]
           + k**2 * (base_pos + out["baseline_noise_var"]) + (base_pos * w / b) ** 2 * fv)
    out["sd"] = np.sqrt(var)
    out["z"] = out["excess"] / out["sd"]
    out["threshold"] = float(norm.ppf(1 - rule.alpha))
    out["flagged"] = out["z"] > out["threshold"]
    out["week"] = week
    out["signal"] = "new_long_term"
    first = week - w + 1
    out["reason"] = [
        (f"new long-term absentees (first 4 consecutive absent weeks) in weeks {first}–{week}: "
         f"{c:.0f} vs expected {e:.1f} = baseline {bl:.0f} in weeks {LONG_TERM_FIRST_WEEK}–{week - w} "
         f"({bl / b:.2f}/week) × {w} weeks × national factor {fa:.2f}; excess {ex:+.1f}; "
         f"noise+Poisson sd {sd:.1f}; z = {z:.1f} {'>' if fl else '<='} {th:.1f}")
        for c, e, bl, fa, ex, sd, z, th, fl in zip(out["current"], out["expected"], out["baseline"],
                                                  out["national_factor"], out["excess"], out["sd"],
                                                  out["z"], out["threshold"], out["flagged"])]
    return out.sort_values(["flagged", "z"], ascending=[False, False]).reset_index(drop=True)


def released_nodes(con: duckdb.DuckDBPyConnection, school_year: str,
                   total: str = "new_long_term", database: Database | None = None) -> pd.DataFrame:
    """The released (noisy) tree nodes of one weekly total, sector 'all', of every week."""
    frames = []
    prefix = f"node:{total}:"
    for week, rid in week_releases(con, school_year).items():
        cells = release_cells(con, rid, database)
        part = cells[cells["measure"].str.startswith(prefix) & (cells["sector"] == "all")]
        span = part["measure"].str.slice(len(prefix)).str.split("-", expand=True)
        if not len(part):
            continue
        frames.append(part.assign(start=span[0].astype(int), end=span[1].astype(int))[NODE_COLUMNS])
    if not frames:
        return pd.DataFrame(columns=NODE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["estimate"] = pd.to_numeric(out["estimate"], errors="coerce")
    out["sd"] = pd.to_numeric(out["sd"], errors="coerce")
    return out


def warnings(con: duckdb.DuckDBPyConnection, school_year: str, week: int | None = None,
             rule: WarningRule = WarningRule(), long_term: LongTermRule = LongTermRule(), *,
             database: Database | None = None) -> pd.DataFrame:
    """Both signals for `week` (default: the latest released week) from the stored releases:
    falling rolling attendance (``signal == 'attendance'``) and a rise in new long-term
    absentees (``signal == 'new_long_term'``), flagged rows first."""
    released = week_releases(con, school_year)
    if not released:
        return detect(pd.DataFrame(), pd.DataFrame(), 0, rule)
    week = max(released) if week is None else week
    frames = [detect(released_series(con, school_year, "attendance_rate_week", database),
                     released_series(con, school_year, "attendance_rate_4wk", database), week, rule),
              detect_long_term(released_nodes(con, school_year, database=database), week,
                               long_term)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return detect(pd.DataFrame(), pd.DataFrame(), 0, rule)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["flagged", "z"], ascending=[False, False]).reset_index(drop=True)
