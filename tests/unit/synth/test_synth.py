"""The synthetic-data generator: upload format, pupil numbers, calibration against DOMAIN.md.

The randomness here is ours (numpy, fixed seeds), so every check is deterministic."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from service.register.calendar import REGIONS, school_days
from service.register.synthetic import DAY_MINUTES, build_register
from service.synth.uploads import draw_school_sizes, write_synthetic

YEAR = "2025-2026"
ENROL_COLS = ["pupil_number", "birth_year", "grade", "residence_municipality",
              "enrolled_from", "enrolled_to"]
ABSENCE_COLS = ["pupil_number", "date", "hours", "reason"]


def passes_11_test(number: str) -> bool:
    digits = [int(c) for c in number]
    return sum(w * d for w, d in zip([9, 8, 7, 6, 5, 4, 3, 2, -1], digits)) % 11 == 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    # a sample of schools at their national size: 6,000 pupils over all 8,420 schools would be
    # 16,840 files of about one pupil each, for the same checks of format and calibration
    summary = write_synthetic(out, pupils=6_000, seed=7, school_year=YEAR, schools="sample")
    schools = build_register().schools.set_index("school_id")
    enrol, absent = [], []
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        assert sorted(p.name for p in folder.iterdir()) == ["absences.csv", "enrolments.csv"]
        assert (folder / "enrolments.csv").read_text().splitlines()[0] == ",".join(ENROL_COLS)
        assert (folder / "absences.csv").read_text().splitlines()[0] == ",".join(ABSENCE_COLS)
        e = pd.read_csv(folder / "enrolments.csv", dtype=str, keep_default_na=False)
        a = pd.read_csv(folder / "absences.csv", dtype=str, keep_default_na=False)
        enrol.append(e.assign(school_id=folder.name))
        absent.append(a.assign(school_id=folder.name))
    e, a = pd.concat(enrol, ignore_index=True), pd.concat(absent, ignore_index=True)
    for frame in (e, a):
        frame["sector"] = frame["school_id"].map(schools["sector"])
        frame["region"] = frame["school_id"].map(schools["holiday_region"])
        frame["day_hours"] = frame["sector"].map(DAY_MINUTES) / 60
    a["hours"] = a["hours"].astype(float)
    cal = {r: np.array(school_days(YEAR, r), dtype="datetime64[D]") for r in REGIONS}
    start = e["enrolled_from"].to_numpy(dtype="datetime64[D]")
    end = e["enrolled_to"].replace("", "2026-07-31").to_numpy(dtype="datetime64[D]")
    e["days"] = [np.searchsorted(cal[r], hi, "right") - np.searchsorted(cal[r], lo)
                 for r, lo, hi in zip(e["region"], start, end)]
    possible = (e["days"] * e["day_hours"]).groupby(e["pupil_number"]).sum()
    share = a.groupby("pupil_number")["hours"].sum().reindex(possible.index, fill_value=0)
    return {"out": out, "summary": summary, "e": e, "a": a, "share": share / possible,
            "cal": cal, "schools": schools}


def test_files_follow_the_upload_format(generated):
    e, a, cal = generated["e"], generated["a"], generated["cal"]
    assert e["pupil_number"].str.fullmatch(r"[1-9]\d{8}").all()
    assert e["pupil_number"].drop_duplicates().map(passes_11_test).all()
    assert e["residence_municipality"].str.fullmatch(r"GM\d{4}").all()
    grade, birth = e["grade"].astype(int), e["birth_year"].astype(int)
    vo = e["sector"].isin(["VO", "VSO"])
    assert grade[vo].between(1, 6).all() and grade[~vo].between(1, 8).all()
    assert birth.between(1995, 2023).all()
    assert ((2025 - birth - grade)[~vo].between(3, 5)).all()  # groep g at age ≈ g + 3
    assert ((2025 - birth - grade)[vo].between(11, 13)).all()
    assert a["reason"].isin(["sick", "authorised", "unauthorised", "late", "suspended"]).all()
    assert (a["hours"] > 0).all() and (a["hours"] <= a["day_hours"]).all()
    assert np.allclose(a["hours"] * 100, np.round(a["hours"] * 100))
    per_day = a.groupby(["school_id", "pupil_number", "date"]).agg(
        h=("hours", "sum"), limit=("day_hours", "first"))
    assert (per_day["h"] <= per_day["limit"]).all()
    assert all(np.datetime64(d) in set(cal[r]) for r, d in
               a[["region", "date"]].drop_duplicates().itertuples(index=False))
    # absences only while enrolled at that school
    joined = a.merge(e, on=["school_id", "pupil_number"], suffixes=("", "_e"))
    inside = (joined["date"] >= joined["enrolled_from"]) & (
        (joined["enrolled_to"] == "") | (joined["date"] <= joined["enrolled_to"]))
    assert inside.groupby([joined["school_id"], joined["pupil_number"], joined["date"]]).any().all()


def test_pupils_unique_and_some_move(generated):
    e, summary = generated["e"], generated["summary"]
    per_pupil = e.groupby("pupil_number")
    assert per_pupil["school_id"].nunique().max() == 2
    assert (per_pupil.size() == per_pupil["school_id"].nunique()).all()
    movers = per_pupil.size()[per_pupil.size() == 2].index
    assert 0.01 <= len(movers) / e["pupil_number"].nunique() <= 0.05
    m = e[e["pupil_number"].isin(movers)].sort_values(["pupil_number", "enrolled_from"])
    first, second = m.iloc[::2], m.iloc[1::2]
    assert (first["enrolled_to"].to_numpy() < second["enrolled_from"].to_numpy()).all()
    assert (second["enrolled_to"] == "").all()
    assert abs(summary.pupils - 6_000) <= 5 and summary.pupils == e["pupil_number"].nunique()
    assert summary.enrolment_rows == len(e) and summary.absence_rows == len(generated["a"])
    assert summary.files == 2 * summary.schools == 2 * e["school_id"].nunique()


def test_absence_is_heavy_tailed_like_domain_figures(generated):
    share = generated["share"]
    assert 0.10 <= (share >= 0.10).mean() <= 0.20  # chronic
    assert 0.005 <= (share >= 0.50).mean() <= 0.03  # severe
    assert 0.01 <= share.median() <= 0.05  # most pupils miss a few percent
    a = generated["a"]
    reasons = a["reason"].value_counts(normalize=True)
    assert reasons.idxmax() == "sick" and reasons["suspended"] < 0.02
    assert (a.loc[a["reason"] == "late", "hours"] <= 1).all()
    # special education runs higher than regular PO
    first = generated["e"].drop_duplicates("pupil_number").set_index("pupil_number")["sector"]
    special = first.reindex(share.index).isin(["SBO", "SO", "VSO"])
    regular_po = first.reindex(share.index) == "PO"
    assert (share[special] >= 0.10).mean() > (share[regular_po] >= 0.10).mean()


def test_some_pupils_absent_four_weeks_in_a_row(generated):
    a, cal = generated["a"], generated["cal"]
    whole = a[a["hours"] == a["day_hours"]].copy()
    index = {r: {d: i for i, d in enumerate(cal[r].astype(str))} for r in REGIONS}
    whole["i"] = [index[r][d] for r, d in zip(whole["region"], whole["date"])]
    whole = whole.sort_values(["pupil_number", "i"])
    breaks = (whole["pupil_number"] != whole["pupil_number"].shift()) | (whole["i"].diff() != 1)
    runs = whole.groupby(breaks.cumsum()).agg(p=("pupil_number", "first"), n=("i", "size"))
    long_term = runs.loc[runs["n"] >= 20, "p"].nunique()
    assert 1 <= long_term <= 0.01 * len(generated["share"])


def test_school_sizes_are_skewed():
    sizes = draw_school_sizes(build_register(), np.random.default_rng(1))
    sector = build_register().schools["sector"].to_numpy()
    po = sizes[sector == "PO"]
    assert 0.02 <= (po < 60).mean() <= 0.15 and 150 <= np.median(po) <= 260
    special = sizes[np.isin(sector, ["SO", "VSO"])]
    assert special.min() >= 30 and special.max() <= 200
    assert 500 <= np.median(sizes[sector == "VO"]) <= 1000


def test_parquet_and_determinism(tmp_path):
    one = write_synthetic(tmp_path / "a", pupils=800, seed=3, fmt="parquet", schools="sample")
    write_synthetic(tmp_path / "b", pupils=800, seed=3, fmt="parquet", schools="sample")
    other = write_synthetic(tmp_path / "c", pupils=800, seed=4, fmt="parquet", schools="sample")
    digest = lambda d: hashlib.sha256(b"".join(  # noqa: E731
        p.read_bytes() for p in sorted(d.rglob("*.parquet")))).hexdigest()
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")
    assert one.files == len(list((tmp_path / "a").rglob("*.parquet"))) and other.pupils > 700
    school = sorted(p for p in (tmp_path / "a").iterdir() if p.is_dir())[0]
    enrol = pd.read_parquet(school / "enrolments.parquet")
    absent = pd.read_parquet(school / "absences.parquet")
    assert list(enrol.columns) == ENROL_COLS and list(absent.columns) == ABSENCE_COLS
    assert enrol["pupil_number"].str.fullmatch(r"\d{9}").all()


def test_every_school_is_filled_at_a_fraction_of_its_national_size():
    """The default shape (issue 12): at 250,000 pupils all 8,420 schools of the register have
    pupils, about a tenth of their national size each, and the sector totals are exact; the
    sample shape keeps national sizes in a tenth of the schools."""
    from service.synth.uploads import SECTOR_SHARE, _plan_schools

    reg = build_register()
    every = _plan_schools(reg, 250_000, np.random.default_rng(1))
    assert len(every) == len(reg.schools) == 8_420 and (every["n_pupils"] >= 1).all()
    for sector, share in SECTOR_SHARE.items():
        assert every.loc[every.sector == sector, "n_pupils"].sum() == round(share * 250_000)
    ratio = every["n_pupils"] / every["size"]
    assert 0.08 <= ratio.median() <= 0.12
    per_municipality = every.groupby("municipality_code")["n_pupils"].sum()
    assert len(per_municipality) == 342 and per_municipality.min() >= 1
    sample = _plan_schools(reg, 250_000, np.random.default_rng(1), "sample")
    assert len(sample) < 0.2 * len(reg.schools)
    assert (sample["n_pupils"] / sample["size"]).median() > 0.9
    with pytest.raises(ValueError):
        _plan_schools(reg, 1_000, np.random.default_rng(1), "all")


def test_the_folder_says_it_is_synthetic(tmp_path):
    """The marker file that makes ingest record the batches as synthetic (evaluate's gate)."""
    from service.register.synthetic import SYNTHETIC_MARKER
    write_synthetic(tmp_path / "m", pupils=300, seed=2, schools="sample")
    assert "no real pupil" in (tmp_path / "m" / SYNTHETIC_MARKER).read_text()
