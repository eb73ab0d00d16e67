"""Small-area estimates of the schools' chronic-absence share against the truth (issue 26).

    nice -n 10 python bench/small_area.py --db evidence1m.duckdb --draws 20

The true per-school totals are read once; each draw is an independent standard release
(fresh OpenDP noise; computed, not published), whose published school cells get the
Fay–Herriot model estimate (`service.releases.small_area`, post-processing of published values
only). Against the truth, per draw and pooled: the median 95% half-width of schools of 50–99
pupils, direct and model; coverage overall, per decile of the true value and in the top 5%;
coverage of schools without a direct estimate; the recall of the 50 truly worst schools (≥ 50
pupils) by the direct and by the model ranking. Prints Markdown (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
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
from service.releases.small_area import MODEL_MEASURES, model_columns  # noqa: E402
from service.releases.standard import _areas, release_from_leaf  # noqa: E402

TOP = 50
MIN_PUPILS = 50


def one_draw(leaf, areas, truth: pd.DataFrame, rho: Rho, measure: str) -> pd.DataFrame:
    cells = release_from_leaf(leaf, rho, ranks=False).cells
    cells = model_columns(cells, areas)
    school = cells[(cells["level"] == "school") & (cells["measure"] == measure)]
    keep = ["area_code", "estimate", "lower", "upper", "model_estimate", "model_lower", "model_upper"]
    school = school[keep].copy()
    for col in keep[1:]:
        school[col] = pd.to_numeric(school[col], errors="coerce")
    t = truth[(truth["level"] == "school") & (truth["measure"] == measure)][["area_code", "truth", "size"]]
    return school.merge(t, on="area_code", validate="one_to_one")


def summary(draws: list[pd.DataFrame]) -> dict:
    m = pd.concat([d.assign(draw=i) for i, d in enumerate(draws)], ignore_index=True)
    m = m[np.isfinite(m["truth"])]
    m["direct_cov"] = (m["lower"] <= m["truth"]) & (m["truth"] <= m["upper"])
    m["model_cov"] = (m["model_lower"] <= m["truth"]) & (m["truth"] <= m["model_upper"])
    small = m[(m["size"] >= 50) & (m["size"] < 100)]
    out = {"cells": int(len(m)), "draws": len(draws),
           "median half-width, schools 50–99 (direct)": float(((small["upper"] - small["lower"]) / 2).median()),
           "median half-width, schools 50–99 (model)": float(((small["model_upper"] - small["model_lower"]) / 2).median()),
           "coverage 50–99 (direct)": float(small["direct_cov"].mean()),
           "coverage 50–99 (model)": float(small["model_cov"].mean()),
           "coverage all (direct)": float(m["direct_cov"].mean()),
           "coverage all (model)": float(m["model_cov"].mean())}
    no_direct = m[m["estimate"].isna()]
    out["schools without a direct estimate (cells)"] = int(len(no_direct))
    out["coverage without a direct estimate (model)"] = (float(no_direct["model_cov"].mean())
                                                          if len(no_direct) else float("nan"))
    deciles = pd.qcut(m["truth"].rank(method="first"), 10, labels=False)
    out["model coverage by decile of the truth"] = [round(float(g.mean()), 3) for _, g in m.groupby(deciles)["model_cov"]]
    out["direct coverage by decile of the truth"] = [round(float(g.mean()), 3) for _, g in m.groupby(deciles)["direct_cov"]]
    top5 = m["truth"] >= m["truth"].quantile(0.95)
    out["top 5% coverage (model)"] = float(m.loc[top5, "model_cov"].mean())
    out["top 5% coverage (direct)"] = float(m.loc[top5, "direct_cov"].mean())
    recall = {"direct": [], "model": []}
    for _, d in m[m["size"] >= MIN_PUPILS].groupby("draw"):
        worst = set(d.nlargest(TOP, "truth")["area_code"])
        for kind, col in (("direct", "estimate"), ("model", "model_estimate")):
            recall[kind].append(len(worst & set(d.nlargest(TOP, col)["area_code"])) / TOP)
    out["top-50 recall (direct)"] = float(np.mean(recall["direct"]))
    out["top-50 recall (model)"] = float(np.mean(recall["model"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--rho", default="0.6")
    parser.add_argument("--measures", nargs="*", default=["chronic_share"], choices=list(MODEL_MEASURES))
    parser.add_argument("--out", type=Path, default=Path("bench/out/small_area.json"))
    args = parser.parse_args()
    con = connect(args.db)
    leaf = leaf_totals(con, args.year)
    con.close()
    truth = truth_table(leaf)
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    results = {}
    for measure in args.measures:
        draws = []
        for i in range(args.draws):
            start = time.perf_counter()
            draws.append(one_draw(leaf, areas, truth, Rho.of(args.rho), measure))
            print(f"{measure} draw {i + 1}/{args.draws}: {time.perf_counter() - start:.0f} s", flush=True)
        results[measure] = summary(draws)
    pupils = int(leaf.totals["enrolled"].values.sum())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pupils": pupils, "rho": args.rho, **results}, indent=2))
    print(f"\n{pupils:,} pupils, {len(leaf.school_ids):,} schools, rho {args.rho}, {args.draws} draws\n")
    for measure, res in results.items():
        rows = [{"figure": k, "value": v if not isinstance(v, list) else " ".join(f"{x:.3f}" for x in v)}
                for k, v in res.items()]
        print(f"### {measure}\n\n{markdown(pd.DataFrame(rows), 3)}\n")


if __name__ == "__main__":
    main()
