"""Accuracy of the standard release against the known truth (issues 12 and 23).

    nice -n 10 python bench/accuracy.py --db evidence1m.duckdb --draws 20 --call-draws 2 \
        --upper-draws 80

The per-school true totals are read once (`aggregate.leaf_totals`); each draw is an
independent standard release from them at the default budget (fresh OpenDP noise,
reconciliation, intervals and rank ranges; computed, not published: no ledger charge). Every
cell is compared with its true value:

* counts, per level (and at the school level per true school size < 50, 50–199, 200–499,
  ≥ 500 pupils): RMSE(estimate − truth) against RMS(published sd), |mean error| against
  RMS(sd), 95% interval coverage, and the RMSE of the whole-pupil view `integer_estimate`;
* rates and shares (issue 23), per level and at the school level per true school size: the
  published estimate's |mean error| and RMSE against RMS(sd), coverage, cells without an
  estimate and cells flagged `ratio_unstable`, and the bias of the value shown (`shown`);
* the "higher/lower than the Netherlands" calls by /v1/compare's rule (Benjamini–Hochberg
  over the areas of a level and measure) in every draw (`fast_calls`): calls per draw and the
  share pointing the wrong way against the truth; in the first --call-draws draws the calls
  are also made and printed by /v1/compare's own code (checked to be the same calls), with
  the calls whose printed interval (as the API and page print it) holds the printed national
  value or whose printed difference has an end at 0, and negative numbers printed (counts and
  rates, every level);
* extra draws of the country, country × sector, province and RMC cells only (`upper_draw`,
  --upper-draws): the same noise at those levels for less than half a release's time;
* shares in schools under 50 pupils: how much of their bias is the selection of the cells
  with an estimate (`selection_table`);
* the whole-pupil view `integer_estimate` (computed, no longer published): RMSE against the
  estimate's RMSE and RMS(sd), per level and per sector;
* the top-10 of the chronic-absence share among municipalities of ≥ 2,000 true pupils and
  among samenwerkingsverbanden: recall per draw (mean, min), the coverage of the published
  95% rank ranges (true rank inside), the spread of the true values against the noise, and
  the recall of primary suppression ("fewer than five" hidden, everything else exact).

Prints the tables as Markdown (docs/benchmarks.md) and writes bench/out/accuracy.json. The
truth never leaves this script except as these summary figures (synthetic data only).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from privacy.budget import Rho
from service.db import connect
from service.evaluation.suppression import primary_mask
from service.releases.aggregate import leaf_totals
from service.releases.catalogue import MEASURES
from service.compare import comparison as compare
from dataclasses import replace

from privacy import release as maths
from service.releases import standard
from service.releases.cells import cells_frame
from service.releases.standard import _areas, release_from_leaf

COUNT_MEASURES = ("enrolled", "chronic_count", "severe_count", "long_term_count", "signal16_count")
SECTORS = ("PO", "SBO", "SO", "VSO", "VO")
LEVEL_ORDER = ("school", "municipality", "swv", "rmc", "province", "country", "country×sector",
               "residence",
               *(f"{level}×{sector}" for level in ("municipality", "swv", "rmc", "province")
                 for sector in SECTORS))
SIZE_BINS = [0, 50, 200, 500, np.inf]
SIZE_LABELS = ["< 50", "50–199", "200–499", "≥ 500"]
TOP_K = 10
MIN_PUPILS = {"municipality": 2_000, "swv": 0}


def truth_table(leaf) -> pd.DataFrame:
    """True value of every measure for every published cell (measure, level, sector, code)."""
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    frames = []
    for level in ("school", "municipality", "province", "country", "rmc", "swv", "sector"):
        if level == "school":
            sums = {t: v.values.astype(float) for t, v in leaf.totals.items()}
            codes = leaf.school_ids
        else:
            lv = areas.levels[level]
            inside = lv.group_of_leaf >= 0
            sums = {t: np.bincount(lv.group_of_leaf[inside], weights=v.values[inside].astype(float),
                                   minlength=lv.n_groups) for t, v in leaf.totals.items()}
            codes = areas.codes[level]
        base = {"level": level, "sector": "all", "area_code": codes, "size": sums["enrolled"]}
        if level == "sector":
            base.update(level="country", sector=codes, area_code="NL")
        for name, m in MEASURES.items():
            frames.append(pd.DataFrame({**base, "measure": name, "truth": m.evaluate(sums)}))
    if leaf.residence is not None:              # by municipality of residence (leerplicht)
        sums = {t: v.values.astype(float) for t, v in leaf.residence.totals.items()}
        base = {"level": "residence", "sector": "all", "area_code": [k[0] for k in leaf.residence.keys],
                "size": sums["enrolled"]}
        for measure, m in MEASURES.items():
            if all(t in sums for t in m.numerator + m.denominator):
                frames.append(pd.DataFrame({**base, "measure": measure, "truth": m.evaluate(sums)}))
    for name, lv in areas.derived.items():      # region × sector (the small complex groups)
        inside = lv.group_of_leaf >= 0
        sums = {t: np.bincount(lv.group_of_leaf[inside], weights=v.values[inside].astype(float),
                               minlength=lv.n_groups) for t, v in leaf.totals.items()}
        base = {"level": areas.base_level(name), "sector": areas.sectors[name],
                "area_code": areas.codes[name], "size": sums["enrolled"]}
        for measure, m in MEASURES.items():
            frames.append(pd.DataFrame({**base, "measure": measure, "truth": m.evaluate(sums)}))
    return pd.concat(frames, ignore_index=True)


def one_draw(leaf, rho: Rho, truth: pd.DataFrame, rank_method: str = "differences",
             country_only: bool = False, with_cells: bool = False):
    cells = release_from_leaf(leaf, rho, ranks=not country_only, rank_method=rank_method).cells
    released = cells
    if country_only:
        cells = cells[cells["level"] == "country"]
    merged = _merge(cells, truth)
    return (merged, released) if with_cells else merged


def _merge(cells: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The cells' values beside their true values."""
    keep = ["measure", "level", "sector", "area_code", "estimate", "shown", "lower", "upper", "sd",
            "integer_estimate", "rank", "rank_lower", "rank_upper", "p_vs_country", "unit", "flags"]
    cells = cells[keep].copy()
    cells["unstable"] = cells.pop("flags").map(lambda f: "ratio_unstable" in (f or []))
    for col in keep[4:-2]:
        cells[col] = pd.to_numeric(cells[col], errors="coerce")
    return cells.merge(truth, on=["measure", "level", "sector", "area_code"], validate="one_to_one")


#: The levels an upper-level draw keeps (`upper_draw`).
UPPER_LEVELS = ("country", "sector", "province", "rmc")


def upper_draw(leaf, rho: Rho, truth: pd.DataFrame, levels=UPPER_LEVELS) -> pd.DataFrame:
    """One draw of the cells at `levels` only, with the noise a standard release draws there:
    the same budget split (`split_between`, the release by residence included), the same
    tables, every measured level noised and reconciled as in `release_from_leaf`. Left out,
    because no cell at these levels depends on them: the derived region x sector levels (sums
    of reconciled schools, post-processing), the rank ranges, the release by residence's own
    noise, and the cells of the other levels. About a third of a release's time."""
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    structure = standard._structure(areas)
    structure = replace(structure, derived={}, reference={
        k: v for k, v in structure.reference.items() if k in structure.levels})
    measured = standard.BASE_LEVELS + standard.SECTOR_MEASURED
    parts = [(standard.TABLES, measured)] + ([(standard.RESIDENCE_TABLES, ("school",))]
                                              if leaf.residence else [])
    noisy = maths.noisy_tables({name: v.values for name, v in leaf.totals.items()}, structure,
                               standard.TABLES, maths.split_between(parts, rho)[0],
                               levels=measured, measures=list(MEASURES.values()),
                               sums=standard.BAND_SUMS, ranks=False)
    noisy = replace(noisy, cells={k: v for k, v in noisy.cells.items() if k[1] in levels})
    cells = cells_frame(list(MEASURES.values()), noisy, areas)
    is_sector = cells["level"] == "sector"
    cells.loc[is_sector, "sector"] = cells.loc[is_sector, "area_code"]
    cells.loc[is_sector, ["level", "area_code", "area_name"]] = ["country", "NL", "Nederland"]
    return _merge(cells, truth)


def _level(frame: pd.DataFrame) -> pd.Series:
    """The level as the tables name it: 'country×sector', or e.g. 'swv×SO' for a region × sector."""
    by_sector = (frame["level"] + "×" + frame["sector"]).where(frame["level"] != "country",
                                                               "country×sector")
    return frame["level"].where(frame["sector"] == "all", by_sector)


def count_table(m: pd.DataFrame) -> pd.DataFrame:
    c = m[m["measure"].isin(COUNT_MEASURES)].copy()
    c["lvl"] = _level(c)
    c["err"] = c["estimate"] - c["truth"]
    c["int_err"] = c["integer_estimate"] - c["truth"]
    c["covered"] = (c["lower"] <= c["truth"]) & (c["truth"] <= c["upper"])
    rows = []
    for (measure, lvl), g in c.groupby(["measure", "lvl"], sort=False):
        rows.append(_count_row(g, measure=measure, level=lvl))
    for (measure, size), g in c[c["lvl"] == "school"].assign(
            bin=pd.cut(c["size"], SIZE_BINS, right=False, labels=SIZE_LABELS)).groupby(
            ["measure", "bin"], observed=True, sort=False):
        rows.append(_count_row(g, measure=measure, level=f"school {size}"))
    return pd.DataFrame(rows)


def _count_row(g: pd.DataFrame, **key) -> dict:
    rms_sd = float(np.sqrt((g["sd"] ** 2).mean()))
    rmse = float(np.sqrt((g["err"] ** 2).mean()))
    bias = float(g["err"].mean())
    return {**key, "cells": int(len(g)), "rmse": rmse, "rms_sd": rms_sd,
            "rmse_over_sd": rmse / rms_sd, "bias": bias, "abs_bias_over_sd": abs(bias) / rms_sd,
            "coverage": float(g["covered"].mean()),
            "integer_rmse": float(np.sqrt((g["int_err"] ** 2).mean()))}


def ratio_table(m: pd.DataFrame) -> pd.DataFrame:
    """Every rate and share per level, and at the school level per true school size."""
    r = m[(m["unit"] != "pupils") & np.isfinite(m["truth"])].copy()
    r["lvl"] = _level(r)
    r["covered"] = (r["lower"] <= r["truth"] + 1e-9) & (r["truth"] <= r["upper"] + 1e-9)
    rows = []
    for (measure, lvl), g in r.groupby(["measure", "lvl"], sort=False):
        rows.append(_ratio_row(g, measure=measure, level=lvl))
    school = r[r["lvl"] == "school"]
    for (measure, size), g in school.assign(
            bin=pd.cut(school["size"], SIZE_BINS, right=False, labels=SIZE_LABELS)).groupby(
            ["measure", "bin"], observed=True, sort=False):
        rows.append(_ratio_row(g, measure=measure, level=f"school {size}"))
    return pd.DataFrame(rows)


def _ratio_row(g: pd.DataFrame, **key) -> dict:
    has = g["estimate"].notna()
    e = g[has]
    nan = float("nan")
    if not len(e):
        return {**key, "cells": int(len(g)), "no_estimate": 1.0, "coverage": float(g["covered"].mean())}
    rms_sd = float(np.sqrt((e["sd"] ** 2).mean()))
    err = e["estimate"] - e["truth"]
    rmse = float(np.sqrt((err ** 2).mean()))
    stable = e[~e["unstable"]]
    s_err = stable["estimate"] - stable["truth"]
    s_sd = float(np.sqrt((stable["sd"] ** 2).mean())) if len(stable) else nan
    return {**key, "cells": int(len(g)), "no_estimate": float(1 - has.mean()),
            "unstable": float(e["unstable"].mean()),
            "bias_over_sd": float(err.mean()) / rms_sd, "rmse_over_sd": rmse / rms_sd,
            # a rate's sd falls with its area's size, so RMS(sd) is carried by the smallest
            # areas: the effective number of values behind RMSE / RMS(sd) is n_eff; the RMS
            # of each cell's error over its own sd weighs every cell alike
            "rms_z": float(np.sqrt(((err / e["sd"]) ** 2).mean())),
            "n_eff": float((e["sd"] ** 2).sum() ** 2 / (e["sd"] ** 4).sum()),
            "coverage": float(g["covered"].mean()),
            "coverage_with_estimate": float(e["covered"].mean()),
            "stable_bias_over_sd": float(s_err.mean()) / s_sd if len(stable) else nan,
            "stable_rmse_over_sd": float(np.sqrt((s_err ** 2).mean())) / s_sd if len(stable) else nan,
            "shown_bias_over_sd": float((e["shown"] - e["truth"]).mean()) / rms_sd,
            "rmse": rmse, "rms_sd": rms_sd}


def selection_table(m: pd.DataFrame, below: float = 50) -> pd.DataFrame:
    """Shares in schools under `below` true pupils: where the bias of the published estimate
    comes from. A share has an estimate only where its noisy denominator (enrolled) is beyond
    1.96 sd of 0, so the cells with an estimate are a selection of draws. Per share: the bias
    where defined; in the same cells, the mean error of the share's own numerator and
    denominator counts (the count cells of the same school in the same draw, unbiased over
    all draws); and the bias split between schools with an estimate in every draw (no
    selection across draws) and schools with an estimate in some draws only."""
    school = m[(m["level"] == "school") & (m["size"] < below)]
    counts = school[school["measure"].isin(("enrolled", "chronic_count", "severe_count"))].copy()
    counts["z"] = (counts["estimate"] - counts["truth"]) / counts["sd"]
    z = counts.pivot_table(index=["draw", "area_code"], columns="measure", values="z")
    rows = []
    for share, numerator in (("chronic_share", "chronic_count"), ("severe_share", "severe_count")):
        g = school[(school["measure"] == share) & np.isfinite(school["truth"])].copy()
        g = g.join(z[["enrolled", numerator]], on=["draw", "area_code"])
        has = g["estimate"].notna()
        always = has.groupby(g["area_code"]).transform("all")
        e = g[has]
        rms_sd = float(np.sqrt((e["sd"] ** 2).mean()))

        def bias(x: pd.DataFrame) -> float:
            return float((x["estimate"] - x["truth"]).mean()) / float(np.sqrt((x["sd"] ** 2).mean()))

        rows.append({
            "share": share, "cells": int(len(g)), "with estimate": float(has.mean()),
            "bias / sd where defined": float((e["estimate"] - e["truth"]).mean()) / rms_sd,
            "denominator error / sd, defined": float(e["enrolled"].mean()),
            "denominator error / sd, no estimate": float(g.loc[~has, "enrolled"].mean()),
            "numerator error / sd, defined": float(e[numerator].mean()),
            "schools with an estimate in every draw": float(always[has].groupby(
                g.loc[has, "area_code"]).first().mean()),
            "bias / sd, those schools": bias(e[always[has]]),
            "bias / sd, schools sometimes without": bias(e[~always[has]]),
            "bias / sd, stable cells": bias(e[~e["unstable"]]),
        })
    return pd.DataFrame(rows)


CALL_LEVELS = ("province", "rmc", "swv", "municipality", "school")
_NUMBER = r"([+\-\u2212]?[0-9.,]+)"


def _printed(text: str) -> tuple[float, float]:
    """The two ends of an English interval text ("… between 1.2% and 3.4% …")."""
    import re

    found = re.search(rf"between {_NUMBER}%? and {_NUMBER}", text)
    return tuple(float(x.replace("\u2212", "-").replace(",", "")) for x in found.groups())


def call_table(cells: pd.DataFrame, truth: pd.DataFrame) -> list[dict]:
    """One draw's calls against the Netherlands, made and printed by /v1/compare's code:
    per measure and level, the calls, the wrong-direction ones against the truth, and the
    printed contradictions; and negative numbers printed for every measure."""
    released = compare.from_cells(cells)
    t = truth[truth["sector"] == "all"].set_index(["measure", "level", "area_code"])["truth"]
    rows = []
    for name, measure in MEASURES.items():
        national_truth = t.get((name, "country", "NL"), np.nan)
        for level in CALL_LEVELS:
            if measure.unit == "pupils":
                rows.append(_count_texts(cells, name, level))
                continue
            answer = compare.compare(released, name, level=level)
            calls = wrong = printed = negative = 0
            for area in answer["areas"]:
                if "-" in area.get("shown_text", {}).get("en", "") or (
                        area["estimate"] is not None and min(_printed(area["text"]["en"])) < 0):
                    negative += 1
                vs = area["vs_national"]
                if measure.unit == "pupils" or not vs or not vs["distinguishable"]:
                    continue
                calls += 1
                truth_side = np.sign(t[(name, level, area["code"])] - national_truth)
                wrong += int(truth_side != (1 if vs["lower"] > 0 else -1))
                lo, hi = _printed(area["text"]["en"])
                nat = float(vs["national_text"]["en"].rstrip("%").replace(",", ""))
                d_lo, d_hi = _printed(vs["text"]["en"])
                above = vs["lower"] > 0
                if not ((above and lo > nat) or (not above and hi < nat)) or d_lo <= 0 <= d_hi:
                    printed += 1
            rows.append({"measure": name, "level": level, "areas": len(answer["areas"]),
                         "calls": calls, "wrong": wrong, "printed_contradictions": printed,
                         "negative_shown": negative})
    return rows


def fast_calls(cells: pd.DataFrame, truth: pd.DataFrame) -> list[dict]:
    """One draw's calls against the Netherlands by `/v1/compare`'s rule
    (`comparison._national_calls`), without its texts: per level and measure, Benjamini–Hochberg
    at `comparison.FDR` over the published `p_vs_country` of the areas with an estimate and an
    sd, a call where BH rejects and the published interval excludes the published national
    value, its side that of the interval. The draws whose calls are also made and printed by
    `compare.compare` check that both give the same calls (`call_table`)."""
    from privacy.statistics import benjamini_hochberg

    t = truth[truth["sector"] == "all"].set_index(["measure", "level", "area_code"])["truth"]
    c = cells[cells["sector"] == "all"]
    rows = []
    for name, measure in MEASURES.items():
        if measure.unit == "pupils":
            continue
        m = c[c["measure"] == name]
        nat = float(m.loc[m["level"] == "country", "estimate"].iloc[0])
        national_truth = t.get((name, "country", "NL"), np.nan)
        for level in CALL_LEVELS:
            g = m[(m["level"] == level) & m["estimate"].notna() & m["sd"].notna()]
            est, sd = g["estimate"].astype(float), g["sd"].astype(float)
            lower, upper = g["lower"].astype(float).to_numpy(), g["upper"].astype(float).to_numpy()
            p = pd.to_numeric(g["p_vs_country"], errors="coerce").to_numpy(dtype=float)
            normal = 2 * norm.sf(np.abs(est - nat) / sd)
            p = np.where(np.isfinite(p), p, normal)
            called, _ = benjamini_hochberg(p, compare.FDR)
            side = np.where(lower > nat, 1, np.where(upper < nat, -1, 0))
            called = np.asarray(called, bool) & (side != 0)
            truth_side = np.sign(t.reindex([(name, level, a) for a in g["area_code"]]).to_numpy()
                                 - national_truth)
            rows.append({"measure": name, "level": level, "calls": int(called.sum()),
                         "wrong": int((called & (truth_side != side)).sum())})
    return rows


def _count_texts(cells: pd.DataFrame, name: str, level: str) -> dict:
    """Counts are not compared with the country: print each cell's value and interval the way
    /v1/compare does (`value_text`, `interval_text`) and count the negative ones."""
    g = cells[(cells["measure"] == name) & (cells["level"] == level) & (cells["sector"] == "all")]
    negative = 0
    for est, lower, upper in zip(g["estimate"], g["lower"], g["upper"]):
        shown = compare.value_text(None if est is None else float(est), "pupils")["en"]
        lo, hi = _printed(compare.interval_text(float(lower), float(upper), "pupils")["en"])
        negative += int("-" in shown or min(lo, hi) < 0)
    return {"measure": name, "level": level, "areas": len(g), "calls": 0, "wrong": 0,
            "printed_contradictions": 0, "negative_shown": negative}


def fast_summary(fast: pd.DataFrame) -> pd.DataFrame:
    """`fast_calls` pooled over every draw, per level and measure."""
    rows = []
    for (measure, level), g in fast.groupby(["measure", "level"], sort=False):
        n, wrong = int(g["calls"].sum()), int(g["wrong"].sum())
        rows.append({"measure": measure, "level": level, "draws": int(len(g)),
                     "calls per draw": n / len(g), "calls (all draws)": n, "wrong": wrong,
                     "wrong-direction share": wrong / n if n else float("nan"),
                     "draws with a call": int((g["calls"] > 0).sum())})
    return pd.DataFrame(rows)


def calls_summary(calls: pd.DataFrame) -> pd.DataFrame:
    """Calls pooled over draws per measure and level: the wrong-direction share is the
    wrong calls over all calls (and the mean of each draw's share where it had calls)."""
    rows = []
    for (measure, level), g in calls.groupby(["measure", "level"], sort=False):
        if MEASURES[measure].unit == "pupils":
            continue
        has = g[g["calls"] > 0]
        rows.append({"measure": measure, "level": level, "areas": int(g["areas"].iloc[0]),
                     "calls per draw": float(g["calls"].mean()),
                     "calls (all draws)": int(g["calls"].sum()), "wrong": int(g["wrong"].sum()),
                     "wrong-direction share": (float(g["wrong"].sum() / g["calls"].sum())
                                               if g["calls"].sum() else float("nan")),
                     "mean per-draw share": (float((has["wrong"] / has["calls"]).mean())
                                             if len(has) else float("nan")),
                     "printed contradictions": int(g["printed_contradictions"].sum())})
    return pd.DataFrame(rows)


def integer_table(m: pd.DataFrame) -> pd.DataFrame:
    """The whole-pupil view against the estimate, per level and per sector (country × sector
    cells one sector at a time), every count measure pooled."""
    c = m[m["measure"].isin(COUNT_MEASURES)].copy()
    c["lvl"] = _level(c).where((c["sector"] == "all") | (c["level"] != "country"),
                               "country × " + c["sector"])
    rows = []
    for lvl, g in c.groupby("lvl", sort=False):
        err, ierr = g["estimate"] - g["truth"], g["integer_estimate"] - g["truth"]
        rmse, irmse = float(np.sqrt((err ** 2).mean())), float(np.sqrt((ierr ** 2).mean()))
        rms_sd = float(np.sqrt((g["sd"] ** 2).mean()))
        worst = max(float(np.sqrt(((gg["integer_estimate"] - gg["truth"]) ** 2).mean()))
                    / float(np.sqrt(((gg["estimate"] - gg["truth"]) ** 2).mean()))
                    for _, gg in g.groupby("measure"))
        rows.append({"level": lvl, "cells": int(len(g)), "integer RMSE / sd": irmse / rms_sd,
                     "integer RMSE / estimate RMSE": irmse / rmse,
                     "worst measure: integer / estimate RMSE": worst,
                     "integer bias / sd": float(ierr.mean()) / rms_sd})
    return pd.DataFrame(rows)


def shown_count_table(m: pd.DataFrame) -> pd.DataFrame:
    """The effect of showing counts cut at 0 (max(0, estimate)): bias of the shown value."""
    c = m[m["measure"].isin(COUNT_MEASURES)].copy()
    c["lvl"] = _level(c)
    rows = []
    for lvl, g in c.groupby("lvl", sort=False):
        rms_sd = float(np.sqrt((g["sd"] ** 2).mean()))
        rows.append({"level": lvl, "estimate < 0": float((g["estimate"] < 0).mean()),
                     "estimate bias / sd": float((g["estimate"] - g["truth"]).mean()) / rms_sd,
                     "shown bias / sd": float((g["shown"] - g["truth"]).mean()) / rms_sd})
    return pd.DataFrame(rows)


def topk_table(draws: list[pd.DataFrame], truth: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for level, min_pupils in MIN_PUPILS.items():
        t = truth[(truth["measure"] == "chronic_share") & (truth["level"] == level)
                  & (truth["sector"] == "all")].set_index("area_code")
        enrolled = t["size"]
        eligible = t.index[(enrolled >= max(min_pupils, 1)) & np.isfinite(t["truth"])]
        true_share = t.loc[eligible, "truth"]
        if len(eligible) <= TOP_K:
            print(f"top-{TOP_K} at {level}: only {len(eligible)} eligible areas, skipped")
            continue
        best = set(true_share.nlargest(TOP_K).index)
        ordered = true_share.sort_values(ascending=False)
        recalls, covered, covered_top, sds, widths, top_widths = [], [], [], [], [], []
        for d in draws:
            g = d[(d["measure"] == "chronic_share") & (d["level"] == level)
                  & (d["sector"] == "all")].set_index("area_code")
            est = g.loc[eligible, "estimate"].dropna()
            recalls.append(len(best & set(est.nlargest(TOP_K).index)) / TOP_K)
            ranked = g[g["rank"].notna()]
            true_rank = t.loc[ranked.index, "truth"].rank(ascending=False, method="first")
            inside = (ranked["rank_lower"] <= true_rank) & (true_rank <= ranked["rank_upper"])
            covered.append(float(inside.mean()))
            width = ranked["rank_upper"] - ranked["rank_lower"] + 1
            widths.append(float(width.median()))
            top_widths.append(float(width.loc[list(best & set(width.index))].median()))
            covered_top.append(float(inside.loc[list(best & set(inside.index))].mean()))
            sds.append(float(g.loc[eligible, "sd"].median()))
        # suppression: "fewer than five" hidden (primary), everything else exact
        chronic = (true_share * enrolled.loc[eligible]).round()
        visible = ~primary_mask(chronic.to_numpy()) & ~primary_mask(enrolled.loc[eligible].to_numpy())
        sup = set(true_share[visible].nlargest(TOP_K).index)
        gap_10_11 = float(ordered.iloc[TOP_K - 1] - ordered.iloc[TOP_K]) if len(ordered) > TOP_K else float("nan")
        rows.append({
            "level": level, "eligible_areas": int(len(eligible)), "min_pupils": min_pupils,
            "dp_recall_mean": float(np.mean(recalls)), "dp_recall_min": float(np.min(recalls)),
            "dp_recall_max": float(np.max(recalls)),
            "rank_range_coverage_all_areas": float(np.mean(covered)),
            "rank_range_coverage_true_top10": float(np.mean(covered_top)),
            "rank_range_median_width": float(np.mean(widths)),
            "rank_range_median_width_true_top10": float(np.mean(top_widths)),
            "ranked_areas": int(len(ranked)),
            "suppression_recall": len(best & sup) / TOP_K,
            "true_10th": float(ordered.iloc[TOP_K - 1]), "true_gap_10th_11th": gap_10_11,
            "true_spread_top20": float(ordered.iloc[0] - ordered.iloc[min(19, len(ordered) - 1)]),
            "median_sd_eligible": float(np.median(sds)),
            "eligible_within_2sd_of_10th": int(((ordered - ordered.iloc[TOP_K - 1]).abs()
                                                <= 2 * float(np.median(sds))).sum()),
        })
    return pd.DataFrame(rows)


def target_table(counts: pd.DataFrame, ratios: pd.DataFrame) -> pd.DataFrame:
    """The issue's targets per level and school size: the worst count measure and the range
    over the rates and shares."""
    rows = []
    for level in LEVEL_ORDER + tuple(f"school {b}" for b in SIZE_LABELS):
        c = counts[counts["level"] == level]
        r = ratios[ratios["level"] == level]
        if c.empty:
            continue
        enrolled = c[c["measure"] == "enrolled"].iloc[0]
        rows.append({
            "level": level, "cells (all draws)": int(enrolled["cells"]),
            "counts: max RMSE / RMS sd": c["rmse_over_sd"].max(),
            "counts: max |bias| / RMS sd": c["abs_bias_over_sd"].max(),
            "counts: coverage": f"{c['coverage'].min():.3f}–{c['coverage'].max():.3f}",
            "rates: max |bias| / sd": r["bias_over_sd"].abs().max() if not r.empty else float("nan"),
            "rates: RMSE / sd": (f"{r['rmse_over_sd'].min():.2f}–{r['rmse_over_sd'].max():.2f}"
                                 if not r.empty else "–"),
            "rates: coverage": (f"{r['coverage'].min():.3f}–{r['coverage'].max():.3f}"
                                if not r.empty else "–"),
            "rates: RMS(error / sd)": (f"{r['rms_z'].min():.2f}–{r['rms_z'].max():.2f}"
                                       if not r.empty else "–"),
            "rates: n_eff of RMSE / sd (min)": float(r["n_eff"].min()) if not r.empty else float("nan"),
        })
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, floats: int = 3) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float):
                cells.append("–" if not np.isfinite(v) else f"{v:.{floats}f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--rho", default="0.6")
    parser.add_argument("--out", type=Path, default=Path("bench/out/accuracy.json"))
    parser.add_argument("--upper-draws", type=int, default=0,
                        help="further draws of the country, country x sector, province and RMC "
                             "cells only (`upper_draw`: the same noise there, about a third of "
                             "a release's time), for the levels with few cells per draw")
    parser.add_argument("--rank-method", default="differences", choices=["differences", "quantiles"])
    parser.add_argument("--call-draws", type=int, default=1_000,
                        help="draws whose calls against the Netherlands are also made and "
                             "printed by /v1/compare's code (1-4 min per draw at 1 M pupils), "
                             "checked equal to the calls every draw makes by its rule")
    args = parser.parse_args()
    con = connect(args.db)
    t0 = time.perf_counter()
    leaf = leaf_totals(con, args.year)
    con.close()
    truth = truth_table(leaf)
    pupils = int(leaf.totals["enrolled"].values.sum())
    schools_with_pupils = int((leaf.totals["enrolled"].values > 0).sum())
    draws, seconds, calls, fast = [], [], [], []
    for i in range(args.draws):
        start = time.perf_counter()
        merged, cells = one_draw(leaf, Rho.of(args.rho), truth, args.rank_method, with_cells=True)
        draws.append(merged.assign(draw=i))
        seconds.append(time.perf_counter() - start)
        fast += [{"draw": i, **row} for row in fast_calls(cells, truth)]
        if i < args.call_draws:
            printed = call_table(cells, truth)
            calls += [{"draw": i, **row} for row in printed]
            made = {(r["measure"], r["level"]): (r["calls"], r["wrong"]) for r in printed}
            differ = [r for r in fast if r["draw"] == i
                      and made[(r["measure"], r["level"])] != (r["calls"], r["wrong"])]
            if differ:
                raise SystemExit(f"fast calls differ from /v1/compare's in draw {i}: {differ}")
        print(f"draw {i + 1}/{args.draws}: {seconds[-1]:.1f} s (with calls "
              f"{time.perf_counter() - start:.1f} s)", flush=True)
    extra, upper_seconds = [], []
    for i in range(args.upper_draws):
        start = time.perf_counter()
        extra.append(upper_draw(leaf, Rho.of(args.rho), truth))
        upper_seconds.append(time.perf_counter() - start)
        if i % 20 == 19:
            print(f"upper draw {i + 1}/{args.upper_draws}: median {np.median(upper_seconds):.1f} s",
                  flush=True)
    m = pd.concat(draws + extra, ignore_index=True)
    counts, ratios, topk = count_table(m), ratio_table(m), topk_table(draws, truth)
    calls = pd.DataFrame(calls, columns=["draw", "measure", "level", "areas", "calls", "wrong",
                                         "printed_contradictions", "negative_shown"])
    verdicts = calls_summary(calls)
    fast = pd.DataFrame(fast)
    all_calls = fast_summary(fast)
    integers, shown = integer_table(pd.concat(draws, ignore_index=True)), shown_count_table(m)
    selection = selection_table(pd.concat(draws, ignore_index=True))
    order = LEVEL_ORDER + tuple(f"school {b}" for b in SIZE_LABELS)
    counts, ratios = (t.assign(order=t["level"].map(order.index)).sort_values(
        ["order", "measure"], kind="stable").drop(columns="order") for t in (counts, ratios))
    negatives = calls.groupby("level", sort=False)["negative_shown"].sum().to_dict()
    out = {"db": str(args.db), "rho": args.rho, "draws": args.draws,
           "upper_draws": args.draws + args.upper_draws,
           "seconds_per_upper_draw_median": float(np.median(upper_seconds)) if upper_seconds else None, "rank_method": args.rank_method,
           "call_draws": min(args.call_draws, args.draws), "pupils": pupils,
           "schools_with_pupils": schools_with_pupils, "schools": len(leaf.school_ids),
           "seconds_per_draw_median": float(np.median(seconds)),
           "seconds_total": time.perf_counter() - t0,
           "counts": counts.to_dict(orient="records"), "ratios": ratios.to_dict(orient="records"),
           "topk": topk.to_dict(orient="records"), "verdicts": verdicts.to_dict(orient="records"),
           "calls_all_draws": all_calls.to_dict(orient="records"),
           "integers": integers.to_dict(orient="records"), "shown_counts": shown.to_dict(orient="records"),
           "negative_shown": negatives, "small_school_selection": selection.to_dict(orient="records")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, default=float))
    print(f"\n{pupils:,} pupils in {schools_with_pupils:,} of {len(leaf.school_ids):,} schools; "
          f"{args.draws} draws at rho {args.rho} ({args.draws + args.upper_draws} for the "
          f"country, province and RMC cells; calls in {min(args.call_draws, args.draws)}); median "
          f"{np.median(seconds):.1f} s per draw"
          + (f", {np.median(upper_seconds):.1f} s per upper-level draw" if upper_seconds else "")
          + f"; rank ranges: {args.rank_method}\n")
    for title, frame in (("targets", target_table(counts, ratios)), ("counts", counts),
                         ("rates and shares", ratios), ("calls against the Netherlands, printed (call draws)", verdicts),
                         ("calls against the Netherlands, every draw", all_calls),
                         ("shares in schools under 50 pupils: selection", selection),
                         ("whole-pupil view", integers), ("counts shown cut at 0", shown),
                         ("top-10", topk)):
        print(f"### {title}\n")
        print(markdown(frame))
        print()
    print(f"negative numbers printed (all measures, per level): {negatives}")


if __name__ == "__main__":
    main()
