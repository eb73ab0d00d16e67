"""The comparison on a synthetic Netherlands: suppression as practised against DP releases.

:func:`evaluate` reads the true per-school totals (``service.aggregate.leaf_totals``), applies
"fewer than five" with complementary suppression (Castro's flow heuristic, see
``suppression.py``) to every count over the whole register hierarchy, draws DP standard
releases (``compute_standard_release``: OpenDP noise, no ledger charge) at several ρ, and
measures both against the truth. Only figures leave: shares, errors, coverage, recall, attack
counts. It needs the truth, so it is for synthetic databases only (the CLI refuses a database
in production mode); the small-area example shows true school counts of synthetic schools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from privacy.budget import Rho
from service.releases import aggregate
from service.evaluation.differencing import attack
from service.evaluation.membership import dp_membership, suppressed_membership
from service.evaluation.suppression import (complementary_suppression, hierarchy_table,
                                            naive_secondary, primary_mask)
from service.releases.standard import release_from_leaf

#: our total name → the release's measure name
COUNTS = {"enrolled": "enrolled", "chronic": "chronic_count", "severe": "severe_count",
          "long_term": "long_term_count"}
LEVELS = ("school", "municipality", "swv", "rmc", "province", "country")
RHOS = ("0.15", "0.6", "2.4")
DEFAULT_RHO = "0.6"
SMALL_SECTORS = ("SBO", "SO", "VSO")
SMALL_SCHOOL = 60
SIZE_BINS = [0, 1, 5, 20, 100, 500, np.inf]
SIZE_LABELS = ["0", "1-4", "5-19", "20-99", "100-499", "500+"]
TOP_K = 10
#: Areas ranked in the top-k comparison: municipalities of at least 2,000 pupils (issue 12),
#: every samenwerkingsverband with pupils.
RANK_MIN_PUPILS = {"municipality": 2_000, "swv": 1}
#: Independent DP releases per budget (errors and recall are averaged over them).
DRAWS = 20


@dataclass
class Evaluation:
    """Every figure of the report, as tables (no true cell values except the example)."""

    school_year: str
    hidden: pd.DataFrame
    errors: pd.DataFrame
    bias: pd.DataFrame
    topk: pd.DataFrame
    attacks: pd.DataFrame
    membership: pd.DataFrame
    example: pd.DataFrame
    example_area: str
    headline: dict = field(default_factory=dict)


def _levels(leaf: aggregate.LeafTotals) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Group of every school per level; the PO and VO partnerships joined as 'swv'."""
    lv = leaf.levels
    out = {k: (lv[k].group_of_school, list(lv[k].codes))
           for k in ("municipality", "province", "country", "rmc")}
    po, vo = lv["swv_po"], lv["swv_vo"]
    out["swv"] = (np.where(po.group_of_school >= 0, po.group_of_school,
                           np.where(vo.group_of_school >= 0, vo.group_of_school + len(po.codes), -1)),
                  list(po.codes) + list(vo.codes))
    return out


def _truth(leaf, levels) -> pd.DataFrame:
    """True counts per level and area (private: used only to compute figures)."""
    frames = []
    for level in LEVELS:
        codes = leaf.school_ids if level == "school" else levels[level][1]
        data = {"level": level, "area_code": codes}
        for total in COUNTS:
            values = leaf.totals[total].values
            if level != "school":
                group = levels[level][0]
                inside = group >= 0
                values = np.bincount(group[inside], weights=values[inside],
                                     minlength=len(codes)).round().astype(np.int64)
            data[total] = values
        frames.append(pd.DataFrame(data))
    return pd.concat(frames, ignore_index=True)


def _suppress(leaf, levels, counts) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complementary suppression of every count over the whole hierarchy; plus the
    differencing attack on primary-only and naive suppression of the same tables."""
    masks, attacks = [], []
    for total in counts:
        table = hierarchy_table(leaf.totals[total].values, levels, leaf.school_ids)
        primary = primary_mask(table.values)
        full = complementary_suppression(table).hidden
        for scheme, hidden in (("primary only", primary),
                               ("naive secondary", naive_secondary(table, primary)),
                               ("complementary", full)):
            a = attack(table, hidden, scheme, exact_lp=False)
            attacks.append({"measure": total, "scheme": scheme, "hidden_cells": a.hidden_cells,
                            "hidden_pupils": a.hidden_pupils, "recovered_cells": a.recovered_cells,
                            "recovered_pupils": a.recovered_pupils,
                            "primary_cells": int(primary.sum())})
        level = [lab.split("|", 1)[0] for lab in table.labels]
        code = [lab.split("|", 1)[1] for lab in table.labels]
        masks.append(pd.DataFrame({"level": level, "area_code": code, "measure": total,
                                   "primary": primary, "hidden": full}))
    return pd.concat(masks, ignore_index=True), pd.DataFrame(attacks)


def _groups(leaf, truth: pd.DataFrame) -> dict[str, np.ndarray]:
    """Small groups of school cells: special education, small schools."""
    sector = np.asarray(pd.Series(leaf.levels["sector"].codes).to_numpy()[leaf.levels["sector"].group_of_school])
    enrolled = leaf.totals["enrolled"].values
    return {"all schools": np.ones(len(enrolled), bool),
            "SBO/SO/VSO schools": np.isin(sector, SMALL_SECTORS),
            f"schools < {SMALL_SCHOOL} pupils": (enrolled > 0) & (enrolled < SMALL_SCHOOL)}


def _hidden_table(long: pd.DataFrame, groups: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = []
    for (total, level), g in long.groupby(["measure", "level"], sort=False):
        parts = {level: np.ones(len(g), bool)}
        if level == "school":
            parts = groups
        for name, keep in parts.items():
            sub = g[keep]
            pupils = sub["truth"].sum()
            rows.append({"measure": total, "level": level, "group": name, "cells": len(sub),
                         "hidden_cells": int(sub["hidden"].sum()),
                         "share_cells_hidden": float(sub["hidden"].mean()) if len(sub) else 0.0,
                         "pupils": int(pupils),
                         "share_pupils_hidden": float(sub.loc[sub["hidden"], "truth"].sum() / pupils)
                         if pupils else 0.0,
                         "share_hidden_dp": 0.0})
    return pd.DataFrame(rows)


def _dp_cells(leaf, rho: str, draw: int) -> pd.DataFrame:
    """One independent DP standard release from the true per-school totals (fresh noise)."""
    cells = release_from_leaf(leaf, Rho.of(rho), ranks=False).cells
    cells = cells[(cells["sector"] == "all") & cells["measure"].isin(list(COUNTS.values())
                                                                       + ["chronic_share"])]
    return cells[["measure", "level", "area_code", "estimate", "lower", "upper"]].assign(
        rho=rho, draw=draw)


def _errors(long: pd.DataFrame) -> pd.DataFrame:
    """Per ρ, measure, level and group-size bin: DP error and coverage; suppression's share
    hidden and its error for a reader who counts a hidden cell as 0."""
    d = long.copy()
    d["abs_error"] = (d["estimate"] - d["truth"]).abs()
    d["rel_error"] = d["abs_error"] / d["truth"].where(d["truth"] > 0)
    d["covered"] = (d["lower"] <= d["truth"]) & (d["truth"] <= d["upper"])
    d["suppression_abs_error"] = np.where(d["hidden"], d["truth"], 0)
    d["size"] = pd.cut(d["group_size"], SIZE_BINS, right=False, labels=SIZE_LABELS)
    out = (d.groupby(["rho", "measure", "level", "size"], observed=True)
           .agg(cells=("truth", "size"), dp_mean_abs_error=("abs_error", "mean"),
                dp_median_abs_error=("abs_error", "median"),
                dp_mean_rel_error=("rel_error", "mean"), coverage_95=("covered", "mean"),
                suppression_share_hidden=("hidden", "mean"),
                suppression_mean_abs_error=("suppression_abs_error", "mean"))
           .reset_index())
    return out


def _bias(long: pd.DataFrame, levels, leaf) -> pd.DataFrame:
    """Totals per area summed from the published school cells, against the true totals."""
    rows = []
    schools = long[long["level"] == "school"]
    for (rho, total, draw), g in schools.groupby(["rho", "measure", "draw"], sort=False):
        g = g.set_index("area_code").reindex(leaf.school_ids)
        truth = g["truth"].to_numpy()
        visible = np.where(g["hidden"], 0, truth)
        noisy = g["estimate"].to_numpy(dtype=float)
        for level in ("municipality", "province", "country"):
            group, codes = levels[level]
            inside = group >= 0

            def summed(v):
                return np.bincount(group[inside], weights=v[inside], minlength=len(codes))
            t, s, n = summed(truth), summed(visible), summed(noisy)
            ok = t > 0
            rows.append({"rho": rho, "measure": total, "draw": draw, "level": level,
                         "areas": int(ok.sum()),
                         "suppression_relative_bias": float(((s - t)[ok] / t[ok]).mean()),
                         "dp_relative_bias": float(((n - t)[ok] / t[ok]).mean()),
                         "suppression_missing_pupils": int((t - s).sum()),
                         "dp_total_error": float((n - t).sum())})
    per_draw = pd.DataFrame(rows)
    keys = ["rho", "measure", "level"]
    return per_draw.groupby(keys, sort=False).agg(
        areas=("areas", "first"), suppression_relative_bias=("suppression_relative_bias", "first"),
        dp_relative_bias=("dp_relative_bias", "mean"),
        suppression_missing_pupils=("suppression_missing_pupils", "first"),
        dp_total_error=("dp_total_error", "mean"), draws=("draw", "nunique")).reset_index()


def _topk(long: pd.DataFrame, truth: pd.DataFrame, dp: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for level in ("municipality", "swv"):
        t = truth[truth["level"] == level].set_index("area_code")
        eligible = t["enrolled"] >= RANK_MIN_PUPILS[level]
        true_share = (t["chronic"] / t["enrolled"])[eligible]
        best = set(true_share.nlargest(TOP_K).index)
        sup = long[(long["level"] == level) & (long["rho"] == DEFAULT_RHO)].pivot_table(
            index="area_code", columns="measure", values="hidden", aggfunc="first")
        if {"chronic", "enrolled"} <= set(sup.columns):
            visible = eligible & ~sup.reindex(t.index)["chronic"].astype(bool) & \
                ~sup.reindex(t.index)["enrolled"].astype(bool)
            sup_rank = set((t["chronic"] / t["enrolled"])[visible].nlargest(TOP_K).index)
            rows.append({"level": level, "method": "suppression (where visible)", "rho": None,
                         "recall": len(best & sup_rank) / TOP_K})
        for rho, g in dp[dp["level"] == level].groupby("rho"):
            recalls = []
            for _, one in g.groupby("draw"):
                est = one.pivot_table(index="area_code", columns="measure", values="estimate",
                                      aggfunc="first").astype(float)
                # the same areas as the truth's ranking (eligibility is the pupil count)
                share = est["chronic_share"].reindex(t.index)[eligible].dropna()
                recalls.append(len(best & set(share.nlargest(TOP_K).index)) / TOP_K)
            rows.append({"level": level, "method": "dp", "rho": rho,
                         "recall": float(np.mean(recalls)), "recall_min": float(np.min(recalls)),
                         "recall_max": float(np.max(recalls)), "draws": len(recalls)})
    return pd.DataFrame(rows)


def _example(long: pd.DataFrame, levels, leaf, measure: str) -> tuple[pd.DataFrame, str]:
    """The samenwerkingsverband with most primary-suppressed school cells of ``measure``."""
    group, codes = levels["swv"]
    schools = long[(long["level"] == "school") & (long["measure"] == measure)
                   & (long["rho"] == DEFAULT_RHO) & (long["draw"] == 0)].reset_index(drop=True)
    swv_of = {s: (codes[g] if g >= 0 else None) for s, g in zip(leaf.school_ids, group)}
    active_ids = {s for s, e in zip(leaf.school_ids, leaf.totals["enrolled"].values) if e > 0}
    schools["swv"] = schools["area_code"].map(swv_of)
    active = schools[schools["area_code"].isin(active_ids)]
    area = active.groupby("swv")["primary"].sum().idxmax()
    ex = active[active["swv"] == area][["area_code", "truth", "estimate", "lower", "upper", "hidden"]]
    ex = ex.assign(suppressed=ex["truth"].where(~ex["hidden"]))
    return ex.rename(columns={"area_code": "school"}).reset_index(drop=True), area


def evaluate(con: duckdb.DuckDBPyConnection, school_year: str, rhos=RHOS,
             membership_trials: int = 20_000, counts: tuple[str, ...] = tuple(COUNTS),
             draws: int = DRAWS, other_draws: int | None = None) -> Evaluation:
    """Compute every figure of the report on a (synthetic) derived database. ``counts``
    limits the suppressed measures (tests use fewer: suppression is the slow part); ``draws``
    independent DP releases at the default budget (``other_draws`` at the others, default the
    same), from one read of the true totals."""
    leaf = aggregate.leaf_totals(con, school_year)
    levels = _levels(leaf)
    truth = _truth(leaf, levels)
    masks, attacks = _suppress(leaf, levels, counts)
    long_truth = truth.melt(id_vars=["level", "area_code"], var_name="measure", value_name="truth")
    size = truth[["level", "area_code", "enrolled"]].rename(columns={"enrolled": "group_size"})
    base = long_truth.merge(masks, on=["level", "area_code", "measure"], how="left") \
        .merge(size, on=["level", "area_code"])
    base = base[base["measure"].isin(counts)].reset_index(drop=True)
    base[["primary", "hidden"]] = base[["primary", "hidden"]].fillna(False).astype(bool)
    hidden = _hidden_table(base, _groups(leaf, truth))
    per_rho = {r: draws if r == DEFAULT_RHO or other_draws is None else other_draws for r in rhos}
    dp = pd.concat([_dp_cells(leaf, r, d) for r in rhos for d in range(per_rho[r])],
                   ignore_index=True)
    dp_counts = dp[dp["measure"] != "chronic_share"].assign(
        measure=lambda f: f["measure"].map({v: k for k, v in COUNTS.items()}))
    long = base.merge(dp_counts, on=["level", "area_code", "measure"], how="inner")
    for col in ("estimate", "lower", "upper"):
        long[col] = long[col].astype(float)
    errors = _errors(long)
    bias = _bias(long, levels, leaf)
    topk = _topk(long, truth, dp)
    example, area = _example(long, levels, leaf, "chronic" if "chronic" in counts else counts[0])
    membership = pd.DataFrame([vars(dp_membership(Rho.of(r), trials=membership_trials)) for r in rhos]
                              + [vars(suppressed_membership(np.array([7, 12, 0, 6])))])
    ev = Evaluation(school_year, hidden, errors, bias, topk, attacks, membership, example, area)
    ev.headline = headline(ev)
    return ev


def headline(ev: Evaluation) -> dict:
    """The few numbers a committee reads first."""
    h = ev.hidden
    sch = h[(h["level"] == "school") & (h["group"] == "all schools")].set_index("measure")
    att = ev.attacks.set_index(["measure", "scheme"])
    d = ev.errors[(ev.errors["rho"] == DEFAULT_RHO)]
    return {
        "school_cells_hidden_share": sch["share_cells_hidden"].round(4).to_dict(),
        "school_pupils_hidden_share": sch["share_pupils_hidden"].round(4).to_dict(),
        "recovered_cells": {f"{m} / {sch_}": int(v) for (m, sch_), v in att["recovered_cells"].items()},
        "recovered_pupils": {f"{m} / {sch_}": int(v) for (m, sch_), v in att["recovered_pupils"].items()},
        "dp_coverage_default_rho": float((d["coverage_95"] * d["cells"]).sum() / d["cells"].sum()),
        "topk_recall": {f"{r.level} / {r.method}" + (f" / rho {r.rho}" if isinstance(r.rho, str) else ""):
                        float(r.recall) for r in ev.topk.itertuples()},
    }
