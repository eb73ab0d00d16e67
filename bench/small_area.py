"""Small-area estimates of the schools' chronic-absence share against the truth (issue 26).

    nice -n 10 python bench/small_area.py --db evidence1m.duckdb --draws 20

The true per-school totals are read once; each draw is an independent standard release
(fresh OpenDP noise; computed, not published), whose published school cells get the
model estimates of two models (post-processing of published values only): the published one,
the Beta–Gaussian posterior (`service.releases.small_area.model_columns`), and the Fay–Herriot
EBLUP with its Prasad–Rao interval on the same public inputs (`privacy.small_area.fay_herriot`,
measured beside it and not published). Against the truth, pooled over the draws: the median
95% half-width of schools of 50–99 pupils; coverage overall, per school-size bin, per decile
of the true value and in the top 5%; coverage of schools without a direct estimate; bias and
RMSE per size bin; the recall of the 50 truly worst schools (≥ 50 pupils) by the direct and by
each model's ranking. Prints Markdown (docs/benchmarks.md).
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
from privacy.small_area import fay_herriot  # noqa: E402
from service.releases.small_area import (MODEL_MEASURES, binomial_variance, covariates,  # noqa: E402
                                         model_columns)
from service.releases.standard import _areas, release_from_leaf  # noqa: E402

TOP = 50
MIN_PUPILS = 50


def one_draw(leaf, areas, truth: pd.DataFrame, rho: Rho, measure: str) -> pd.DataFrame:
    cells = release_from_leaf(leaf, rho, ranks=False).cells
    cells = model_columns(cells, areas)
    school = cells[(cells["level"] == "school") & (cells["measure"] == measure)]
    keep = ["area_code", "estimate", "lower", "upper", "sd", "model_estimate", "model_lower", "model_upper"]
    school = school[keep].set_index("area_code").loc[areas.school_codes].reset_index()
    for col in keep[1:]:
        school[col] = pd.to_numeric(school[col], errors="coerce")
    x = covariates(cells, areas, measure)
    fh = fay_herriot(school["estimate"].to_numpy(), school["sd"].to_numpy() ** 2, x,
                     known_model_variance=binomial_variance(x))
    school["fh_estimate"], school["fh_lower"], school["fh_upper"] = fh.estimate, fh.lower, fh.upper
    t = truth[(truth["level"] == "school") & (truth["measure"] == measure)][["area_code", "truth", "size"]]
    return school.merge(t, on="area_code", validate="one_to_one")


SIZE_BINS = [0, 50, 100, 200, 500, np.inf]


def summary(draws: list[pd.DataFrame], model: str) -> dict:
    """The figures of one model (`model`: column prefix 'model' or 'fh') against the truth."""
    m = pd.concat([d.assign(draw=i) for i, d in enumerate(draws)], ignore_index=True)
    m = m[np.isfinite(m["truth"])]
    est, lo, hi = m[f"{model}_estimate"], m[f"{model}_lower"], m[f"{model}_upper"]
    m["direct_cov"] = (m["lower"] <= m["truth"]) & (m["truth"] <= m["upper"])
    m["model_cov"] = (lo <= m["truth"]) & (m["truth"] <= hi)
    m["model_err"] = est - m["truth"]
    m["model_half"] = (hi - lo) / 2
    small = m[(m["size"] >= 50) & (m["size"] < 100)]
    out = {"cells": int(len(m)), "draws": len(draws),
           "median half-width, schools 50–99 (direct)": float(((small["upper"] - small["lower"]) / 2).median()),
           "median half-width, schools 50–99 (model)": float(small["model_half"].median()),
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
    bins = pd.cut(m["size"], SIZE_BINS, right=False)
    by_size = m.groupby(bins, observed=True)
    out["model coverage by size (<50, 50–99, 100–199, 200–499, ≥500)"] = [round(float(v), 3) for v in by_size["model_cov"].mean()]
    out["model bias by size (pp)"] = [round(100 * float(v), 2) for v in by_size["model_err"].mean()]
    out["model RMSE by size (pp)"] = [round(100 * float(np.sqrt((g ** 2).mean())), 2) for _, g in by_size["model_err"]]
    recall = {"direct": [], "model": []}
    for _, d in m[m["size"] >= MIN_PUPILS].groupby("draw"):
        worst = set(d.nlargest(TOP, "truth")["area_code"])
        for kind, col in (("direct", "estimate"), ("model", f"{model}_estimate")):
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
        results[measure] = {"published (Beta posterior)": summary(draws, "model"),
                            "Fay–Herriot (not published)": summary(draws, "fh")}
    pupils = int(leaf.totals["enrolled"].values.sum())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pupils": pupils, "rho": args.rho, **results}, indent=2))
    print(f"\n{pupils:,} pupils, {len(leaf.school_ids):,} schools, rho {args.rho}, {args.draws} draws\n")
    for measure, res in results.items():
        models = list(res)
        rows = [{"figure": k, **{name: _text(res[name][k]) for name in models}} for k in res[models[0]]]
        print(f"### {measure}\n\n{markdown(pd.DataFrame(rows), 3)}\n")


def _text(value):
    return " ".join(f"{x:g}" for x in value) if isinstance(value, list) else value


if __name__ == "__main__":
    main()
