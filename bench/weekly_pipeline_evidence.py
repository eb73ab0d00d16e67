"""Evidence for the weekly series on the REAL pipeline (docs/weekly.md, "Evidence on the pipeline").

A synthetic Netherlands (service.synth.write_synthetic) is ingested and derived by the real
code (bench/weekly_pipeline_build.py), once as generated ("null") and once with a planted local
rise in ONE samenwerkingsverband from a given school week (`planted_rise`: extra whole-day
absences and extra long-term absentees). Every week of the year is then published through
`service.weekly.release_week` (OpenDP noise, budget charged, signed release) into a copy of
the database, and the real warning code (`service.weekly_warning.warnings`) reads the
published releases. Repeated for several independent noise draws.

Measured:
* the week each warning (falling attendance; rise in new long-term absentees) first fires for
  the planted area, against a perfect non-private monitor (the same rules on the TRUE values,
  computed here only, never published);
* false flags over all areas without a rise (planted database: areas holding no school of
  the planted area; null database: every area);
* error of the published weekly and year-to-date values against the truth, and against the
  naive "split the budget over the weeks and sum weekly noise" (ρ_table/T per week at the
  per-week sensitivity, OpenDP noise, simulated here on the true totals);
* how the year-to-date error grows with the week.

Run (about 30 minutes on 2 shared cores at 250,000 pupils; each draw publishes 41 weeks):

    python bench/weekly_pipeline_evidence.py --pupils 250000 --reps 2 --null-reps 1

Writes bench/out/weekly_pipeline/results.json and docs/weekly/pipeline-*.png.
True values stay in this process: only errors and first-fire weeks are written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from weekly_pipeline_build import OUT, YEAR, build
from privacy.bounds import BoundSpec
from privacy.mechanisms import add_noise, plan_gaussian
from service.weekly import series as weekly
from service.db import connect
from service.settings import Settings
from service.synth.uploads import PlantedRise
from service.weekly.warnings import (LongTermRule, WarningRule, detect, detect_long_term,
                                    released_nodes, released_series, warnings)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "weekly"
LEVELS = ("country", "province", "rmc", "swv", "municipality")
KEY = ["level", "area_code"]


# ── the truth (bench only) ──────────────────────────────────────────────────────────────────
def truth(con, weeks: int) -> dict:
    """Per (total, table): true cell × week totals, with the tables' cell keys (sector 'all')."""
    schools, tabs = weekly.tables(con)
    leaf = weekly._leaf_totals(con, YEAR, 1, weeks, schools)
    out = {}
    for tab in LEVELS:
        t = tabs[tab]
        n = len(t.codes)
        mats = {total: np.stack([np.bincount(t.group_of_leaf, weights=leaf[total][:, w], minlength=n)
                                 for w in range(weeks)], axis=1).round().astype(np.int64)
                for total in leaf}
        out[tab] = {"codes": list(t.codes), "names": list(t.names), **mats}
    return out


def roll(m: np.ndarray, w: int = 4) -> np.ndarray:
    c = np.cumsum(m, axis=1, dtype=float)
    out = c.copy()
    out[:, w:] = c[:, w:] - c[:, :-w]
    return out


def true_measures(tr: dict) -> pd.DataFrame:
    """True values of the published measures, long: level, area_code, week, measure, truth."""
    frames = []
    for tab, t in tr.items():
        weeks = t["absent"].shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = {
                "attendance_rate_week": 1 - t["absent"] / t["possible"],
                "attendance_rate_4wk": 1 - roll(t["absent"]) / roll(t["possible"]),
                "attendance_rate_ytd": 1 - np.cumsum(t["absent"], 1) / np.cumsum(t["possible"], 1),
                "new_long_term_week": t["new_long_term"].astype(float),
                "new_long_term_ytd": np.cumsum(t["new_long_term"], 1).astype(float),
                "absent_minutes_ytd": np.cumsum(t["absent"], 1).astype(float),
            }
        for m, v in vals.items():
            frames.append(pd.DataFrame({"level": tab, "area_code": np.repeat(t["codes"], weeks),
                                        "week": np.tile(np.arange(1, weeks + 1), len(t["codes"])),
                                        "measure": m, "truth": v.ravel()}))
    return pd.concat(frames, ignore_index=True)


def perfect_frames(tr: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The warning rules' inputs from the TRUE values (a perfect non-private monitor)."""
    w_rows, r_rows, n_rows = [], [], []
    for tab, t in tr.items():
        weeks = t["absent"].shape[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            rw = 1 - t["absent"] / t["possible"]
            rr = 1 - roll(t["absent"]) / roll(t["possible"])
        for i, (code, name) in enumerate(zip(t["codes"], t["names"])):
            for w in range(weeks):
                w_rows.append((tab, code, name, w + 1, rw[i, w], 1e-9))
                r_rows.append((tab, code, name, w + 1, rr[i, w], 1e-9))
                n_rows.append((tab, code, name, w + 1, w + 1, float(t["new_long_term"][i, w]), 0.0))
    cols = ["level", "area_code", "area_name", "week", "estimate", "sd"]
    return (pd.DataFrame(w_rows, columns=cols), pd.DataFrame(r_rows, columns=cols),
            pd.DataFrame(n_rows, columns=["level", "area_code", "area_name", "start", "end", "estimate", "sd"]))


# ── the naive split (bench only, OpenDP noise on the true totals) ───────────────────────────
def naive(tr: dict, plans, weeks: int) -> pd.DataFrame:
    """ρ_table/T per week at the per-week sensitivity; YTD = the sum of the noisy weeks."""
    frames = []
    for tab, t in tr.items():
        noisy = {}
        for total in ("absent", "possible", "new_long_term"):
            plan = plans[(total, tab)]
            npl = plan_gaussian(BoundSpec(0, plan.bound.c), plan.rho / weeks)
            noisy[total] = np.stack([add_noise(t[total][:, w], npl) for w in range(weeks)], 1).astype(float)
        a, p = noisy["absent"], noisy["possible"]
        ca, cp = np.cumsum(a, 1), np.cumsum(p, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ra, rp = roll(a), roll(p)
            vals = {"attendance_rate_week": np.where(p > 0, 1 - np.clip(a / p, 0, 1), np.nan),
                    "attendance_rate_4wk": np.where(rp > 0, 1 - np.clip(ra / rp, 0, 1), np.nan),
                    "attendance_rate_ytd": np.where(cp > 0, 1 - np.clip(ca / cp, 0, 1), np.nan),
                    "new_long_term_week": np.maximum(noisy["new_long_term"], 0),
                    "new_long_term_ytd": np.maximum(np.cumsum(noisy["new_long_term"], 1), 0),
                    "absent_minutes_ytd": ca}
        for m, v in vals.items():
            frames.append(pd.DataFrame({"level": tab, "area_code": np.repeat(t["codes"], weeks),
                                        "week": np.tile(np.arange(1, weeks + 1), len(t["codes"])),
                                        "measure": m, "estimate": v.ravel()}))
    return pd.concat(frames, ignore_index=True)


# ── the real pipeline ───────────────────────────────────────────────────────────────────────
def publish_all(base: Path, rep_db: Path, weeks: int) -> tuple[pd.DataFrame, dict, float]:
    """Copy `base`, release every week through the real path, read back the published cells."""
    shutil.copyfile(base, rep_db)
    con = connect(rep_db)
    settings = Settings(mode="dev", db=rep_db)
    t0 = time.perf_counter()
    for week in range(1, weeks + 1):
        weekly.release_week(con, settings, YEAR, week)
    seconds = time.perf_counter() - t0
    frames = []
    for week, rid in sorted(weekly.week_releases(con, YEAR).items()):
        cells = weekly.release_cells(con, rid)
        cells = cells[(cells["sector"] == "all") & ~cells["measure"].str.startswith("node:")]
        frames.append(cells.assign(week=week)[["level", "area_code", "week", "measure", "estimate",
                                               "lower", "upper", "sd"]])
        # absent minutes YTD are not a published measure: sum the published nodes (post-processing)
    nodes = released_nodes(con, YEAR, "absent")
    ytd = []
    for w in range(1, weeks + 1):
        part = nodes[nodes["end"] <= w].groupby(KEY)["estimate"].sum().reset_index()
        ytd.append(part.assign(week=w, measure="absent_minutes_ytd"))
    frames.append(pd.concat(ytd))
    published = pd.concat(frames, ignore_index=True)
    for col in ("estimate", "lower", "upper", "sd"):
        published[col] = pd.to_numeric(published[col], errors="coerce")
    signals = {
        "weekly": released_series(con, YEAR, "attendance_rate_week"),
        "rolling": released_series(con, YEAR, "attendance_rate_4wk"),
        "nodes": released_nodes(con, YEAR),
        "api_rows": int(len(warnings(con, YEAR))),  # the service's own view works end to end
        "spent_micro": con.execute("SELECT sum(micro) FROM release WHERE kind = 'week'").fetchone()[0],
    }
    con.close()
    rep_db.unlink()
    for extra in (".wal", ".signing-key"):
        rep_db.with_name(rep_db.name + extra).unlink(missing_ok=True)
    return published, signals, seconds


def warning_runs(weekly_s, rolling_s, nodes, weeks: int, area: str, affected: set,
                 rise_from: int | None) -> dict:
    """First week each signal fires for `area` (at or after the rise), and false flags over
    the areas outside `affected` (a set of (level, code))."""
    out = {}
    for signal in ("attendance", "new_long_term"):
        first, flags, tests, flagged_areas = None, 0, 0, []
        for t in range(1, weeks + 1):
            res = (detect(weekly_s, rolling_s, t, WarningRule()) if signal == "attendance"
                   else detect_long_term(nodes, t, LongTermRule()))
            if not len(res):
                continue
            keys = list(zip(res["level"], res["area_code"]))
            inside = np.array([k in affected for k in keys])
            hit = res[(res["level"] == "swv") & (res["area_code"] == area)]
            if (first is None and rise_from is not None and t >= rise_from and len(hit)
                    and bool(hit["flagged"].iloc[0])):
                first = t
            flags += int(res["flagged"].to_numpy()[~inside].sum())
            tests += int((~inside).sum())
            flagged_areas += [f"{lv}:{c}@{t}" for lv, c, f, i in zip(res["level"], res["area_code"],
                                                                    res["flagged"], inside) if f and not i]
        out[signal] = {"first_week": first, "false_flags": flags, "area_weeks": tests,
                       "false_flagged": flagged_areas[:20]}
    return out


def errors(published: pd.DataFrame, true: pd.DataFrame, naive_est: pd.DataFrame) -> pd.DataFrame:
    """RMSE and mean abs error per measure × level × week: service (published) and naive."""
    m = true.merge(published[KEY + ["week", "measure", "estimate"]], on=KEY + ["week", "measure"], how="left")
    m = m.merge(naive_est.rename(columns={"estimate": "naive"}), on=KEY + ["week", "measure"], how="left")
    m = m[np.isfinite(m["truth"])]
    rows = []
    for (measure, level, week), g in m.groupby(["measure", "level", "week"]):
        row = {"measure": measure, "level": level, "week": week, "cells": len(g)}
        for name, col in (("service", "estimate"), ("naive", "naive")):
            e = (g[col] - g["truth"]).to_numpy(dtype=float)
            ok = np.isfinite(e)
            row[f"{name}_rmse"] = float(np.sqrt(np.mean(e[ok] ** 2))) if ok.any() else np.nan
            row[f"{name}_mae"] = float(np.mean(np.abs(e[ok]))) if ok.any() else np.nan
            row[f"{name}_missing"] = int((~ok).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def coverage(published: pd.DataFrame, true: pd.DataFrame) -> dict:
    m = true.merge(published, on=KEY + ["week", "measure"])
    m = m[np.isfinite(m["truth"]) & m["lower"].notna() & m["measure"].str.startswith("attendance")]
    inside = (m["lower"] <= m["truth"] + 1e-9) & (m["truth"] <= m["upper"] + 1e-9)
    collapsed = (m["upper"] - m["lower"] <= 0) & (m["level"] != "country")
    return {"cells": int(len(m)), "covered": float(inside.mean()), "collapsed": int(collapsed.sum())}


def affected_areas(con, swv: str) -> set:
    rows = con.execute("SELECT DISTINCT municipality_code, province_code, rmc_code FROM school "
                       "WHERE swv_code = ?", [swv]).fetchall()
    out = {("country", "NL"), ("swv", swv)}
    for m, p, r in rows:
        out |= {("municipality", m), ("province", p), ("rmc", r)}
    return out


def main() -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pupils", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--planted", default="PO2701,12,0.02,0.04",
                    help="swv,from_week,extra_absence_rate,extra_long_term")
    ap.add_argument("--reps", type=int, default=2, help="noise draws on the planted database")
    ap.add_argument("--null-reps", type=int, default=1, help="noise draws on the null database")
    args = ap.parse_args()
    swv, week, rate, lt = args.planted.split(",")
    rise = PlantedRise(swv, int(week), float(rate), float(lt))
    t0 = time.perf_counter()
    dbs = {"planted": OUT / f"planted-{args.pupils}-{args.seed}.duckdb",
           "null": OUT / f"null-{args.pupils}-{args.seed}.duckdb"}
    built = {"planted": build(dbs["planted"], args.pupils, args.seed, rise),
             "null": build(dbs["null"], args.pupils, args.seed, None)}
    results: dict = {"command": f"python bench/weekly_pipeline_evidence.py --pupils {args.pupils} "
                                f"--seed {args.seed} --planted {args.planted} --reps {args.reps} "
                                f"--null-reps {args.null_reps}",
                     "built": built, "planted": rise._asdict()}
    err_frames, chart_data = [], {}
    for kind, reps in (("planted", args.reps), ("null", args.null_reps)):
        con = connect(dbs[kind])
        weeks, rho_micro = weekly.plan_for(con, YEAR)  # written in the base: the copies share it
        plans = weekly.weekly_plans(weeks, rho_micro)
        tr = truth(con, weeks)
        affected = affected_areas(con, rise.swv_code) if kind == "planted" else set()
        con.close()
        true = true_measures(tr)
        pw, pr, pn = perfect_frames(tr)
        perfect = warning_runs(pw, pr, pn, weeks, rise.swv_code, affected,
                               rise.from_week if kind == "planted" else None)
        runs = []
        for rep in range(reps):
            # a fresh file per draw: the service caches stored releases per database path
            published, sig, seconds = publish_all(dbs[kind], OUT / f"rep-{kind}-{rep}-{time.time_ns()}.duckdb", weeks)
            for name in ("weekly", "rolling", "nodes"):  # published (noisy) series, for re-analysis
                sig[name].to_parquet(OUT / f"{kind}-{rep}-{name}.parquet")
            published.to_parquet(OUT / f"{kind}-{rep}-published.parquet")
            run = warning_runs(sig["weekly"], sig["rolling"], sig["nodes"], weeks, rise.swv_code,
                               affected, rise.from_week if kind == "planted" else None)
            run.update({"release_seconds": round(seconds, 1), "spent_micro": int(sig["spent_micro"]),
                        "coverage": coverage(published, true)})
            print(kind, rep, json.dumps(run)[:400], flush=True)
            runs.append(run)
            err = errors(published, true, naive(tr, plans, weeks))
            err_frames.append(err.assign(kind=kind, rep=rep))
            if kind == "planted" and rep == 0:
                chart_data = {"published": published, "true": true, "nodes": sig["nodes"], "tr": tr}
        results[kind] = {"weeks": weeks, "rho_micro": rho_micro, "perfect_monitor": perfect, "runs": runs}
    err = pd.concat(err_frames, ignore_index=True)
    summary = (err.groupby(["measure", "level", "week"])[["service_rmse", "naive_rmse", "service_mae",
                                                         "naive_mae", "service_missing", "naive_missing"]]
               .mean().reset_index())
    OUT.mkdir(parents=True, exist_ok=True)
    summary.to_csv(OUT / "errors_by_week.csv", index=False)
    results["errors"] = error_table(summary)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    (OUT / "results.json").write_text(json.dumps(results, indent=2, default=str))
    charts(chart_data, summary, rise, results)
    return results


def error_table(summary: pd.DataFrame) -> dict:
    """Mean over weeks of the per-week RMSE, and the YTD RMSE at chosen weeks."""
    out = {}
    for (measure, level), g in summary.groupby(["measure", "level"]):
        g = g.set_index("week")
        out[f"{measure}@{level}"] = {
            "service_rmse_mean": float(g["service_rmse"].mean()), "naive_rmse_mean": float(g["naive_rmse"].mean()),
            "service_mae_mean": float(g["service_mae"].mean()), "naive_mae_mean": float(g["naive_mae"].mean()),
            "service_missing": float(g["service_missing"].sum()), "naive_missing": float(g["naive_missing"].sum()),
            "by_week": {int(w): [round(float(g.loc[w, "service_rmse"]), 6), round(float(g.loc[w, "naive_rmse"]), 6)]
                        for w in (1, 4, 8, 16, 32, int(g.index.max())) if w in g.index}}
    return out


def charts(data: dict, summary: pd.DataFrame, rise: PlantedRise, results: dict) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    pub, true, tr = data["published"], data["true"], data["tr"]
    area = rise.swv_code
    first = results["planted"]["runs"][0]["attendance"]["first_week"]
    perfect = results["planted"]["perfect_monitor"]["attendance"]["first_week"]
    sel = lambda f, m: f[(f["level"] == "swv") & (f["area_code"] == area) & (f["measure"] == m)]  # noqa: E731
    p = sel(pub, "attendance_rate_4wk").merge(sel(true, "attendance_rate_4wk")[["week", "truth"]], on="week")
    marks = pd.DataFrame([{"week": rise.from_week, "what": "rise planted"},
                          *([{"week": perfect, "what": "perfect monitor fires"}] if perfect else []),
                          *([{"week": first, "what": "private warning fires"}] if first else [])])
    base = alt.Chart(p).encode(x=alt.X("week:Q", title="school week"))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("lower:Q", title=f"rolling 4-week attendance, {area}", scale=alt.Scale(zero=False)), y2="upper:Q")
    line = base.mark_line(point=True).encode(y="estimate:Q")
    tru = base.mark_line(strokeDash=[4, 3], color="black").encode(y="truth:Q")
    rules = alt.Chart(marks).mark_rule().encode(x="week:Q", color=alt.Color("what:N", title=None))
    chart = alt.layer(band, line, tru, rules).properties(
        width=520, height=220, title="published (line, 95% band) vs truth (dashed), one noise draw")
    (DOCS / "pipeline-series.png").write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))

    # the long-term signal: 8-week counts of new long-term absentees in the planted area
    t = tr["swv"]
    i = t["codes"].index(area)
    weeks = t["new_long_term"].shape[1]
    nodes = data["nodes"]
    nodes = nodes[(nodes["level"] == "swv") & (nodes["area_code"] == area)]
    rows = []
    for w in range(8, weeks + 1):
        leaf = nodes[(nodes["start"] == nodes["end"]) & nodes["start"].between(w - 7, w)]["estimate"].sum()
        rows.append({"week": w, "truth": float(t["new_long_term"][i, w - 8:w].sum()), "published nodes": float(leaf)})
    lt = pd.DataFrame(rows).melt("week", var_name="series", value_name="pupils")
    chart = alt.Chart(lt).mark_line(point=True).encode(
        x=alt.X("week:Q", title="school week"), y=alt.Y("pupils:Q", title="new long-term absentees, last 8 weeks"),
        color=alt.Color("series:N", title=None)).properties(width=520, height=200, title=f"{area}: planted long-term rise")
    (DOCS / "pipeline-long-term.png").write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))

    # error against the truth by week: service vs naive split (swv level)
    rows = []
    for measure, label in (("attendance_rate_week", "attendance rate, week"),
                           ("attendance_rate_ytd", "attendance rate, year to date"),
                           ("absent_minutes_ytd", "absent minutes, year to date"),
                           ("new_long_term_ytd", "new long-term absentees, year to date")):
        g = summary[(summary["measure"] == measure) & (summary["level"] == "swv")]
        for r in g.itertuples():
            rows += [{"value": label, "week": r.week, "method": "service plan", "rmse": r.service_rmse},
                     {"value": label, "week": r.week, "method": "naive split (ρ/T per week)", "rmse": r.naive_rmse}]
    df = pd.DataFrame(rows)
    chart = alt.Chart(df).mark_line().encode(
        x=alt.X("week:Q", title="school week"), y=alt.Y("rmse:Q", title="RMSE vs truth (swv level)"),
        color=alt.Color("method:N", title=None), strokeDash="method:N").properties(width=240, height=150).facet(
        facet=alt.Facet("value:N", title=None), columns=2).resolve_scale(y="independent")
    (DOCS / "pipeline-error.png").write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))


if __name__ == "__main__":
    res = main()
    print(json.dumps({k: v for k, v in res.items() if k != "errors"}, indent=2, default=str)[:6000])
