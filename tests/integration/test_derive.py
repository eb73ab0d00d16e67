"""Derived per-pupil tables against hand-computed values on a tiny hand-made register.

The tiny register and its pupils come from tests/support/derive_data.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from service.db import connect
from service.ingest.derive import CalendarExceedsBound, ensure_tables, rebuild
from service.releases.catalogue import MAX_SCHOOL_DAYS, MAX_WEEK_MINUTES, MAX_YEAR_MINUTES
from support.derive_data import MIDDEN, YEAR, Data, make_register, tiny_dataset


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "derive.duckdb")
    make_register(con)
    yield con
    con.close()


@pytest.fixture
def derived(con):
    tiny_dataset(con)
    summary = rebuild(con, YEAR)
    return con, summary


def pupil(con, key: str) -> dict:
    cur = con.execute("SELECT * FROM pupil_year WHERE pupil_key = ?", [key])
    names = [c[0] for c in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0]))


def test_summary_counts_pupils_and_weeks(derived):
    con, summary = derived
    assert summary.pupils == 8
    assert summary.pupil_weeks == con.execute("SELECT count(*) FROM pupil_week").fetchone()[0]
    assert "8 pupil-years" in str(summary)


def test_mover_counts_once_at_main_school_with_all_absences(derived):
    p = pupil(derived[0], "mover")
    assert (p["school_id"], p["sector"], p["grade"], p["grade_band"]) == ("02BB00", "PO", 5, "po_midden")
    assert p["possible_minutes"] == 50 * 300 and p["n_schools"] == 2
    assert (p["absent_minutes"], p["sick_minutes"], p["unauthorised_minutes"]) == (450, 300, 150)
    assert p["longest_absent_run"] == 1 and not p["chronic"] and p["band"] == 0


def test_absent_every_day(derived):
    p = pupil(derived[0], "allday")
    assert p["possible_minutes"] == p["absent_minutes"] == 15000
    assert p["longest_absent_run"] == 50 and p["long_term"]
    assert p["chronic"] and p["severe"] and p["band"] == 4


def test_late_enrolment_and_late_reason(derived):
    p = pupil(derived[0], "late")
    assert p["possible_minutes"] == 30 * 360 and p["grade_band"] == "vo_onder"
    assert p["late_minutes"] == p["absent_minutes"] == 300
    assert p["band"] == 0 and not p["signal16"]


def test_signal16(derived):
    p = pupil(derived[0], "signal")
    assert p["signal16"] and p["signal16_weeks"] == 2     # windows ending in weeks 3 and 4
    q = pupil(derived[0], "nosignal")
    assert q["unauthorised_minutes"] == 1200 and not q["signal16"] and q["signal16_weeks"] == 0


def test_four_week_run_across_a_holiday(derived):
    p = pupil(derived[0], "run")
    assert p["longest_absent_run"] == 20 and p["long_term"]
    assert p["absent_minutes"] == 20 * 300 + 150
    assert (p["authorised_minutes"], p["sick_minutes"]) == (6000, 150)
    assert p["chronic"] and not p["severe"] and p["band"] == 3   # 41 %
    assert p["grade_band"] == "po_boven"


def test_half_day(derived):
    p = pupil(derived[0], "half")
    assert p["absent_minutes"] == 150 and p["longest_absent_run"] == 0
    assert p["grade_band"] == "po_onder"


def test_clamps_hold(derived):
    con = derived[0]
    p = pupil(con, "over")
    assert p["possible_minutes"] == 15000                 # two overlapping enrolments
    assert p["absent_minutes"] == 900                     # 3 days of 600 recorded, capped at 300
    assert (p["sick_minutes"], p["unauthorised_minutes"]) == (900, 0)
    worst = con.execute(
        "SELECT max(possible_minutes), "
        " max(greatest(absent_minutes, sick_minutes, authorised_minutes, unauthorised_minutes,"
        "              late_minutes, suspended_minutes) - possible_minutes),"
        " max(longest_absent_run), count(*) - count(DISTINCT pupil_key) FROM pupil_year").fetchone()
    assert worst[0] <= MAX_YEAR_MINUTES and worst[1] <= 0 and worst[2] <= MAX_SCHOOL_DAYS
    assert worst[3] == 0
    week = con.execute("SELECT max(possible_minutes), max(absent_minutes - possible_minutes), "
                       "max(unauthorised_minutes - absent_minutes), min(possible_minutes) "
                       "FROM pupil_week").fetchone()
    assert week[0] <= MAX_WEEK_MINUTES and week[1] <= 0 and week[2] <= 0 and week[3] > 0


def test_replaced_batches_do_not_count(derived):
    con = derived[0]
    assert con.execute("SELECT count(*) FROM pupil_year WHERE pupil_key = 'ghost'").fetchone()[0] == 0


def test_pupil_week(derived):
    con = derived[0]
    rows = con.execute("SELECT week_index, school_id, possible_minutes, absent_minutes, "
                       "unauthorised_minutes, iso_week FROM pupil_week WHERE pupil_tag = 'mover' "
                       "ORDER BY week_index").fetchall()
    assert [r[0] for r in rows] == list(range(1, 11))
    assert {r[1] for r in rows} == {"02BB00"}             # the main school in every week
    assert all(r[2] == 1500 for r in rows)
    assert rows[0][3] == 300 and rows[3][3:5] == (150, 150)
    assert rows[0][5] == 36
    late = con.execute("SELECT min(week_index), count(*), sum(possible_minutes) FROM pupil_week "
                       "WHERE pupil_tag = 'late'").fetchone()
    assert late == (6, 6, 30 * 360)


def test_rebuild_replaces_the_year(derived):
    con = derived[0]
    more = Data(con)        # a new batch with one more day (absences come with an enrolment)
    more.enrol("half", "01AA00", grade=1)
    more.absent("half", "01AA00", [MIDDEN[3]], 300)
    con.execute("UPDATE batch SET status = 'replaced' WHERE school_id = '03CC00'")
    summary = rebuild(con, YEAR)
    assert summary.pupils == 5
    assert pupil(con, "half")["absent_minutes"] == 450
    assert con.execute("SELECT count(*) FROM pupil_week WHERE pupil_tag = 'late'").fetchone()[0] == 0


def test_calendar_longer_than_the_bound_is_refused(con):
    con.execute("DELETE FROM calendar_day")
    con.executemany("INSERT INTO calendar_day VALUES (?, 'midden', ?, ?, ?, 2025, 1)",
                    [(YEAR, dt.date(2025, 8, 1) + dt.timedelta(days=i), i + 1, i // 5 + 1)
                     for i in range(MAX_SCHOOL_DAYS + 1)])
    with pytest.raises(CalendarExceedsBound) as err:
        rebuild(con, YEAR)
    assert err.value.days == MAX_SCHOOL_DAYS + 1


def test_absence_thresholds_at_their_exact_boundaries(tmp_path):
    """chronic >= 10 %, severe >= 50 %, bands 0-5, 5-10, 10-20, 20-50, >= 50 % (docs/catalogue.md),
    one definition (sql/derive_tables.sql) for the yearly and the monthly tables."""
    con = connect(tmp_path / "t.duckdb")
    ensure_tables(con)
    cases = [(0, 0, False, False), (49, 0, False, False), (50, 1, False, False),
             (99, 1, False, False), (100, 2, True, False), (199, 2, True, False),
             (200, 3, True, False), (499, 3, True, False), (500, 4, True, True),
             (1000, 4, True, True)]
    for absent, band, chronic, severe in cases:  # of 1,000 possible minutes
        got = con.execute("SELECT absence_band(?, 1000), is_chronic(?, 1000), is_severe(?, 1000)",
                          [absent, absent, absent]).fetchone()
        assert got == (band, chronic, severe), (absent, got)
