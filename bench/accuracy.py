"""Accuracy of the standard release on synthetic data where the truth is known.

    python bench/accuracy.py --db aanwezig.duckdb --draws 5

For `draws` independent standard releases (computed, not published: no budget is charged)
at the default standard budget, compares every count cell with its true value per level:
median and 95th-percentile absolute error, and the share of 95% intervals that cover the
truth; for shares (chronic_share) the same in percentage points. Results go to
bench/out/accuracy.json. The truth comes from the same aggregation SQL the release uses.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from privacy.budget import Rho
from service.releases.aggregate import leaf_totals
from service.db import connect
from service.releases.standard import compute_standard_release

COUNTS = {"enrolled": ("band_0", "band_1", "band_2", "band_3", "band_4"),
          "chronic_count": ("band_2", "band_3", "band_4"), "severe_count": ("band_4",),
          "long_term_count": ("long_term",)}


def truth_frame(leaf) -> pd.DataFrame:
    rows = []
    levels = {"municipality": "municipality", "province": "province", "rmc": "rmc", "country": "country"}
    for measure, parts in COUNTS.items():
        leaf_values = sum(leaf.totals[p].values for p in parts)
        rows.append(pd.DataFrame({"measure": measure, "level": "school", "area_code": leaf.school_ids,
                                  "truth": leaf_values}))
        for level, name in levels.items():
            lm = leaf.levels[name]
            rows.append(pd.DataFrame({"measure": measure, "level": level, "area_code": lm.codes,
                                      "truth": lm.sum(leaf_values)}))
        swv = [leaf.levels["swv_po"], leaf.levels["swv_vo"]]
        rows.append(pd.DataFrame({"measure": measure, "level": "swv",
                                  "area_code": swv[0].codes + swv[1].codes,
                                  "truth": np.concatenate([swv[0].sum(leaf_values), swv[1].sum(leaf_values)])}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--rho", default="0.6")
    args = parser.parse_args()
    con = connect(args.db)
    leaf = leaf_totals(con, args.year)
    truth = truth_frame(leaf)
    frames = []
    for draw in range(args.draws):
        cells = compute_standard_release(con, args.year, Rho.of(args.rho)).cells
        cells = cells[(cells.sector == "all") & cells.measure.isin(list(COUNTS))]
        merged = cells.merge(truth, on=["measure", "level", "area_code"])
        merged["draw"] = draw
        frames.append(merged)
    m = pd.concat(frames)
    m["abs_error"] = (m.estimate.astype(float) - m.truth).abs()
    m["covered"] = (m.lower.astype(float) <= m.truth) & (m.truth <= m.upper.astype(float))
    summary = (m.groupby(["measure", "level"])
               .agg(cells=("area_code", "nunique"), median_abs_error=("abs_error", "median"),
                    p95_abs_error=("abs_error", lambda x: float(np.quantile(x, 0.95))),
                    coverage=("covered", "mean"))
               .reset_index())
    by_size = m[m.measure == "enrolled"].assign(
        size=pd.cut(m[m.measure == "enrolled"].truth, [-1, 0, 4, 19, 99, 999, 10**9],
                    labels=["0", "1-4", "5-19", "20-99", "100-999", "1000+"]))
    size_table = by_size.groupby("size", observed=True).agg(
        cells=("area_code", "size"), median_abs_error=("abs_error", "median"),
        coverage=("covered", "mean")).reset_index()
    out = {"db": str(args.db), "rho": args.rho, "draws": args.draws,
           "pupils": int(leaf.totals["enrolled"].values.sum()),
           "per_level": summary.to_dict(orient="records"),
           "enrolled_by_true_size": size_table.astype({"size": str}).to_dict(orient="records")}
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/accuracy.json").write_text(json.dumps(out, indent=2, default=float))
    print(summary.to_string(index=False))
    print(size_table.to_string(index=False))


if __name__ == "__main__":
    main()
