"""Region × sector: derived from the reconciled schools, or measured? (issue 26)

    nice -n 10 python bench/sector_levels.py --db evidence1m.duckdb --draws 3

The standard release publishes SO, VSO, SBO, PO and VO per province, RMC region,
samenwerkingsverband and municipality. Each pupil's school lies in one sector, so these cells
partition the existing levels and can be had two ways at the same yearly ρ:

* derived: the sum of the reconciled school estimates of the region's schools of that sector,
  with the exact GLS variance of that sum (post-processing: no budget, nothing else pays);
* measured: a noised table per region × sector level, which the planner pays for out of the
  same ρ (every other table and level then gets less).

Per layout, from the same true per-school totals (read once): the median published sd of the
region × sector cells per level, and what every other level pays (median sd of the sector
'all' cells against the derived layout's), with RMSE/sd and 95% coverage against the truth
over the draws. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import markdown, truth_table  # noqa: E402

from privacy.budget import Rho  # noqa: E402
from service.db import connect  # noqa: E402
from service.releases.aggregate import leaf_totals  # noqa: E402
from service.releases.standard import release_from_leaf  # noqa: E402

MEASURES = ("enrolled", "long_term_count", "chronic_share", "absence_rate", "long_term_share")
SECTOR_LEVELS = ("municipality_sector", "swv_sector", "rmc_sector", "province_sector")
LAYOUTS = {
    "derived (no budget)": (),
    "municipality × sector measured": ("municipality_sector",),
    "municipality and swv × sector measured": ("municipality_sector", "swv_sector"),
    "all four measured": SECTOR_LEVELS,
}


def draws_of(leaf, truth: pd.DataFrame, rho: Rho, measured: tuple[str, ...], draws: int) -> pd.DataFrame:
    frames = []
    for d in range(draws):
        cells = release_from_leaf(leaf, rho, ranks=False, measured_sectors=measured).cells
        cells = cells[cells["measure"].isin(MEASURES)]
        cells = cells[["measure", "level", "sector", "area_code", "estimate", "lower", "upper", "sd"]].copy()
        for col in ("estimate", "lower", "upper", "sd"):
            cells[col] = pd.to_numeric(cells[col], errors="coerce")
        cells["draw"] = d
        frames.append(cells.merge(truth, on=["measure", "level", "sector", "area_code"],
                                  validate="one_to_one"))
    return pd.concat(frames, ignore_index=True)


def summary(m: pd.DataFrame) -> pd.DataFrame:
    m = m.copy()
    m["kind"] = np.where(m["sector"] == "all", "all", "by sector")
    m["err"] = m["estimate"] - m["truth"]
    m["covered"] = (m["lower"] <= m["truth"]) & (m["truth"] <= m["upper"])
    rows = []
    for (measure, level, kind), g in m.groupby(["measure", "level", "kind"], sort=False):
        g = g[np.isfinite(g["err"]) & np.isfinite(g["sd"])]
        if g.empty:
            continue
        rows.append({"measure": measure, "level": level, "sector": kind, "cells": len(g),
                     "median sd": float(g["sd"].median()),
                     "RMSE / RMS sd": float(np.sqrt((g["err"] ** 2).mean() / (g["sd"] ** 2).mean())),
                     "coverage": float(g["covered"].mean())})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--rho", default="0.6")
    parser.add_argument("--layouts", nargs="*", default=list(LAYOUTS),
                        help="layouts to run (the derived one is always run: the baseline)")
    args = parser.parse_args()
    con = connect(args.db)
    leaf = leaf_totals(con, args.year)
    con.close()
    truth = truth_table(leaf)
    tables = {}
    for name, measured in LAYOUTS.items():
        if name not in args.layouts and measured:
            continue
        start = time.perf_counter()
        tables[name] = summary(draws_of(leaf, truth, Rho.of(args.rho), measured, args.draws))
        print(f"{name}: {time.perf_counter() - start:.0f} s for {args.draws} draws", flush=True)
    base = tables["derived (no budget)"].set_index(["measure", "level", "sector"])
    rows = []
    for name, t in tables.items():
        t = t.set_index(["measure", "level", "sector"])
        for key, row in t.iterrows():
            rows.append({"layout": name, "measure": key[0], "level": key[1], "sector": key[2],
                         "median sd": row["median sd"],
                         "sd / derived layout's": row["median sd"] / base.loc[key, "median sd"],
                         "RMSE / RMS sd": row["RMSE / RMS sd"], "coverage": row["coverage"]})
    out = pd.DataFrame(rows)
    pupils = int(leaf.totals["enrolled"].values.sum())
    print(f"\n{pupils:,} pupils, {len(leaf.school_ids):,} schools, rho {args.rho}, "
          f"{args.draws} draws per layout\n")
    print(markdown(out, 3))


if __name__ == "__main__":
    main()
