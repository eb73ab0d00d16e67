"""A synthetic Netherlands of pupils: the files schools would upload (test data only).

`write_synthetic` writes ``out_dir/<school_id>/enrolments.<ext>`` and
``out_dir/<school_id>/absences.<ext>`` in the upload format (docs/upload-format.md, v1).
numpy's RNG (``default_rng(seed)``) is used here and only here: this is test data; privacy
noise never comes from it. The generating model and its parameters: docs/synthetic-data.md.

Below the national size (2.5 million pupils) every school of the register is filled at
`pupils / 2.5 M` of its national size by default, so the data are shaped like the country (no
area empty or tiny by accident of sampling); small test databases can instead use a random
subset of schools at national size (`schools="sample"`), so that a few thousand pupils still
look like real schools.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from service.register.calendar import REGIONS, calendar_frame, school_days, start_year
from service.register.synthetic import SYNTHETIC_MARKER, Register, build_register
from service.synth.absence import REASONS, Segments, absences, plant_rise

NATIONAL_PUPILS = 2_500_000
SECTOR_SHARE = {"PO": 0.567, "SBO": 0.0136, "SO": 0.0075, "VSO": 0.0075, "VO": 0.4044}
# school size at national scale: lognormal (median, sigma), clipped to [low, high]
SIZE_MODEL = {"PO": (175, 0.65, 8, 1100), "SBO": (115, 0.3, 40, 250), "SO": (105, 0.4, 30, 200),
              "VSO": (120, 0.4, 30, 200), "VO": (650, 0.5, 150, 2500)}
DAY_HOURS = {"PO": 5.0, "SBO": 5.0, "SO": 5.0, "VSO": 6.0, "VO": 6.0}
# absence-rate model: log rate = log(MEDIAN_RATE) + sector effect + SWV effect + RATE_SIGMA·z
MEDIAN_RATE = 0.020
RATE_SIGMA = 1.40
SWV_SIGMA = 0.20
SECTOR_EFFECT = {"PO": -0.10, "SBO": 0.30, "SO": 0.45, "VSO": 0.55, "VO": 0.20}
LONG_TERM_P = {"PO": 0.0008, "SBO": 0.004, "SO": 0.004, "VSO": 0.006, "VO": 0.0015}
TRUANT_P = {"PO": 0.04, "SBO": 0.10, "SO": 0.06, "VSO": 0.15, "VO": 0.15}
LIVES_IN_SCHOOL_TOWN = {"PO": 0.9, "SBO": 0.6, "SO": 0.5, "VSO": 0.5, "VO": 0.7}
MOVER_P = 0.025
GRADES = {"PO": np.ones(8), "SO": np.ones(8), "SBO": np.array([0, 0, 1, 2, 3, 3, 3, 3.0]),
          "VO": np.array([1, 1, 1, 1, 0.6, 0.3]), "VSO": np.array([1, 1, 1, 1, 0.7, 0.4])}
SECTORS = tuple(SECTOR_SHARE)


class PlantedRise(NamedTuple):
    """Opt-in, for evidence of the weekly early warning (bench/weekly_pipeline_evidence.py):
    from school week ``from_week`` on, every pupil enrolled in samenwerkingsverband
    ``swv_code`` is absent a further whole day with probability ``extra_absence_rate`` per
    school day, and becomes a long-term absentee (one unbroken block starting within 40
    school days) with probability ``extra_long_term``. Drawn from its own generator, so every
    other row is the same as without it."""

    swv_code: str
    from_week: int
    extra_absence_rate: float
    extra_long_term: float = 0.0


@dataclass(frozen=True)
class SynthSummary:
    pupils: int
    schools: int
    enrolment_rows: int
    absence_rows: int
    files: int
    bytes_written: int
    seconds: float


def draw_school_sizes(register: Register, rng: np.random.Generator) -> np.ndarray:
    """National-scale pupil numbers per school (row order of `register.schools`).

    PO medians scale with the municipality's population to the power 0.3, so small rural
    municipalities get many small schools."""
    sch = register.schools
    sizes = np.zeros(len(sch))
    pop = register.population.reindex(sch["municipality_code"]).to_numpy(dtype=float)
    for sector, (median, sigma, low, high) in SIZE_MODEL.items():
        idx = np.flatnonzero(sch["sector"].to_numpy() == sector)
        med = median * ((pop[idx] / 40_000) ** 0.3 if sector == "PO" else np.ones(len(idx)))
        sizes[idx] = np.clip(rng.lognormal(np.log(med), sigma, size=len(idx)), low, high)
    return sizes


def _pupil_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct 9-digit numbers passing the BSN 11-test (first digit 1-9)."""
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])
    found = np.empty(0, dtype=np.int64)
    while len(found) < n:
        prefix = rng.integers(10_000_000, 100_000_000, size=int((n - len(found)) * 1.2) + 100)
        digits = (prefix[:, None] // 10 ** np.arange(7, -1, -1)) % 10
        check = (digits @ weights) % 11
        ok = check < 10
        found = np.unique(np.concatenate([found, prefix[ok] * 10 + check[ok]]))
    return rng.permutation(found)[:n]


#: How a run below the national size chooses its schools: "every" school of the register, each
#: at `pupils / 2.5 M` of its national size (data shaped like the country: no area is empty or
#: tiny by accident of sampling), or a random "sample" of schools at national size (small test
#: databases whose schools still look like real ones).
SchoolChoice = Literal["every", "sample"]


def _plan_schools(reg: Register, pupils: int, rng: np.random.Generator,
                  schools: SchoolChoice = "every") -> pd.DataFrame:
    if schools not in ("every", "sample"):
        raise ValueError(f"schools must be 'every' or 'sample', not {schools!r}")
    sch = reg.schools.copy()
    sch["size"] = draw_school_sizes(reg, rng)
    frac = min(1.0, pupils / NATIONAL_PUPILS)
    parts = []
    for sector, share in SECTOR_SHARE.items():
        sub = sch[sch["sector"] == sector].reset_index(drop=True)
        total = round(share * pupils)
        if schools == "every":
            parts.append(sub.assign(n_pupils=_apportion(sub["size"].to_numpy(), total)))
            continue
        want = max(1, round(frac * len(sub)))
        # Every municipality keeps at least one PO school, so a small run still covers the
        # whole country and every area has data.
        must = (sub.groupby("municipality_code").head(1).index.to_numpy() if sector == "PO"
                else np.empty(0, dtype=int))
        others = np.setdiff1d(np.arange(len(sub)), must)
        extra = rng.choice(others, max(0, min(len(others), want - len(must))), False)
        pick = sub.iloc[np.sort(np.concatenate([must, extra]).astype(int))]
        quota = pick["size"].to_numpy() / pick["size"].sum() * total
        n = np.floor(quota).astype(int)
        n[np.argsort(-(quota - n))[: total - n.sum()]] += 1
        parts.append(pick.assign(n_pupils=n))
    return pd.concat(parts).query("n_pupils > 0").reset_index(drop=True)


def _apportion(sizes: np.ndarray, total: int) -> np.ndarray:
    """`total` pupils over schools in proportion to their sizes (largest remainder), every
    school getting at least one where there are enough pupils."""
    base = 1 if total >= sizes.size else 0
    rest = total - base * sizes.size
    quota = sizes / sizes.sum() * rest
    n = np.floor(quota).astype(int)
    n[np.argsort(-(quota - n), kind="stable")[: rest - n.sum()]] += 1
    return n + base


def _residence(reg: Register, plan: pd.DataFrame, school: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    munis = plan["municipality_code"].to_numpy()[school]
    stay = rng.random(len(school)) < plan["sector"].map(LIVES_IN_SCHOOL_TOWN).to_numpy()[school]
    out = munis.copy()
    for m in np.unique(munis[~stay]):
        idx = np.flatnonzero((munis == m) & ~stay)
        nbs = sorted(reg.adjacency[m]) or [m]
        out[idx] = np.array(nbs)[rng.integers(0, len(nbs), len(idx))]
    return out


def _movers(plan: pd.DataFrame, school: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Destination school per pupil (-1 = stays): same sector, same municipality if possible,
    else the same province, else anywhere."""
    dest = np.full(len(school), -1)
    movers = np.flatnonzero(rng.random(len(school)) < MOVER_P)
    for level in ("municipality_code", "province_code", "sector"):
        key = (plan["sector"] + "|" + plan[level]).to_numpy()
        todo = movers[dest[movers] < 0]
        for k in np.unique(key[school[todo]]):
            cands = np.flatnonzero(key == k)
            who = todo[key[school[todo]] == k]
            if len(cands) < 2:
                continue
            pick = cands[rng.integers(0, len(cands) - 1, len(who))]
            clash = pick == school[who]
            pick[clash] = cands[-1]  # the one candidate never drawn replaces the origin
            dest[who] = pick
    return dest


def _pupils(reg: Register, plan: pd.DataFrame, year0: int, rng: np.random.Generator) -> dict:
    school = np.repeat(np.arange(len(plan)), plan["n_pupils"].to_numpy())
    sector = plan["sector"].to_numpy()[school]
    n = len(school)
    grade = np.zeros(n, dtype=np.int16)
    for s, w in GRADES.items():
        idx = np.flatnonzero(sector == s)
        grade[idx] = rng.choice(np.arange(1, len(w) + 1), size=len(idx), p=w / w.sum())
    age = np.where(np.isin(sector, ["VO", "VSO"]), grade + 11, grade + 3)
    birth = year0 - age - (rng.random(n) < 0.6) - (rng.random(n) < 0.05)
    swv = plan["swv_code"].to_numpy()
    swv_codes, swv_idx = np.unique(swv, return_inverse=True)
    swv_effect = rng.normal(0.0, SWV_SIGMA, len(swv_codes))[swv_idx][school]
    sector_effect = pd.Series(sector).map(SECTOR_EFFECT).to_numpy()
    log_rate = np.log(MEDIAN_RATE) + sector_effect + swv_effect + RATE_SIGMA * rng.normal(size=n)
    truant = rng.random(n) < pd.Series(sector).map(TRUANT_P).to_numpy()
    return {
        "school": school, "sector": sector, "grade": grade, "birth_year": birth.astype(np.int16),
        "residence": _residence(reg, plan, school, rng), "number": _pupil_numbers(n, rng),
        "rate": np.minimum(np.exp(log_rate), 0.97),
        "truancy": np.where(truant, rng.uniform(0.4, 0.9, n), rng.uniform(0.0, 0.1, n)),
        "long_term": rng.random(n) < pd.Series(sector).map(LONG_TERM_P).to_numpy(),
        "late_rate": rng.gamma(0.6, 4.0, n) * np.where(np.isin(sector, ["VO", "VSO"]), 2, 1),
        "dest": _movers(plan, school, rng), "move_u": rng.random(n),
    }


def _segments(plan: pd.DataFrame, p: dict, cal: list[np.ndarray], rng: np.random.Generator):
    """One row per enrolment: non-movers one, movers two (non-overlapping, split at a school
    day of the first school between its 20th school day and 20 days before the end)."""
    region = plan["holiday_region"].map({r: i for i, r in enumerate(REGIONS)}).to_numpy()
    n_days = np.array([len(c) for c in cal])
    home, dest = p["school"], p["dest"]
    pupil = np.arange(len(home))
    d_home = n_days[region[home]]
    k = 20 + np.floor(p["move_u"] * (d_home - 40)).astype(np.int64)
    movers = np.flatnonzero(dest >= 0)
    nat = np.datetime64("NaT", "D")
    first = np.array([c[0] for c in cal])
    move_date = np.array([cal[region[home[i]]][k[i]] for i in movers], dtype="datetime64[D]")
    dest_lo = np.array([np.searchsorted(cal[region[dest[i]]], move_date[j])
                        for j, i in enumerate(movers)], dtype=np.int64)
    seg = pd.DataFrame({
        "pupil": np.concatenate([pupil, movers]),
        "school": np.concatenate([home, dest[movers]]),
        "lo": np.concatenate([np.zeros(len(home), np.int64), dest_lo]),
        "hi": np.concatenate([d_home, n_days[region[dest[movers]]]]),
        "from": np.concatenate([first[region[home]], move_date]),
        "to": np.concatenate([np.full(len(home), nat), np.full(len(movers), nat)]),
    })
    seg.loc[movers, "hi"] = k[movers]
    seg.loc[movers, "to"] = move_date - np.timedelta64(1, "D")
    seg["region"] = region[seg["school"].to_numpy()]
    return seg.sort_values(["school", "pupil"], kind="stable", ignore_index=True)


def _write(table: pa.Table, path: Path, fmt: str) -> int:
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        with open(path, "wb") as fh:
            fh.write((",".join(table.column_names) + "\n").encode())
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False,
                                                         quoting_style="none"))
    return path.stat().st_size


def _numbers(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.int64()).cast(pa.string())


def write_synthetic(out_dir: Path, pupils: int = NATIONAL_PUPILS, seed: int = 1,
                    school_year: str = "2025-2026", fmt: Literal["csv", "parquet"] = "csv",
                    progress: Callable[[int, int], None] | None = None,
                    chunk_segments: int = 200_000,
                    planted_rise: PlantedRise | tuple | None = None,
                    schools: SchoolChoice = "every") -> SynthSummary:
    """Write one enrolments and one absences file per school into `out_dir/<school_id>/`.

    ``schools``: "every" (default) fills every school of the register at `pupils / 2.5 M` of its
    national size; "sample" uses a random subset of schools at national size (`SchoolChoice`).

    ``planted_rise`` (default none: output unchanged) adds a local rise, see `PlantedRise`."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    reg = build_register()
    plan = _plan_schools(reg, pupils, rng, schools)
    rise = None if planted_rise is None else PlantedRise(*planted_rise)
    if rise is not None:
        if rise.swv_code not in set(reg.schools["swv_code"]):
            raise ValueError(f"unknown samenwerkingsverband {rise.swv_code!r}")
        weeks = calendar_frame(school_year)
        rise_day = np.array([int((weeks[(weeks["holiday_region"] == r)]["week_index"] < rise.from_week).sum())
                             for r in REGIONS])  # 0-based first school day of the week
        rise_rng = np.random.default_rng([seed, 8_0012])  # own stream: other rows unchanged
    p = _pupils(reg, plan, start_year(school_year), rng)
    cal = [np.array(school_days(school_year, r), dtype="datetime64[D]") for r in REGIONS]
    dates = np.full((len(REGIONS), max(len(c) for c in cal)), np.datetime64("NaT", "D"))
    for i, c in enumerate(cal):
        dates[i, : len(c)] = c
    seg = _segments(plan, p, cal, rng)
    day_hours = plan["sector"].map(DAY_HOURS).to_numpy()
    bounds = np.searchsorted(seg["school"].to_numpy(), np.arange(len(plan) + 1))
    out_dir = Path(out_dir)
    ext = "parquet" if fmt == "parquet" else "csv"
    n_abs = n_files = n_bytes = 0
    school_lo = 0
    while school_lo < len(plan):
        school_hi = int(np.searchsorted(bounds, bounds[school_lo] + chunk_segments, "right"))
        school_hi = max(school_hi - 1, school_lo + 1)
        s = seg.iloc[bounds[school_lo]: bounds[school_hi]]
        pu, sc = s["pupil"].to_numpy(), s["school"].to_numpy()
        segs = Segments(
            lo=s["lo"].to_numpy(), hi=s["hi"].to_numpy(), day_hours=day_hours[sc],
            rate=p["rate"][pu], truancy=p["truancy"][pu], long_term=p["long_term"][pu],
            late_rate=p["late_rate"][pu])
        rows = absences(segs, rng)
        if rise is not None:
            inside = plan["swv_code"].to_numpy()[sc] == rise.swv_code
            start = np.where(inside, rise_day[s["region"].to_numpy()], segs.hi)
            rows = plant_rise(rows, segs, start, rise.extra_absence_rate, rise.extra_long_term,
                              rise_rng)
        enrol = pa.table({
            "pupil_number": _numbers(p["number"][pu]),
            "birth_year": p["birth_year"][pu], "grade": p["grade"][pu],
            "residence_municipality": p["residence"][pu],
            "enrolled_from": pa.array(s["from"].to_numpy().astype("datetime64[D]")),
            "enrolled_to": pa.array(s["to"].to_numpy().astype("datetime64[D]")),
        })
        absent = pa.table({
            "pupil_number": _numbers(p["number"][pu[rows.seg]]),
            "date": pa.array(dates[s["region"].to_numpy()[rows.seg], rows.day]),
            "hours": rows.hours, "reason": REASONS[rows.reason],
        })
        seg_cuts = bounds[school_lo: school_hi + 1] - bounds[school_lo]
        abs_cuts = np.searchsorted(rows.seg, seg_cuts)
        for j, school in enumerate(range(school_lo, school_hi)):
            folder = out_dir / plan["school_id"].iat[school]
            folder.mkdir(parents=True, exist_ok=True)
            e0, e1, a0, a1 = seg_cuts[j], seg_cuts[j + 1], abs_cuts[j], abs_cuts[j + 1]
            n_bytes += _write(enrol.slice(e0, e1 - e0), folder / f"enrolments.{ext}", fmt)
            n_bytes += _write(absent.slice(a0, a1 - a0), folder / f"absences.{ext}", fmt)
            n_files += 2
        n_abs += len(rows.seg)
        school_lo = school_hi
        if progress:
            progress(school_lo, len(plan))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SYNTHETIC_MARKER).write_text(
        f"Synthetic test data written by aanwezig synth (seed {seed}, {school_year}); "
        "no real pupil is in it.\n", encoding="utf-8")
    return SynthSummary(pupils=len(p["school"]), schools=len(plan), enrolment_rows=len(seg),
                        absence_rows=n_abs, files=n_files, bytes_written=n_bytes,
                        seconds=time.perf_counter() - t0)
