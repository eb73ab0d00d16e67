"""Joint tables before and after, side by side at the same budget (issue 17).

    nice -n 10 python bench/joint_tables.py --db aanwezig.duckdb --draws 20

The true per-school totals are read once (`aggregate.leaf_totals`); each draw is an
independent standard release from them (fresh OpenDP noise; computed, not published) in two
layouts at the same default ρ: BEFORE, five reason tables of one reason each and no
reconciliation across tables (`standard.SEPARATE_REASON_TABLES`); AFTER, the five reasons as
one joint table and absent minutes reconciled with their sum (`standard.TABLES`). Per measure
(absence rate and each reason's rate) and level (municipality, school): the median over cells
of the published sd and of the sd measured over the draws, their after/before ratios, and the
95% interval coverage against the truth (cells × draws). Month queries: the sd of a monthly
absent-minutes total (group by month, absence_rate at ρ = 0.01 split over its two totals)
with the month bound without and with the year's cap, measured over `--month-draws` draws.
Prints Markdown (docs/benchmarks.md); the truth leaves this script only as these summaries.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import truth_table  # noqa: E402  (bench/accuracy.py: the truth of every cell)

from privacy.bounds import BoundSpec  # noqa: E402
from privacy.budget import Rho  # noqa: E402
from privacy.mechanisms import add_noise, plan_gaussian  # noqa: E402
from service.db import connect  # noqa: E402
from service.releases.aggregate import grouped_totals, leaf_totals  # noqa: E402
from service.releases.catalogue import REASONS, validate_query  # noqa: E402
from service.releases.queries import plan_query  # noqa: E402
from service.releases.standard import (LEVELS, SEPARATE_REASON_TABLES, TABLES,  # noqa: E402
                                       release_from_leaf)
from privacy.release import plan_tables  # noqa: E402
from service.releases.budget import DEFAULT_BUDGET  # noqa: E402

MEASURES = ("absence_rate", *(f"absence_rate_{r}" for r in REASONS))
LAYOUTS = {"before": SEPARATE_REASON_TABLES, "after": TABLES}


def draws_of(leaf, truth: pd.DataFrame, rho: Rho, tables, draws: int) -> pd.DataFrame:
    frames = []
    for d in range(draws):
        cells = release_from_leaf(leaf, rho, ranks=False, tables=tables).cells
        cells = cells[cells["measure"].isin(MEASURES) & cells["level"].isin(["municipality", "school"])
                      & (cells["sector"] == "all")]
        cells = cells[["measure", "level", "sector", "area_code", "estimate", "lower", "upper", "sd"]].copy()
        for col in ("estimate", "lower", "upper", "sd"):
            cells[col] = pd.to_numeric(cells[col], errors="coerce")
        cells["draw"] = d
        frames.append(cells.merge(truth, on=["measure", "level", "sector", "area_code"]))
    return pd.concat(frames, ignore_index=True)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[np.isfinite(frame["truth"])]
    per_cell = frame.groupby(["measure", "level", "area_code"]).agg(
        measured=("estimate", "std"), published=("sd", "median"))
    cover = ((frame["lower"] <= frame["truth"]) & (frame["truth"] <= frame["upper"]))
    coverage = cover.groupby([frame["measure"], frame["level"]]).mean().rename("coverage")
    out = per_cell.groupby(["measure", "level"]).median().join(coverage)
    return out


def month_sd(con, year: str, draws: int) -> dict:
    spec = validate_query("absence_rate", ["month"], {})
    rho = plan_query(spec, rho=Rho.of("0.01")).rho_per_total["absent_minutes"]
    true = grouped_totals(con, year, ["month"], {}).totals["absent_minutes"]
    capped = true.bound
    uncapped = BoundSpec(capped.lower, capped.upper, max_cells=capped.max_cells)
    out = {}
    for name, bound in (("before", uncapped), ("after", capped)):
        plan = plan_gaussian(bound, rho)
        noisy = add_noise(np.tile(true.values, draws), plan).reshape(draws, -1)
        out[name] = {"scale": plan.scale, "measured_sd": float(np.median(noisy.std(axis=0, ddof=1)))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--month-draws", type=int, default=2000)
    args = parser.parse_args()
    con = connect(Path(args.db))
    rho = DEFAULT_BUDGET["standard"]
    leaf = leaf_totals(con, args.year)
    truth = truth_table(leaf)

    print(f"## Joint tables (issue 17): before / after at ρ = {float(rho.value)}, {args.draws} draws\n")
    print("| table | level | ρ before | scale before | ρ after | scale after | scale ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    plans = {k: plan_tables(list(t), list(LEVELS), rho) for k, t in LAYOUTS.items()}
    from privacy.mechanisms import plan_gaussian as pg
    for level in ("municipality", "school"):
        for name, after_name in (("sick_minutes", "reason"), ("absent_minutes", "absent_minutes"),
                                 ("possible_minutes", "possible_minutes")):
            tb = {t.name: t for t in LAYOUTS["before"]}[name]
            ta = {t.name: t for t in LAYOUTS["after"]}[after_name]
            rb, ra = plans["before"][(name, level)], plans["after"][(after_name, level)]
            sb, sa = pg(tb.bound, rb).scale, pg(ta.bound, ra).scale
            print(f"| {name if name != 'sick_minutes' else 'each reason'} | {level} | {float(rb):.6f} "
                  f"| {sb:,.0f} | {float(ra):.6f} | {sa:,.0f} | {sa / sb:.3f} |")

    results = {}
    for name, tables in LAYOUTS.items():
        start = time.perf_counter()
        results[name] = summary(draws_of(leaf, truth, rho, tables, args.draws))
        print(f"\n{name}: {args.draws} releases in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    b, a = results["before"], results["after"]
    print("\n| measure | level | sd before (published / measured) | sd after (published / measured) "
          "| predicted ratio | measured ratio | coverage before | coverage after |")
    print("| --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
    for (measure, level), row in a.iterrows():
        rb = b.loc[(measure, level)]
        print(f"| {measure} | {level} | {rb.published * 100:.4f} / {rb.measured * 100:.4f} pp "
              f"| {row.published * 100:.4f} / {row.measured * 100:.4f} pp "
              f"| {row.published / rb.published:.3f} | {row.measured / rb.measured:.3f} "
              f"| {rb.coverage:.3f} | {row.coverage:.3f} |")

    months = month_sd(con, args.year, args.month_draws)
    print(f"\nMonth query (absence_rate by month, ρ = 0.01, absent minutes at ρ/2), "
          f"{args.month_draws} draws:\n")
    print("| bound | noise scale (min) | measured sd of a monthly absent total (median over months) |")
    print("| --- | ---: | ---: |")
    for name, label in (("before", "per month only: √12 · 8,280"), ("after", "with the year's cap: 24,609")):
        print(f"| {label} | {months[name]['scale']:,.0f} | {months[name]['measured_sd']:,.0f} |")
    print(f"\nmeasured sd ratio after/before: {months['after']['measured_sd'] / months['before']['measured_sd']:.3f}")


if __name__ == "__main__":
    main()
