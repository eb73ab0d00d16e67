"""Evidence for the weekly series (docs/weekly.md): a synthetic country of samenwerkingsverband-
sized areas with a planted local rise in absence in ONE area from week 12.

Measured, over repeated noise draws (OpenDP noise through privacy.continual, at the plan the
service uses for the `swv` table with the default weekly pool ρ = 0.2):
* the week the warning first fires for the planted area, vs a perfect non-private monitor
  (the same rule on the true values);
* false flags over the areas without a rise;
* error of weekly and year-to-date values against the truth: the service's plan vs the naive
  "split the budget over the weeks" (ρ/T per week, per-week sensitivity), and vs the full tree.

Run: python bench/weekly_evidence.py  (about a minute on one core). Writes docs/weekly/*.png
and docs/weekly/results.json. numpy's RNG is used for the synthetic truth only.
"""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from privacy.budget import Rho
from privacy.continual import StreamBound, TreeShape, noise_nodes, plan_tree, range_estimate
from privacy.mechanisms import add_noise, plan_gaussian
from service.weekly.series import WEEK_CAP_MINUTES, weekly_plans
from service.weekly.warnings import detect

OUT = Path(__file__).resolve().parent.parent / "docs" / "weekly"
WEEKS, AREAS, RISE_FROM, REPS = 40, 150, 12, 20
RHO_MICRO = 200_000


def truth(rng) -> dict[str, np.ndarray]:
    """Per area × week: possible and absent minutes, new long-term absentees (true, synthetic)."""
    pupils = rng.lognormal(np.log(15_000), 0.5, size=AREAS).astype(int)  # ~2.5M / 150
    base = 0.05 * rng.lognormal(0, 0.2, size=AREAS)
    season = 1 + 0.25 * np.sin((np.arange(WEEKS) - 12) / 7) ** 2           # winter peak
    rate = base[:, None] * season[None, :] * (1 + rng.normal(0, 0.03, size=(AREAS, WEEKS)))
    rate[0, RISE_FROM - 1:] *= 1.5                                           # the planted rise
    possible = (pupils[:, None] * 1650).astype(np.int64) * np.ones(WEEKS, dtype=np.int64)
    absent = (possible * rate).astype(np.int64)
    lt = rng.poisson(pupils[:, None] * 0.0015 / WEEKS * np.ones(WEEKS))
    lt[0, RISE_FROM - 1:] *= 3
    return {"possible": possible, "absent": absent, "new_long_term": lt.astype(np.int64)}


def tree_series(values: np.ndarray, plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy weekly, rolling-4 and YTD totals per area × week, and their variances."""
    shape = plan.shape
    noisy = noise_nodes({n: values[:, n.start - 1:n.end].sum(axis=1) for n in shape.nodes}, plan)
    out = {k: np.zeros(values.shape) for k in ("week", "roll", "ytd")}
    var = {k: np.zeros(WEEKS) for k in out}
    for t in range(1, WEEKS + 1):
        for k, (a, b) in {"week": (t, t), "roll": (max(1, t - 3), t), "ytd": (1, t)}.items():
            est, v = range_estimate(noisy, plan, a, b)
            out[k][:, t - 1], var[k][t - 1] = est, v
    return out, var


def naive_series(values: np.ndarray, rho: Rho, c: int) -> dict[str, np.ndarray]:
    from privacy.bounds import BoundSpec
    plan = plan_gaussian(BoundSpec(0, c), rho / WEEKS)
    weekly = np.stack([add_noise(values[:, t], plan) for t in range(WEEKS)], axis=1).astype(float)
    return {"week": weekly, "ytd": np.cumsum(weekly, axis=1)}


def frames(rate_w, rate_r, sd_w, sd_r) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows_w, rows_r = [], []
    for a in range(AREAS + 1):
        level, code = ("country", "NL") if a == AREAS else ("swv", f"S{a:03d}")
        for t in range(WEEKS):
            rows_w.append((level, code, code, t + 1, rate_w[a, t], sd_w[a, t]))
            rows_r.append((level, code, code, t + 1, rate_r[a, t], sd_r[a, t]))
    cols = ["level", "area_code", "area_name", "week", "estimate", "sd"]
    return pd.DataFrame(rows_w, columns=cols), pd.DataFrame(rows_r, columns=cols)


def attendance(num: dict, den: dict, nvar: dict, dvar: dict, key: str):
    n = np.vstack([num[key], num[key].sum(axis=0)])
    d = np.vstack([den[key], den[key].sum(axis=0)])
    rate = 1 - n / d
    sd = np.sqrt(nvar[key][None, :] + (n / d) ** 2 * dvar[key][None, :]) / d
    sd[-1] /= np.sqrt(AREAS)  # the country sums AREAS independently noised areas
    return rate, sd


def warnings_run(w, r) -> tuple[int | None, int, int]:
    first, false, tests = None, 0, 0
    for t in range(10, WEEKS + 1):
        out = detect(w, r, t)
        out = out[out.level != "country"]
        hit = out[out.area_code == "S000"]["flagged"]
        if first is None and len(hit) and bool(hit.iloc[0]) and t >= RISE_FROM:
            first = t
        others = out[out.area_code != "S000"]
        false += int(others["flagged"].sum())
        tests += len(others)
    return first, false, tests


def main() -> dict:
    rng = np.random.default_rng(20260101)
    true = truth(rng)
    plans = weekly_plans(WEEKS, RHO_MICRO)
    p_abs, p_pos, p_lt = plans[("absent", "swv")], plans[("possible", "swv")], plans[("new_long_term", "swv")]
    full_lt = plan_tree(TreeShape(WEEKS, 5), StreamBound(p_lt.bound.per_week, WEEKS, 1), p_lt.rho)
    full_abs = plan_tree(TreeShape(WEEKS, 5), p_abs.bound, p_abs.rho)
    zero = {k: np.zeros(WEEKS) for k in ("week", "roll", "ytd")}
    roll = lambda m: np.stack([m[:, max(0, t - 3):t + 1].sum(axis=1) for t in range(WEEKS)], axis=1)
    true_num = {"week": true["absent"], "roll": roll(true["absent"]), "ytd": np.cumsum(true["absent"], axis=1)}
    true_den = {"week": true["possible"], "roll": roll(true["possible"]), "ytd": np.cumsum(true["possible"], axis=1)}
    perfect_w, perfect_r = frames(*attendance(true_num, true_den, zero, zero, "week")[:1],
                                  attendance(true_num, true_den, zero, zero, "roll")[0],
                                  np.full((AREAS + 1, WEEKS), 1e-6), np.full((AREAS + 1, WEEKS), 1e-6))
    perfect_first, perfect_false, perfect_tests = warnings_run(perfect_w, perfect_r)
    fired, false, tests, err = [], 0, 0, {k: [] for k in (
        "rate_week_plan", "rate_ytd_plan", "rate_ytd_full_tree", "lt_ytd_plan", "lt_ytd_naive",
        "lt_ytd_full_tree", "rate_week_naive", "rate_ytd_naive")}
    true_rate_w = 1 - true["absent"] / true["possible"]
    true_rate_ytd = 1 - true_num["ytd"] / true_den["ytd"]
    true_lt_ytd = np.cumsum(true["new_long_term"], axis=1)
    for rep in range(REPS):
        num, nvar = tree_series(true["absent"], p_abs)
        den, dvar = tree_series(true["possible"], p_pos)
        rw, sw = attendance(num, den, nvar, dvar, "week")
        rr, sr = attendance(num, den, nvar, dvar, "roll")
        first, f, n = warnings_run(*frames(rw, rr, sw, sr))
        fired.append(first)
        false, tests = false + f, tests + n
        ry, _ = attendance(num, den, nvar, dvar, "ytd")
        err["rate_week_plan"].append(np.sqrt(np.mean((rw[:-1] - true_rate_w) ** 2)))
        err["rate_ytd_plan"].append(np.sqrt(np.mean((ry[:-1] - true_rate_ytd) ** 2)))
        fnum, _ = tree_series(true["absent"], full_abs)
        err["rate_ytd_full_tree"].append(np.sqrt(np.mean((1 - fnum["ytd"] / den["ytd"] - true_rate_ytd) ** 2)))
        na, nd = naive_series(true["absent"], p_abs.rho, WEEK_CAP_MINUTES), naive_series(true["possible"], p_pos.rho, WEEK_CAP_MINUTES)
        err["rate_week_naive"].append(np.sqrt(np.mean((1 - na["week"] / nd["week"] - true_rate_w) ** 2)))
        err["rate_ytd_naive"].append(np.sqrt(np.mean((1 - na["ytd"] / nd["ytd"] - true_rate_ytd) ** 2)))
        lt, _ = tree_series(true["new_long_term"], p_lt)
        lf, _ = tree_series(true["new_long_term"], full_lt)
        ln = naive_series(true["new_long_term"], p_lt.rho, 1)
        for name, est in (("lt_ytd_plan", lt["ytd"]), ("lt_ytd_full_tree", lf["ytd"]), ("lt_ytd_naive", ln["ytd"])):
            err[name].append(np.sqrt(np.mean((est - true_lt_ytd) ** 2)))
    results = {
        "weeks": WEEKS, "areas": AREAS, "rise_from": RISE_FROM, "reps": REPS, "rho_weekly": RHO_MICRO / 1e6,
        "heights": {k: plans[(k, "swv")].shape.height for k in ("absent", "possible", "new_long_term")},
        "perfect_monitor_first_week": perfect_first,
        "perfect_monitor_false_flag_rate": perfect_false / max(perfect_tests, 1),
        "private_first_week": fired,
        "private_first_week_median": float(np.median([f for f in fired if f is not None])) if any(fired) else None,
        "private_missed": sum(f is None for f in fired),
        "false_flag_rate": false / tests, "area_weeks_tested": tests,
        "rmse": {k: float(np.mean(v)) for k, v in err.items()},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    charts(true, rw, sw, rr, sr, results)
    return results


def charts(true, rw, sw, rr, sr, results) -> None:
    weeks = np.arange(1, WEEKS + 1)
    rows = []
    for a, name in ((0, "planted area"), (1, "another area")):
        t_r = 1 - np.array([true["absent"][a, max(0, t - 3):t + 1].sum() / true["possible"][a, max(0, t - 3):t + 1].sum()
                            for t in range(WEEKS)])
        for w in weeks:
            rows.append({"area": name, "week": int(w), "truth": t_r[w - 1], "released": rr[a, w - 1],
                         "lower": rr[a, w - 1] - 1.96 * sr[a, w - 1], "upper": rr[a, w - 1] + 1.96 * sr[a, w - 1]})
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(x=alt.X("week:Q", title="school week"))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("lower:Q", title="rolling 4-week attendance", scale=alt.Scale(zero=False)), y2="upper:Q")
    line = base.mark_line().encode(y="released:Q")
    tru = base.mark_line(strokeDash=[4, 3], color="black").encode(y="truth:Q")
    rule = base.transform_filter(alt.datum.week == RISE_FROM).mark_rule(color="red")
    chart = alt.layer(band, line, tru, rule).properties(width=320, height=200).facet(column="area:N")
    (OUT / "series.png").write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))
    r = results["rmse"]
    bars = pd.DataFrame([
        {"value": "attendance rate, week", "method": "naive split", "rmse": r["rate_week_naive"]},
        {"value": "attendance rate, week", "method": "service plan", "rmse": r["rate_week_plan"]},
        {"value": "attendance rate, YTD", "method": "naive split", "rmse": r["rate_ytd_naive"]},
        {"value": "attendance rate, YTD", "method": "service plan", "rmse": r["rate_ytd_plan"]},
        {"value": "attendance rate, YTD", "method": "full tree", "rmse": r["rate_ytd_full_tree"]},
        {"value": "new long-term, YTD (pupils)", "method": "naive split", "rmse": r["lt_ytd_naive"]},
        {"value": "new long-term, YTD (pupils)", "method": "service plan", "rmse": r["lt_ytd_plan"]},
        {"value": "new long-term, YTD (pupils)", "method": "full tree", "rmse": r["lt_ytd_full_tree"]},
    ])
    chart = alt.Chart(bars).mark_bar().encode(
        x=alt.X("rmse:Q", title="RMSE against the truth (swv level)"), y=alt.Y("method:N", title=None),
        color="method:N", row=alt.Row("value:N", title=None)).resolve_scale(x="independent").properties(width=360, height=70)
    (OUT / "error.png").write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=2))


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
