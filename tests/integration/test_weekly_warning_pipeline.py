"""The early warning through the REAL pipeline on small data: synthetic upload files with a
planted rise (service.synth.uploads `planted_rise`), ingest, derive, `release_week` for every week up to
the one tested (OpenDP noise, budget, signed releases), then `weekly_warning.warnings` on the
published releases.

Small and fast: the register is the public one cut down to one province (Noord-Brabant, PV30)
and the municipalities its pupils live in, so a week release has ~90 cells per measure instead
of ~550 (service/weekly/series.py's cost grows with cells × weeks). 60 schools, ≈ 5,000 pupils.
Planted: samenwerkingsverband VO3006 (one VO school, ≈ 1,140 pupils) is absent a further
whole day with probability 0.8 per school day from week 9. Weeks 1..12 are released; the
warning is read for week 12 (baseline weeks 1–8, Student-t threshold with 7 df at α = 0.001:
4.79).

Failure probability (computed by `failure_probability()` below: the rule on the fixture's TRUE
values plus 2,000 draws of normal noise with each released node's sd; run
`python tests/integration/test_weekly_warning_pipeline.py`, 80 s). Only the privacy noise is random here
(the synthetic data have a fixed seed).

* fires: z of the planted area on the true values 28.4; over the draws mean 25.1, sd 4.0,
  minimum 11.9. A normal fit gives P(z ≤ 4.79) = 1.6e-7; the statistic is a noncentral t
  (7 df, noncentrality ≈ 25.1/1.126 = 22.3), P = 1e-21. Taken as < 2e-7.
* quiet: 0 flags at the default α = 0.001 in 2,000 draws × 93 areas without planted pupils;
  only 3 of them are tested at this size (areas whose weekly noise sd exceeds 5 points are
  not; before that guard the rate here was 0.8% per area, 8× α). The test reads the rule at
  α = 1e-8, so P(a false flag) ≤ 3 × 1e-8 at the rule's nominal level; a planted bug (a zero
  threshold) flags dozens.

Per run: < 3e-7.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from service.db import connect
from service.ingest.derive import rebuild
from service.ingest.directory import ingest_directory
from service.register.calendar import calendar_frame, year_bounds
from service.register.synthetic import DAY_MINUTES, build_register
from service.settings import Settings
from service.synth.uploads import PlantedRise, write_synthetic
from service.weekly import series as weekly
from service.weekly.warnings import WarningRule, warnings

YEAR = "2025-2026"
PROVINCE = "PV30"
RISE = PlantedRise("VO3006", 9, 0.8)
WEEK = 12
QUIET_ALPHA = 1e-8


def load_province_register(con, school_ids: set[str], residences: set[str]) -> None:
    """The public register cut to the given schools' areas and the residence municipalities."""
    reg = build_register()
    schools = reg.schools[reg.schools["school_id"].isin(school_ids)]  # noqa: F841 (read by DuckDB)
    codes = set(schools["province_code"]) | set(schools["rmc_code"]) | set(schools["swv_code"])
    codes |= set(schools["municipality_code"]) | residences | {"NL"}
    areas = reg.areas[reg.areas["code"].isin(codes)]
    areas = pd.concat([areas, reg.areas[reg.areas["code"].isin(set(areas["parent_code"].dropna()))]])
    areas = areas.drop_duplicates(["level", "code"])  # noqa: F841 (read by DuckDB by name)
    days = pd.DataFrame(list(DAY_MINUTES.items()), columns=["sector", "day_minutes"])  # noqa: F841
    cal = calendar_frame(YEAR)  # noqa: F841
    con.execute("INSERT INTO area SELECT * FROM areas")
    con.execute("INSERT INTO school SELECT * FROM schools")
    con.execute("INSERT INTO sector_day SELECT * FROM days ON CONFLICT DO NOTHING")
    con.execute("INSERT INTO school_year VALUES (?, ?, ?)", [YEAR, *year_bounds(YEAR)])
    con.execute("INSERT INTO calendar_day SELECT * FROM cal")


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("weekly-pipeline")
    write_synthetic(root / "all", pupils=20_000, seed=1, school_year=YEAR, planted_rise=RISE,
                    schools="sample")
    reg = build_register().schools.set_index("school_id")
    chosen = [p for p in sorted((root / "all").iterdir()) if p.is_dir() if reg.loc[p.name, "province_code"] == PROVINCE]
    residences = set()
    for folder in chosen:
        shutil.copytree(folder, root / "in" / folder.name)
        residences |= set(pd.read_csv(folder / "enrolments.csv", usecols=["residence_municipality"],
                                      dtype=str)["residence_municipality"])
    db = root / "weekly.duckdb"
    con = connect(db)
    load_province_register(con, {p.name for p in chosen}, residences)
    settings = Settings(mode="dev", db=db)
    report = ingest_directory(con, settings, root / "in")
    assert not report.refused, report.refused
    rebuild(con, YEAR)
    for week in range(1, WEEK + 1):
        weekly.release_week(con, settings, YEAR, week)
    affected = {("country", "NL"), ("swv", RISE.swv_code)}
    for m, p, r in con.execute("SELECT municipality_code, province_code, rmc_code FROM school "
                               "WHERE swv_code = ?", [RISE.swv_code]).fetchall():
        affected |= {("municipality", m), ("province", p), ("rmc", r)}
    yield con, affected, settings
    con.close()


def test_warning_fires_on_the_planted_rise_through_the_pipeline(published):
    con, _, _ = published
    out = warnings(con, YEAR, WEEK)
    row = out[(out["signal"] == "attendance") & (out["level"] == "swv") & (out["area_code"] == RISE.swv_code)]
    assert len(row) == 1 and bool(row["flagged"].iloc[0]), row.to_dict("records")
    reason = row["reason"].iloc[0]
    assert "baseline" in reason and "national change" in reason and "z =" in reason


def test_areas_without_a_rise_stay_quiet_through_the_pipeline(published):
    con, affected, _ = published
    out = warnings(con, YEAR, WEEK, rule=WarningRule(alpha=QUIET_ALPHA))
    out = out[out["signal"] == "attendance"]
    outside = np.array([k not in affected for k in zip(out["level"], out["area_code"])], dtype=bool)
    tested = outside & out["tested"].to_numpy(dtype=bool)
    assert tested.sum() >= 3, tested.sum()
    assert outside.sum() >= 80
    false = out[outside & out["flagged"].to_numpy(dtype=bool)]
    assert false.empty, false[["level", "area_code", "reason"]].to_dict("records")
    assert (out.loc[~out["tested"].to_numpy(dtype=bool), "reason"].str.startswith(("not tested", "no estimate"))).all()


def test_the_api_shows_the_warnings_with_their_signal_and_reasoning(published):
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    _, _, settings = published
    with TestClient(create_app(settings)) as client:
        every = client.get(f"/v1/weekly/{YEAR}/warnings", params={"flaggedOnly": "false"})
        flagged = client.get(f"/v1/weekly/{YEAR}/warnings").json()
    assert every.status_code == 200
    rows = every.json()
    # week 12 is too early for the long-term baseline (weeks 4..t-8 against the last 8)
    assert {r["signal"] for r in rows} == {"attendance"}
    assert all(r["week"] == WEEK and r["reason"] for r in rows)
    assert {"signal": "attendance", "level": "swv", "area_code": RISE.swv_code} in [
        {k: r[k] for k in ("signal", "level", "area_code")} for r in flagged]


def failure_probability(draws: int = 2_000, seed: int = 1) -> dict:
    """The numbers in the module docstring: the rule at week WEEK on the fixture's TRUE values
    plus simulated noise of the service's plan (numpy normal with each node's sd: the discrete
    Gaussian's sd at these scales), `draws` times. Run: python tests/integration/test_weekly_warning_pipeline.py"""
    import tempfile
    from pathlib import Path

    from scipy.stats import binom, norm

    from service.weekly.warnings import WarningRule, detect

    class _Factory:  # the fixture's tmp_path_factory, outside pytest
        def mktemp(self, name):
            return Path(tempfile.mkdtemp(prefix=name))

    gen = published.__wrapped__(_Factory())
    con, affected, _ = next(gen)
    weeks, rho = weekly.plan_for(con, YEAR)
    plans = weekly.weekly_plans(weeks, rho)
    schools, tabs = weekly.tables(con)
    leaf = weekly._leaf_totals(con, YEAR, 1, WEEK, schools)
    rng = np.random.default_rng(seed)
    rows = []
    for tab in ("country", "province", "rmc", "swv", "municipality"):
        t = tabs[tab]
        true = {k: np.stack([np.bincount(t.group_of_leaf, weights=leaf[k][:, w], minlength=len(t.codes))
                             for w in range(WEEK)], 1) for k in ("absent", "possible")}
        sd = {k: np.sqrt(plans[(k, tab)].node_variance) for k in true}
        rows.append((tab, t.codes, true, sd))
    z_planted, flags, areas, result = [], [], 0, {}
    for d in range(draws + 1):
        w_rows, r_rows = [], []
        for tab, codes, true, sd in rows:
            noisy = {k: true[k] + (rng.normal(0, sd[k], true[k].shape) if d else 0) for k in true}
            with np.errstate(divide="ignore", invalid="ignore"):
                rw = 1 - noisy["absent"] / noisy["possible"]
                ra = np.cumsum(noisy["absent"], 1)
                rp = np.cumsum(noisy["possible"], 1)
                rr = 1 - (ra[:, -1] - ra[:, -5]) / (rp[:, -1] - rp[:, -5])
            for i, code in enumerate(codes):
                for w in range(WEEK):
                    w_rows.append((tab, code, code, w + 1, rw[i, w], sd["absent"] / true["possible"][i, w].clip(1)))
                r_rows.append((tab, code, code, WEEK, rr[i], 0.0))
        cols = ["level", "area_code", "area_name", "week", "estimate", "sd"]
        out = detect(pd.DataFrame(w_rows, columns=cols), pd.DataFrame(r_rows, columns=cols), WEEK, WarningRule())
        hit = out[(out["level"] == "swv") & (out["area_code"] == RISE.swv_code)]
        outside = np.array([k not in affected for k in zip(out["level"], out["area_code"])], dtype=bool)
        if d == 0:
            result = {"z_true": float(hit["z"].iloc[0]), "threshold": float(hit["threshold"].iloc[0])}
            continue
        z_planted.append(float(hit["z"].iloc[0]))
        flags.append(int(out["flagged"].to_numpy()[outside].sum()))
        areas = int(outside.sum())
        tested = int((outside & out["tested"].to_numpy(dtype=bool)).sum())
    z = np.array(z_planted)
    per_area = sum(flags) / (draws * areas)
    result.update({
        "draws": draws, "z_mean": float(z.mean()), "z_sd": float(z.std()), "z_min": float(z.min()),
        "p_miss_normal_fit": float(norm.cdf((result["threshold"] - z.mean()) / z.std())),
        "areas_outside": areas, "false_flag_rate_per_area": per_area,
        "max_false_flags_in_a_draw": int(max(flags)),
        "tested_outside": tested, "p_quiet_fails_nominal": float(binom.sf(0, tested, QUIET_ALPHA))})
    gen.close()
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(failure_probability(), indent=2))
