"""Joint bounds on the real SQL: one pupil's five reasons (one table, their sum capped at the
year's minutes) and one pupil's months (each capped at a month's minutes, together at the
year's). Neighbouring datasets with pupils at the joint extremes — all minutes in one reason,
spread evenly over the five, over-recorded in every reason, absent every school day of one
month, absent all year so that the year's cap is reached after eight full months — change
every table, at every level and in every grouping, by at most the sensitivity that
`privacy.bounds.sensitivity` derives from the declared joint `BoundSpec`; the extremes attain
it. Planted bugs (the old per-reason clamps; months without the year's cap) must fail.

The tiny register of test_derive gets a calendar as long as the bounds allow: 205 school
days (8 months of 23 days and one of 21), so a VO pupil absent every day has exactly the
year's 73,800 minutes: 8 × 8,280 + 7,560 by month.
"""

from __future__ import annotations

import datetime as dt
import functools
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from privacy.audit import default_thresholds, discrete_gaussian_epsilon, epsilon_lower_bound
from privacy.bounds import extreme_contribution, l2_squared, sensitivity
from privacy.budget import Rho
from privacy.mechanisms import add_noise, plan_gaussian
from service.db import connect
from service.ingest import derive
from service.ingest.bounds import MAX_MONTH_DAYS, MAX_SCHOOL_DAYS
from service.releases import aggregate
from service.releases.aggregate import LEAF_LEVELS, grouped_totals, leaf_totals
from service.releases.catalogue import (
    JOINT_TABLES,
    MAX_MONTH_MINUTES,
    MAX_YEAR_MINUTES,
    MONTH_TOTALS,
    REASONS,
    TOTALS,
)
from support.derive_data import SCHOOLS, YEAR, Data, make_register

REASON_TOTALS, REASON_BOUND = JOINT_TABLES["reason"]
SCHOOL_IDS = [s[0] for s in SCHOOLS]
VO = 2                                  # 03CC00: a VO school, 360-minute days
MONTHS_OF_YEAR = [dt.date(2025 + (m >= 5), (m + 7) % 12 + 1, 1) for m in range(12)]   # Aug … Jul
MUNICIPALITIES = ["GM0001", "GM0002", "GM0003", "GM0004"]
YEAR_GROUPINGS = [["residence"], ["sector", "grade_band"], []]
MONTH_GROUPINGS = [(["month"], {}), (["month", "school"], {}), (["residence", "month"], {}),
                   (["school"], {"month": "2025-10"}), (["month"], {"month": ["2025-12", "2026-01"]})]


def long_calendar(months: int, last: int) -> list[dt.date]:
    """School days 1 … 23 of the first `months - 1` months of the school year and 1 … `last`
    of the next (weekends included: only the count matters to the bounds)."""
    days = []
    for i, first in enumerate(MONTHS_OF_YEAR[:months]):
        n = MAX_MONTH_DAYS if i < months - 1 else last
        days += [first + dt.timedelta(days=d) for d in range(n)]
    return days


def set_calendar(con, days: list[dt.date]) -> None:
    con.execute("DELETE FROM calendar_day")
    rows = [(YEAR, region, day, i, (day - days[0]).days // 7 + 1, *day.isocalendar()[:2])
            for region in ("midden", "noord") for i, day in enumerate(days, start=1)]
    frame = pd.DataFrame(rows, columns=["y", "r", "d", "i", "w", "iy", "iw"])
    con.register("frame", frame)
    con.execute("INSERT INTO calendar_day SELECT * FROM frame")
    con.unregister("frame")


#: 8 months of 23 days and one of 21: the longest year the bounds allow (205 days).
CALENDAR = long_calendar(9, MAX_SCHOOL_DAYS - 8 * MAX_MONTH_DAYS)


# ── pupils ────────────────────────────────────────────────────────────────────────────────────

def all_year(reasons: dict[str, int], schools=(VO,), days=None, calendar=CALENDAR) -> dict:
    """Enrolled all year at `schools`, absent on `days` (default: every school day) with these
    minutes per reason at every school."""
    days = calendar if days is None else days
    return {"enrolments": [(s, calendar[0], calendar[-1]) for s in schools], "grade": 3,
            "residence": "GM0003",
            "absences": [(d, m, r, s) for s in schools for d in days for r, m in reasons.items()]}


EXTREMES = {
    "all_in_one_reason": all_year({"unauthorised": 360}),
    "spread_evenly": all_year({r: 72 for r in REASONS}),
    "over_recorded_in_every_reason": all_year({r: 360 for r in REASONS}, schools=(VO, 0)),
    "absent_every_day_of_one_month": all_year({"sick": 360}, days=[
        d for d in CALENDAR if d.month == 12]),
}

absence = st.tuples(st.integers(0, len(CALENDAR) - 1), st.sampled_from([30, 72, 150, 300, 360]),
                    st.sampled_from(REASONS), st.integers(0, 2))
other = st.fixed_dictionaries({
    "enrolments": st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(CALENDAR) - 1),
                                     st.integers(0, len(CALENDAR) - 1)), min_size=1, max_size=2),
    "absences": st.lists(absence, max_size=10), "grade": st.integers(1, 6),
    "residence": st.sampled_from(MUNICIPALITIES)})


def as_dates(p: dict) -> dict:
    """A drawn pupil with calendar indices as dates."""
    return {"enrolments": [(s, CALENDAR[min(a, b)], CALENDAR[max(a, b)]) for s, a, b in p["enrolments"]],
            "absences": [(CALENDAR[i], m, r, s) for i, m, r, s in p["absences"]],
            "grade": p["grade"], "residence": p["residence"]}


def insert(data: Data, key: str, p: dict) -> None:
    for school, start, end in p["enrolments"]:
        data.enrol(key, SCHOOL_IDS[school], start, end, grade=p["grade"], residence=p["residence"])
    rows = pd.DataFrame([(data.batch(SCHOOL_IDS[s]), SCHOOL_IDS[s], YEAR, key, d, m, r)
                         for d, m, r, s in p["absences"]], columns=["b", "s", "y", "k", "d", "m", "r"])
    if len(rows):
        data.con.register("absence_rows", rows)
        data.con.execute("INSERT INTO absence SELECT * FROM absence_rows")
        data.con.unregister("absence_rows")


# ── tables and the check ─────────────────────────────────────────────────────────────────────

def tables(con) -> dict:
    """Every yearly total and joint table at every level and grouping, every monthly total in
    every month grouping; each with the bound it is noised under."""
    out = {}
    leaves = leaf_totals(con, YEAR)
    for level in ["school", *LEAF_LEVELS]:
        for name in TOTALS:
            out[(name, level)] = (leaves.at_level(name, level), TOTALS[name].bound)
        for table, (names, bound) in JOINT_TABLES.items():
            out[(table, level)] = (np.concatenate([leaves.at_level(n, level) for n in names]), bound)
    for group in YEAR_GROUPINGS:
        g = grouped_totals(con, YEAR, group, {})
        for name, total in g.totals.items():
            out[(name, "×".join(group) or "all")] = (total.values, total.bound)
        joint = np.concatenate([g.totals[n].values for n in REASON_TOTALS])
        out[("reason", "×".join(group) or "all")] = (joint, REASON_BOUND)
    for i, (group, filters) in enumerate(MONTH_GROUPINGS):
        g = grouped_totals(con, YEAR, group, filters)
        for name, total in g.totals.items():
            out[(name, f"month{i}")] = (total.values, total.bound)
    return out


def build(con, others: list[dict], target: dict | None) -> dict:
    con.execute("DELETE FROM absence; DELETE FROM enrolment; DELETE FROM batch")
    data = Data(con)
    for i, p in enumerate(others):
        insert(data, f"p{i}", p)
    if target is not None:
        insert(data, "target", target)
    derive.rebuild(con, YEAR)
    return tables(con)


def changes(con, others: list[dict], target: dict) -> dict:
    """The change of every table when `target` is added, with the table's bound."""
    with_pupil, without = build(con, others, target), build(con, others, None)
    assert with_pupil.keys() == without.keys()
    return {key: (a - without[key][0], bound) for key, (a, bound) in with_pupil.items()}


def check(diffs: dict) -> None:
    for key, (diff, bound) in diffs.items():
        sens = sensitivity(bound)
        assert int(np.abs(diff).sum()) <= sens.l1, key
        assert int((diff * diff).sum()) <= Fraction(sens.l2) ** 2, key
        assert int(np.count_nonzero(diff)) <= (len(REASONS) if key[0] == "reason" else bound.max_cells), key


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("joint") / "j.duckdb")
    make_register(con)
    set_calendar(con, CALENDAR)
    yield con
    con.close()


# ── the reasons: one table ───────────────────────────────────────────────────────────────────

def test_the_calendar_is_as_long_as_the_bounds_allow(con):
    derive.check_calendar(con, YEAR)                      # accepted: within every bound
    assert len(CALENDAR) == MAX_SCHOOL_DAYS and len(CALENDAR) * 360 == MAX_YEAR_MINUTES


@pytest.mark.parametrize("kind", list(EXTREMES))
def test_a_pupil_at_a_joint_extreme_moves_every_table_within_its_bound(con, kind):
    @settings(max_examples=3, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(others=st.lists(other, max_size=4))
    def run(others):
        check(changes(con, [as_dates(p) for p in others], EXTREMES[kind]))

    run()


def reason_change(diffs: dict, level: str) -> np.ndarray:
    return diffs[("reason", level)][0].reshape(len(REASONS), -1).sum(axis=1)


def test_the_extremes_attain_the_joint_bound(con):
    """All minutes in one reason: the reason table moves by exactly Δ1 = Δ2 = 73,800 — the
    sensitivity of ONE minute table, for five. Spread evenly: 14,760 in each, Δ2 = 73,800/√5.
    Over-recorded in every reason at two schools: still 73,800 in all (sick first)."""
    spec = REASON_BOUND
    one = changes(con, [], EXTREMES["all_in_one_reason"])
    assert list(reason_change(one, "country")) == [0, 0, MAX_YEAR_MINUTES, 0, 0]
    for level in ["school", "municipality", "country", "all"]:
        diff = one[("reason", level)][0]
        assert int((diff * diff).sum()) == l2_squared(spec) == MAX_YEAR_MINUTES**2, level
        assert int(diff.sum()) == sensitivity(spec).l1
    even = changes(con, [], EXTREMES["spread_evenly"])
    assert list(reason_change(even, "country")) == [MAX_YEAR_MINUTES // 5] * 5
    over = changes(con, [], EXTREMES["over_recorded_in_every_reason"])
    assert list(reason_change(over, "country")) == [MAX_YEAR_MINUTES, 0, 0, 0, 0]
    assert int(over[("absent_minutes", "country")][0][0]) == MAX_YEAR_MINUTES


OLD_DAY_FILL = {   # sql/derive_prepare.sql: each reason capped at the day on its own
    "least(authorised, cap - least(sick, cap)) AS authorised": "least(authorised, cap) AS authorised",
    "least(unauthorised, cap - least(sick + authorised, cap)) AS unauthorised":
        "least(unauthorised, cap) AS unauthorised",
    "least(late, cap - least(sick + authorised + unauthorised, cap)) AS late": "least(late, cap) AS late",
    "least(suspended, cap - least(sick + authorised + unauthorised + late, cap)) AS suspended":
        "least(suspended, cap) AS suspended",
}


def per_reason_clamps(text: str, first: str, last: str, clamp: str) -> str:
    """The clamps before this change (planted bug): the text from `first` to `last` (the five
    reason columns) replaced by each reason within possible on its own, `clamp` a format of
    the reason's name."""
    i, j = text.index(first), text.index(last) + len(last)
    return text[:i] + ",\n".join(clamp.format(r=r) for r in REASONS) + text[j:]


YEAR_CLAMPS = ("least(coalesce(a.sick, 0), p.possible) AS sick_c", "AS suspended_c",
               "least(coalesce(a.{r}, 0), p.possible) AS {r}_c")
AGGREGATE_CLAMPS = ("least(r.sick, p.possible)::BIGINT AS t_sick_minutes", "AS t_suspended_minutes",
                    "least(r.{r}, p.possible)::BIGINT AS t_{r}_minutes")


def test_planted_bug_clamping_each_reason_on_its_own_fails(con, monkeypatch):
    """The old clamps (each reason within the day, and within possible, on its own) let a pupil
    over-recorded in every reason add 73,800 to each of the five: the neighbour check catches it."""
    real_statements = derive.statements

    def planted(name):
        out = real_statements(name)
        if name == "derive_absences":
            joined = "\n;\n".join(out)
            for old, new in OLD_DAY_FILL.items():
                assert old in joined
                joined = joined.replace(old, new)
            out = joined.split("\n;\n")
        if name == "derive_pupil_year":
            out = [per_reason_clamps(s, *YEAR_CLAMPS) if "authorised_c" in s else s for s in out]
        return out

    real_contributions = aggregate._contributions
    monkeypatch.setattr(derive, "statements", planted)
    monkeypatch.setattr(aggregate, "_contributions", lambda period="school_year": per_reason_clamps(
        real_contributions(period), *AGGREGATE_CLAMPS) if period == "school_year" else
        real_contributions(period))
    diffs = changes(con, [], EXTREMES["over_recorded_in_every_reason"])
    assert list(reason_change(diffs, "country")) == [MAX_YEAR_MINUTES] * 5
    with pytest.raises(AssertionError):
        check(diffs)


def test_aggregation_clamps_the_sum_of_a_corrupt_pupil_year(con):
    """A corrupt pupil_year row (every reason far above the year): the aggregation itself keeps
    the five within possible together, sick first."""
    build(con, [], None)
    con.execute("INSERT INTO pupil_year (school_year, pupil_key, school_id, sector, grade_band, "
                "residence_code, possible_minutes, absent_minutes, sick_minutes, authorised_minutes, "
                "unauthorised_minutes, late_minutes, suspended_minutes, chronic, severe, long_term, "
                "signal16, band) VALUES (?, 'x', '01AA00', 'PO', 'po_onder', 'GM0001', 2000000, "
                "9000000, 50000, -5, 9000000, NULL, 9000000, true, true, true, true, 9)", [YEAR])
    try:
        leaves = leaf_totals(con, YEAR)
    finally:
        con.execute("DELETE FROM pupil_year")
    parts = [int(leaves.totals[n].values[0]) for n in REASON_TOTALS]
    assert parts == [50_000, 0, MAX_YEAR_MINUTES - 50_000, 0, 0]


# ── the months: each month capped, the year capped ───────────────────────────────────────────

def month_change(diffs: dict, name: str = "absent_minutes") -> list[int]:
    return [int(v) for v in diffs[(name, "month0")][0]]


def test_the_year_cap_is_reached_after_eight_full_months(con):
    """Absent every school day of the longest year: 8 months of 8,280 minutes and 7,560 in the
    ninth — exactly the vertex the month bound is derived from (Δ2 ≈ 24,609, attained)."""
    spec = MONTH_TOTALS["absent_minutes"].bound
    diffs = changes(con, [], EXTREMES["all_in_one_reason"])
    check(diffs)
    assert month_change(diffs) == [MAX_MONTH_MINUTES] * 8 + [7_560] == list(extreme_contribution(spec))
    assert month_change(diffs, "possible_minutes") == month_change(diffs)
    assert sum(v * v for v in month_change(diffs)) == l2_squared(spec)


def test_absent_every_school_day_of_one_month(con):
    diffs = changes(con, [], EXTREMES["absent_every_day_of_one_month"])
    check(diffs)
    december = [i for i, d in enumerate(sorted({c.replace(day=1) for c in CALENDAR})) if d.month == 12]
    assert month_change(diffs) == [MAX_MONTH_MINUTES if i in december else 0 for i in range(9)]


TWELVE_LONG_MONTHS = long_calendar(12, MAX_MONTH_DAYS)
ABSENT_TWELVE_MONTHS = all_year({"unauthorised": 360}, calendar=TWELVE_LONG_MONTHS)


@pytest.fixture()
def twelve_long_months(con, monkeypatch):
    """A calendar the derive's check refuses (12 months of 23 days: 276 days), with the check
    switched off: the SQL must hold the year's cap by itself."""
    set_calendar(con, TWELVE_LONG_MONTHS)
    monkeypatch.setattr(derive, "check_calendar", lambda con, year: None)
    yield con
    set_calendar(con, CALENDAR)


def test_months_add_up_to_the_year_even_when_the_calendar_check_fails(twelve_long_months):
    diffs = changes(twelve_long_months, [], ABSENT_TWELVE_MONTHS)
    months = month_change(diffs, "possible_minutes")
    assert months == [MAX_MONTH_MINUTES] * 8 + [7_560] + [0] * 3
    assert month_change(diffs) == months and sum(months) == MAX_YEAR_MINUTES
    check({k: v for k, v in diffs.items() if k[1].startswith("month")})


def test_planted_bug_forgetting_the_year_cap_over_months_fails(twelve_long_months, monkeypatch):
    real_statements = derive.statements

    def planted(name):
        out = real_statements(name)
        if name == "derive_pupil_month":
            old = ("least(before + month_possible, $max_year_minutes)\n"
                   "               - least(before, $max_year_minutes) AS possible")
            assert any(old in s for s in out)
            out = [s.replace(old, "month_possible + 0 * $max_year_minutes AS possible") for s in out]
        return out

    monkeypatch.setattr(derive, "statements", planted)
    diffs = changes(twelve_long_months, [], ABSENT_TWELVE_MONTHS)
    assert month_change(diffs, "possible_minutes") == [MAX_MONTH_MINUTES] * 12
    with pytest.raises(AssertionError):
        check({k: v for k, v in diffs.items() if k[1].startswith("month")})


# ── the empirical privacy audit on the joint reason table ─────────────────────────────────────

AUDIT_RHO, AUDIT_DELTA = Rho.of(1), 0.05


@functools.lru_cache(maxsize=None)
def claimed_epsilon(scale: float) -> float:
    """The exact (ε, δ) curve at Δ2 = 73,800 (a few seconds at this scale: computed once)."""
    return discrete_gaussian_epsilon(scale, MAX_YEAR_MINUTES, AUDIT_DELTA)


def audit_reasons(change: np.ndarray, draws: int, rho: Rho = AUDIT_RHO) -> tuple[float, float]:
    """ε lower bound (confidence 1 − 1e-3) for the joint reason table at one cell per reason,
    released on the real path (`add_noise` under the table's plan) `draws` times on two
    neighbours: without the pupil (zeros) and with it (`change`). The test statistic is the
    projection of the noisy cells on the change (integer weights ``change / gcd``), the most
    powerful one for a Gaussian; cells where the change is 0 carry independent noise that it
    ignores, so only the others are drawn. The claim held against is the exact ε of the
    one-cell discrete Gaussian at Δ2 = 73,800: the privacy loss of any change within the joint
    bound is at most that."""
    plan = plan_gaussian(REASON_BOUND, rho)
    support = np.flatnonzero(change)
    weights = change[support] // np.gcd.reduce(change[support])

    def statistic(values: np.ndarray) -> np.ndarray:
        noisy = add_noise(np.tile(values, draws), plan).reshape(draws, len(support))
        return noisy @ weights

    out_b = statistic(np.zeros(len(support), dtype=np.int64))
    out_a = statistic(change[support].astype(np.int64))
    claimed = claimed_epsilon(plan.scale)
    shift = int(change[support] @ weights)
    thresholds = default_thresholds(0, shift, plan.scale * float(np.sqrt(weights @ weights)))
    eps, _ = epsilon_lower_bound(out_a, out_b, thresholds, AUDIT_DELTA, 1e-3)
    return eps, claimed


@pytest.mark.slow
def test_the_joint_reason_table_passes_the_privacy_audit(con):
    """The pupils whose reasons really come out of the SQL at the joint extreme (all in one
    reason; over-recorded in every reason, which the clamps put all in sick): at or below the
    claim, and the audit sees most of it (it has teeth)."""
    for kind in ("all_in_one_reason", "over_recorded_in_every_reason"):
        change = reason_change(changes(con, [], EXTREMES[kind]), "country")
        eps, claimed = audit_reasons(change, draws=50_000)
        assert eps <= claimed, (kind, eps, claimed)
        assert eps > 0.5 * claimed, (kind, eps, claimed)


@pytest.mark.slow
def test_the_audit_catches_reasons_clamped_on_their_own():
    """With the old per-reason clamps the over-recorded pupil adds 73,800 to every reason
    (test_planted_bug_clamping_each_reason_on_its_own_fails): the audit finds ε above the claim."""
    eps, claimed = audit_reasons(np.full(len(REASONS), MAX_YEAR_MINUTES), draws=10_000)
    assert eps > claimed, (eps, claimed)
