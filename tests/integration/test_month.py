"""The month dimension of ad-hoc queries: keys from the public calendar (every month, zeros
included), monthly measures against hand-computed values, year-only measures refused by month,
per-pupil month bounds in SQL, and neighbouring datasets: removing one pupil changes every
month-grouped total by at most the sensitivity `privacy.bounds.sensitivity` derives from the
query's bound spec (one cell per selected month). Two planted bugs (the month cap forgotten in
the bound, the per-cell clamps dropped from the SQL) are shown to fail these checks.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec, sensitivity
from privacy.budget import Rho
from privacy.mechanisms import plan_gaussian
from service.api.app import create_app
from service.api.auth import create_key
from service.db import connect
from service.ingest.derive import CalendarExceedsBound, rebuild
from service.register.calendar import calendar_frame, school_days
from service.register.dimensions import CatalogueError
from service.releases import aggregate
from service.releases.aggregate import grouped_totals
from service.releases.catalogue import (
    MAX_MONTH_MINUTES,
    MAX_MONTHS,
    MAX_YEAR_MINUTES,
    MEASURES,
    MONTH_TOTALS,
    REASONS,
    TOTALS,
    catalogue_document,
    table_bound,
    validate_query,
)
from service.releases.queries import dry_run, plan_query
from support.derive_data import SCHOOLS, YEAR, Data, make_register, tiny_dataset
from support.neighbours import build as build_dataset

CALENDAR_MONTHS = [f"2025-{m:02d}" for m in range(8, 13)] + [f"2026-{m:02d}" for m in range(1, 8)]
YEAR_ONLY = ("long_term_count", "signal16_count")


# ── the tiny dataset of test_derive (its calendar: Sep–Nov 2025) ─────────────────────────────

@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("month_tiny") / "t.duckdb")
    make_register(con)
    tiny_dataset(con)
    summary = rebuild(con, YEAR)
    yield con, summary
    con.close()


def test_month_keys_come_from_the_calendar_and_totals_match_hand_values(tiny):
    con, summary = tiny
    # one row per pupil and month: 8 pupils × 3 months, less 'late' (enrolled from October)
    assert summary.pupil_months == 23 and "23 pupil-months" in str(summary)
    g = grouped_totals(con, YEAR, ["month"], {})
    assert [k[0] for k in g.keys] == ["2025-09", "2025-10", "2025-11"]
    assert [n[0] for n in g.key_names] == ["september 2025", "oktober 2025", "november 2025"]
    v = {name: list(t.values) for name, t in g.totals.items()}
    assert set(v) == set(MONTH_TOTALS)
    # midden: Sep 22, Oct 18, Nov 10 school days of 300 min; noord: 22, 23, 10 of 360
    assert v["enrolled"] == [7, 8, 8]
    assert v["possible_minutes"] == [5 * 6600 + 2 * 7920, 5 * 5400 + 7200 + 2 * 8280,
                                     5 * 3000 + 3 * 3600]
    # allday every day; mover 300+150 in Sep; half 150; over 3 days capped at 300; signal
    # 3×360 (Sep); nosignal 3×300 in Sep, 300 in Oct; late 10×30 in Oct; run 15 days in Oct,
    # 5 days + 150 in Nov
    assert v["absent_minutes"] == [6600 + 450 + 150 + 900 + 1080 + 900, 5400 + 300 + 300 + 4500,
                                   3000 + 1650]
    assert v["unauthorised_minutes"] == [150 + 1080 + 900, 300, 0]
    # chronic: Sep allday, over, signal, nosignal; Oct/Nov allday, run. severe: allday (+ run)
    assert v["chronic"] == [4, 2, 2] and v["severe"] == [1, 2, 2]
    assert [sum(v[f"band_{k}"][i] for k in range(5)) for i in range(3)] == v["enrolled"]
    # the months add up to the year here (nobody moves between holiday regions)
    year = grouped_totals(con, YEAR, [], {})
    for name in ("possible_minutes", "absent_minutes", *(f"{r}_minutes" for r in REASONS)):
        assert sum(v[name]) == year.totals[name].values[0], name


def test_monthly_rates_are_ratios_of_monthly_totals(tiny):
    con, _ = tiny
    g = grouped_totals(con, YEAR, ["month"], {})
    totals = {n: t.values for n, t in g.totals.items()}
    rate = MEASURES["absence_rate"].evaluate(totals)
    assert rate[2] == pytest.approx(4650 / 25800)
    assert MEASURES["chronic_share"].evaluate(totals)[0] == pytest.approx(4 / 7)


def test_a_one_month_filter_reads_that_month_only(tiny):
    con, _ = tiny
    by_month = grouped_totals(con, YEAR, ["school", "month"], {})
    october = grouped_totals(con, YEAR, ["school"], {"month": "2025-10"})
    assert [k[0] for k in october.keys] == sorted(s[0] for s in SCHOOLS)
    cells = dict(zip(by_month.keys, by_month.totals["absent_minutes"].values))
    assert list(october.totals["absent_minutes"].values) == [
        cells[(s[0], "2025-10")] for s in sorted(SCHOOLS)]
    assert october.totals["enrolled"].bound == BoundSpec(0, 1, max_cells=1)
    two = grouped_totals(con, YEAR, ["month"], {"month": ["2025-11", "2025-10"]})
    assert [k[0] for k in two.keys] == ["2025-10", "2025-11"]
    assert two.totals["absent_minutes"].bound == BoundSpec(0, MAX_MONTH_MINUTES, max_cells=2,
                                                           total_cap=MAX_YEAR_MINUTES)


def test_derive_clamps_the_month(tiny):
    con, _ = tiny
    worst = con.execute(
        "SELECT max(possible_minutes), min(possible_minutes), "
        " max(greatest(absent_minutes, sick_minutes, authorised_minutes, unauthorised_minutes, "
        "              late_minutes, suspended_minutes) - possible_minutes) FROM pupil_month").fetchone()
    assert worst[0] <= MAX_MONTH_MINUTES and worst[1] > 0 and worst[2] <= 0
    # 'over' has two overlapping enrolments at midden schools: September is still one month
    # of its main school (22 days × 300), not two
    assert con.execute("SELECT max(possible_minutes) FROM pupil_month WHERE school_id = '01AA00' "
                       "AND month = '2025-09'").fetchone()[0] == 22 * 300


def test_a_calendar_month_longer_than_the_bound_is_refused(tmp_path):
    con = connect(tmp_path / "c.duckdb")
    make_register(con)                     # midden: 10 school days in November, up to the 14th
    weekend_too = [dt.date(2025, 11, d) for d in range(15, 31)]
    con.executemany("INSERT INTO calendar_day VALUES (?, 'midden', ?, ?, 12, 2025, 47)",
                    [(YEAR, d, 51 + i) for i, d in enumerate(weekend_too)])
    with pytest.raises(CalendarExceedsBound) as err:
        rebuild(con, YEAR)
    assert err.value.month == "2025-11" and err.value.days == 26
    con.close()


# ── validation ───────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("measure", YEAR_ONLY)
def test_a_year_only_measure_by_month_is_refused_naming_the_field(measure):
    with pytest.raises(CatalogueError) as err:
        validate_query(measure, ["province", "month"], {})
    assert err.value.field == "group_by" and measure in err.value.message
    assert "per school year only" in err.value.message
    with pytest.raises(CatalogueError) as err:
        validate_query(measure, ["province"], {"month": "2025-10"})
    assert err.value.field == "filters.month"


def test_monthly_and_year_only_measures_are_declared():
    monthly = {m.name for m in MEASURES.values() if m.monthly}
    assert monthly == set(MEASURES) - set(YEAR_ONLY)
    assert {"enrolled", "absence_rate", "absence_rate_sick", "chronic_count", "chronic_share",
            "severe_count", "severe_share"} <= monthly
    assert set(MONTH_TOTALS) == set(TOTALS) - {"long_term", "signal16"}
    doc = catalogue_document()
    periods = {m["name"]: m["periods"] for m in doc["measures"]}
    assert periods["long_term_count"] == ["school_year"]
    assert periods["absence_rate"] == ["school_year", "month"]
    assert "month" in {d["name"] for d in doc["dimensions"]}
    assert doc["bounds"]["max_months"] == MAX_MONTHS


def test_several_months_without_grouping_by_month_are_refused(tiny):
    with pytest.raises(CatalogueError) as err:
        validate_query("absence_rate", ["province"], {"month": ["2025-10", "2025-11"]})
    assert err.value.field == "filters.month"
    with pytest.raises(CatalogueError):           # the aggregate refuses it on its own too
        grouped_totals(tiny[0], YEAR, [], {"month": ["2025-10", "2025-11"]})


@pytest.mark.parametrize("value", ["2025-12", "2025-13", "2026-01"])
def test_a_month_outside_the_calendar_is_refused_without_echo(tiny, value):
    with pytest.raises(CatalogueError) as err:
        grouped_totals(tiny[0], YEAR, ["month"], {"month": [value]})
    assert err.value.field == "filters.month" and value not in str(err.value)


def test_the_bound_is_derived_from_the_months_selected():
    """One cell per selected month; the sensitivity comes only from privacy.bounds."""
    assert table_bound("enrolled", ("month",), ()) == BoundSpec(0, 1, max_cells=MAX_MONTHS)
    assert table_bound("absent_minutes", ("school",), (("month", ("2025-10",)),)) == \
        BoundSpec(0, MAX_MONTH_MINUTES, max_cells=1, total_cap=MAX_YEAR_MINUTES)
    # all twelve months: the year's cap binds (8 full months and 7,560 minutes: Δ2 ≈ 24,609)
    year = sensitivity(table_bound("absent_minutes", ("month",), ()))
    assert (year.l1, round(year.l2)) == (MAX_YEAR_MINUTES, 24_609)
    assert table_bound("enrolled", ("school",), ()) == TOTALS["enrolled"].bound
    spec = validate_query("chronic_share", ["month"], {})
    plan = plan_query(spec, rho=Rho.of("0.01"))
    expected = plan_gaussian(BoundSpec(0, 1, max_cells=MAX_MONTHS), Rho.of("0.005"))
    assert {e["half_width_95"] for e in plan.expected()} == {expected.radius(0.05)}
    assert {e["cells_per_pupil"] for e in plan.expected()} == {MAX_MONTHS}
    assert sensitivity(spec.bound("chronic")).l1 == MAX_MONTHS


def test_the_real_calendar_has_school_days_in_every_month_of_the_year():
    """MAX_MONTHS = 12 is tight: 2025-2026 has school days in all twelve months."""
    frame = calendar_frame(YEAR)
    months = sorted({d.strftime("%Y-%m") for d in frame["day"]})
    assert months == CALENDAR_MONTHS and len(months) == MAX_MONTHS


# ── neighbouring datasets on the tiny register with the real calendar (12 months) ────────────

SCHOOL_IDS = [s[0] for s in SCHOOLS]
REGION = {s[0]: s[6] for s in SCHOOLS}
DAYS = {r: school_days(YEAR, r) for r in ("midden", "noord")}
MUNICIPALITIES = ["GM0001", "GM0002", "GM0003", "GM0004"]
GROUPINGS = [(["month"], {}), (["month", "school"], {}), (["residence", "month", "grade_band"], {}),
             (["sector", "month"], {}), (["school"], {"month": "2025-10"}),
             (["month"], {"month": ["2025-12", "2026-01"]}), ([], {"month": "2025-08"})]

enrolment = st.tuples(st.integers(0, 2), st.integers(0, 199), st.integers(0, 199))
absence = st.tuples(st.integers(0, 199), st.sampled_from([30, 60, 150, 300, 360, 600]),
                    st.sampled_from(REASONS), st.integers(0, 2))
pupil = st.fixed_dictionaries({"enrolments": st.lists(enrolment, min_size=1, max_size=2),
                               "absences": st.lists(absence, max_size=12),
                               "grade": st.integers(1, 8),
                               "residence": st.sampled_from(MUNICIPALITIES)})


def day(school: int, index: int) -> dt.date:
    days = DAYS[REGION[SCHOOL_IDS[school]]]
    return days[min(index, len(days) - 1)]


def everywhere() -> dict:
    """Enrolled all year at a noord VO school and (overlapping) a midden PO school, absent
    (over-recorded) every school day of both: every month cell at its maximum."""
    return {"enrolments": [(2, 0, 199), (0, 0, 199)], "grade": 3, "residence": "GM0004",
            "absences": [(i, 360, r, s) for s in (2, 0) for i in range(200)
                         for r in ("sick", "late")]}


def mover() -> dict:
    """From a noord school (August) to a midden school in October."""
    return {"enrolments": [(2, 0, 30), (1, 20, 199)], "grade": 6, "residence": "GM0002",
            "absences": [(i, 300, "unauthorised", 2) for i in range(5, 25)]
            + [(i, 300, "sick", 1) for i in range(30, 90, 3)]}


TARGETS = {"everywhere": st.just(everywhere()), "mover": st.just(mover()), "random": pupil}


def insert(data: Data, key: str, p: dict) -> None:
    for school, a, b in p["enrolments"]:
        data.enrol(key, SCHOOL_IDS[school], day(school, min(a, b)), day(school, max(a, b)),
                   grade=p["grade"], residence=p["residence"])
    rows = pd.DataFrame([(data.batch(SCHOOL_IDS[school]), SCHOOL_IDS[school], YEAR, key,
                          day(school, index), minutes, reason)
                         for index, minutes, reason, school in p["absences"]],
                        columns=["b", "s", "y", "k", "d", "m", "r"])
    if len(rows):          # one insert (executemany of hundreds of rows is slow)
        data.con.register("absence_rows", rows)
        data.con.execute("INSERT INTO absence SELECT * FROM absence_rows")
        data.con.unregister("absence_rows")


def month_vectors(con) -> dict[tuple[str, int], tuple[np.ndarray, BoundSpec]]:
    """Every monthly total in every grouping, with the bound the aggregate carries."""
    out = {}
    for i, (group, filters) in enumerate(GROUPINGS):
        g = grouped_totals(con, YEAR, group, filters)
        for name, total in g.totals.items():
            out[(name, i)] = (total.values, total.bound)
    return out


def build(con, others: list[dict], target: dict | None) -> dict:
    return build_dataset(con, others, target, put=insert, read=month_vectors)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    con = connect(tmp_path_factory.mktemp("month_neighbours") / "n.duckdb")
    make_register(con)
    con.execute("DELETE FROM calendar_day")
    frame = calendar_frame(YEAR)
    con.register("frame", frame)
    con.execute("INSERT INTO calendar_day SELECT school_year, holiday_region, day, day_index, "
                "week_index, iso_year, iso_week FROM frame")
    con.unregister("frame")
    yield con
    con.close()


def check_neighbours(con, others: list[dict], target: dict) -> None:
    with_pupil = build(con, others, target)
    without = build(con, others, None)
    assert with_pupil.keys() == without.keys()
    for (name, i), (a, bound) in with_pupil.items():
        group, filters = GROUPINGS[i]
        assert bound == without[(name, i)][1]
        diff = a - without[(name, i)][0]
        m = max(abs(bound.lower), abs(bound.upper))
        sens = sensitivity(bound)
        assert int(np.abs(diff).max(initial=0)) <= m, (name, group, filters)        # per cell
        assert int(np.count_nonzero(diff)) <= bound.max_cells, (name, group, filters)
        assert int(np.abs(diff).sum()) <= sens.l1, (name, group, filters)
        assert int((diff * diff).sum()) <= Fraction(sens.l2) ** 2, (name, group, filters)


@pytest.mark.parametrize("kind", list(TARGETS))
def test_one_pupil_changes_each_monthly_total_by_at_most_its_sensitivity(real, kind):
    @settings(max_examples=4, deadline=None, derandomize=True,   # no shrinking: a failure
              phases=[Phase.explicit, Phase.generate],          # is shown as found, fast
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(others=st.lists(pupil, max_size=4), target=TARGETS[kind])
    def run(others, target):
        check_neighbours(con=real, others=others, target=target)

    run()


def test_the_month_keys_and_the_bound_are_tight(real):
    """Every calendar month is a key, zeros included (the midden school has no school day in
    August); the pupil present all year touches all 12 month cells: Δ1 of 'enrolled' by month
    is attained."""
    with_pupil = build(real, [mover()], everywhere())
    g = grouped_totals(real, YEAR, ["month"], {"school": "02BB00"})      # the mover's main school
    assert [k[0] for k in g.keys] == CALENDAR_MONTHS
    assert list(g.totals["enrolled"].values) == [0] + [1] * (MAX_MONTHS - 1)
    without = build(real, [mover()], None)
    enrolled = with_pupil[("enrolled", 0)][0] - without[("enrolled", 0)][0]
    assert list(enrolled) == [1] * MAX_MONTHS == [1] * len(CALENDAR_MONTHS)
    assert int(enrolled.sum()) == sensitivity(with_pupil[("enrolled", 0)][1]).l1
    # absent every school day: absent = possible in every month, within the per-cell bound
    absent = with_pupil[("absent_minutes", 0)][0] - without[("absent_minutes", 0)][0]
    possible = with_pupil[("possible_minutes", 0)][0] - without[("possible_minutes", 0)][0]
    assert list(absent) == list(possible) and 0 < absent.min() and absent.max() <= MAX_MONTH_MINUTES
    assert absent.max() == 22 * 360                    # its noord VO school: 22 days at most


def test_planted_bug_forgetting_the_month_cap_fails(real, monkeypatch):
    """If the bound forgot that a pupil is in one cell per month (max_cells 1), the
    neighbour check must catch it."""
    def forgetful(total, group_by, filters):
        b = table_bound(total, group_by, filters)
        return BoundSpec(b.lower, b.upper, max_cells=1)

    monkeypatch.setattr(aggregate, "table_bound", forgetful)
    with pytest.raises(AssertionError):
        check_neighbours(real, [], mover())


CORRUPT_ROW = ("INSERT INTO pupil_month (school_year, month, school_id, grade_band, residence_code, "
               "possible_minutes, absent_minutes, sick_minutes, authorised_minutes, "
               "unauthorised_minutes, late_minutes, suspended_minutes, chronic, severe, band) "
               "VALUES (?, '2025-10', '01AA00', 'po_onder', 'GM0001', 2000000, 9000000, 9000000, "
               "-5, 9000000, 9000000, 9000000, true, true, 9)")


def out_of_bounds(con) -> list[str]:
    """Totals of a one-pupil table whose cells leave the declared per-cell bound."""
    build(con, [], None)
    con.execute(CORRUPT_ROW, [YEAR])
    try:
        g = grouped_totals(con, YEAR, ["month"], {})
    finally:
        con.execute("DELETE FROM pupil_month")
    bad = [n for n, t in g.totals.items()
           if not (t.bound.lower <= t.values.min() and t.values.max() <= t.bound.upper)]
    if sum(g.totals[f"band_{k}"].values.sum() for k in range(5)) != 1:
        bad.append("band")
    return bad


def test_aggregation_clamps_even_a_corrupt_pupil_month(real):
    assert out_of_bounds(real) == []


def test_planted_bug_dropping_the_month_clamps_fails(real, monkeypatch):
    text = aggregate._contributions("month")
    planted = (text.replace("least(greatest(pm.possible_minutes, 0), $max_month_minutes)",
                            "pm.possible_minutes + 0 * $max_month_minutes")
               .replace("least(greatest(pm.absent_minutes, 0), p.possible)", "pm.absent_minutes"))
    assert planted != text
    monkeypatch.setattr(aggregate, "_contributions", lambda period="school_year": planted)
    assert {"possible_minutes", "absent_minutes"} <= set(out_of_bounds(real))


# ── ad-hoc queries over HTTP on the synthetic Netherlands ───────────────────────────────────

@pytest.fixture(scope="module")
def client(synthetic_nl):
    con, settings_ = synthetic_nl
    secret = create_key(con, settings_, "researcher", "month-a", "test")[1]
    with TestClient(create_app(settings_)) as c:
        c.headers.update({"X-API-Key": secret})
        yield c


def test_group_by_month_returns_every_calendar_month(client):
    body = {"measure": "absence_rate", "group_by": ["month"], "budget": {"rho": "0.01"}}
    dry = client.post("/v1/queries", json={**body, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["cells"] == len(CALENDAR_MONTHS)
    expected = plan_gaussian(BoundSpec(0, MAX_MONTH_MINUTES, max_cells=MAX_MONTHS,
                                       total_cap=MAX_YEAR_MINUTES), Rho.of("0.005"))
    assert {e["half_width_95"] for e in dry.json()["expected"]} == {expected.radius(0.05)}
    uncapped = plan_gaussian(BoundSpec(0, MAX_MONTH_MINUTES, max_cells=MAX_MONTHS), Rho.of("0.005"))
    assert expected.scale < 0.86 * uncapped.scale       # 24,609 / 28,683 = 0.858
    r = client.post("/v1/queries", json=body)
    assert r.status_code == 201, r.text
    columns = r.json()["columns"]
    rows = [dict(zip(columns, row)) for row in r.json()["rows"]]
    assert [row["area_code"] for row in rows] == CALENDAR_MONTHS
    assert all(row["level"] == "month" and row["unit"] == "rate" for row in rows)


def test_a_month_filter_over_http_costs_one_cell_per_pupil(client):
    body = {"measure": "chronic_count", "group_by": ["province"], "filters": {"month": ["2026-02"]},
            "budget": {"rho": "0.01"}, "dry_run": True}
    dry = client.post("/v1/queries", json=body)
    assert dry.status_code == 200, dry.text
    expected = plan_gaussian(BoundSpec(0, 1, max_cells=1), Rho.of("0.01"))
    assert dry.json()["expected"][0]["half_width_95"] == expected.radius(0.05)
    assert dry.json()["expected"][0]["cells_per_pupil"] == 1


@pytest.mark.parametrize("body, field", [
    ({"measure": "long_term_count", "group_by": ["month"]}, "group_by"),
    ({"measure": "signal16_count", "group_by": ["province"], "filters": {"month": ["2025-10"]}},
     "filters.month"),
    ({"measure": "absence_rate", "filters": {"month": ["2025-10", "2025-11"]}}, "filters.month"),
    ({"measure": "absence_rate", "group_by": ["month"], "filters": {"month": ["2024-10"]}},
     "filters.month"),
])
def test_refused_month_queries_are_a_400_naming_the_field(client, body, field):
    r = client.post("/v1/queries", json={**body, "budget": {"rho": "0.01"}})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e.get("field") == field for e in r.json()["errors"]), r.json()


def test_catalog_lists_the_month_dimension(client):
    doc = client.get("/v1/catalog").json()
    month = next(d for d in doc["dimensions"] if d["name"] == "month")
    assert "calendar" in month["keys"]
    assert {m["name"] for m in doc["measures"] if "month" not in m["periods"]} == set(YEAR_ONLY)


def test_synthetic_months_cover_the_calendar(synthetic_nl):
    con, _ = synthetic_nl
    rows, months = con.execute("SELECT count(*), count(DISTINCT month) FROM pupil_month "
                               "WHERE school_year = ?", [YEAR]).fetchone()
    assert months == MAX_MONTHS
    pupils = con.execute("SELECT count(*) FROM pupil_year WHERE school_year = ?", [YEAR]).fetchone()[0]
    assert pupils < rows <= pupils * MAX_MONTHS
    assert dry_run(con, dataset=YEAR, measure="severe_share", group_by=["month", "sector"],
                   filters={}, rho=Rho.of("0.02"))["cells"] == MAX_MONTHS * 5
