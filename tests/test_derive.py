"""Derived per-pupil tables against hand-computed values on a tiny hand-made register.

The helpers here (`make_register`, `Data`) build the tiny register and pupil data straight in
SQL; tests/test_catalogue.py and tests/test_sensitivity_neighbours.py use them too.
"""

from __future__ import annotations

import datetime as dt

import pytest

from service.releases.catalogue import MAX_SCHOOL_DAYS, MAX_WEEK_MINUTES, MAX_YEAR_MINUTES
from service.db import connect
from service.ingest.derive import CalendarExceedsBound, ensure_tables, rebuild

YEAR = "2025-2026"
MONDAY = dt.date(2025, 9, 1)
SECTOR_MINUTES = {"PO": 300, "SBO": 300, "SO": 300, "VSO": 360, "VO": 360}
#: (school_id, sector, municipality, province, rmc, swv, holiday region)
SCHOOLS = [
    ("01AA00", "PO", "GM0001", "PV20", "MC01", "PO2001", "midden"),
    ("02BB00", "PO", "GM0002", "PV20", "MC01", "PO2001", "midden"),
    ("03CC00", "VO", "GM0003", "PV21", "MC02", "VO2001", "noord"),
    ("04DD00", "SO", "GM0001", "PV20", "MC01", "PO2001", "midden"),  # nobody enrolled
]
AREAS = [("country", "NL", "Nederland", None, None),
         ("province", "PV20", "Groningen", "country", "NL"),
         ("province", "PV21", "Fryslân", "country", "NL"),
         ("municipality", "GM0001", "Een", "province", "PV20"),
         ("municipality", "GM0002", "Twee", "province", "PV20"),
         ("municipality", "GM0003", "Drie", "province", "PV21"),
         ("municipality", "GM0004", "Vier", "province", "PV21"),  # no school
         ("rmc", "MC01", "RMC een", "country", "NL"),
         ("rmc", "MC02", "RMC twee", "country", "NL"),
         ("swv_po", "PO2001", "SWV PO een", "country", "NL"),
         ("swv_vo", "VO2001", "SWV VO een", "country", "NL")]


def school_days(region: str) -> list[dt.date]:
    """midden: 6 weeks from 1 Sep, a holiday week, 4 weeks (50 days); noord: 11 weeks (55)."""
    weeks = [w for w in range(11) if region != "midden" or w != 6]
    return [MONDAY + dt.timedelta(weeks=w, days=d) for w in weeks for d in range(5)]


def make_register(con) -> None:
    con.executemany("INSERT INTO area VALUES (?, ?, ?, ?, ?)", AREAS)
    con.executemany("INSERT INTO school VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(s[0], f"School {s[0]}", *s[1:]) for s in SCHOOLS])
    con.executemany("INSERT INTO sector_day VALUES (?, ?)", list(SECTOR_MINUTES.items()))
    con.execute("INSERT INTO school_year VALUES (?, DATE '2025-08-01', DATE '2026-07-31')", [YEAR])
    rows = []
    for region in ("midden", "noord"):
        for i, day in enumerate(school_days(region), start=1):
            week = (day - MONDAY).days // 7 + 1
            if region == "midden" and week > 7:
                week -= 1
            iso = day.isocalendar()
            rows.append((YEAR, region, day, i, week, iso[0], iso[1]))
    con.executemany("INSERT INTO calendar_day VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


class Data:
    """Pupil data inserted straight into enrolment/absence, one active batch per school."""

    def __init__(self, con) -> None:
        self.con = con
        self.batches: dict[tuple[str, str], int] = {}

    def batch(self, school: str, status: str = "active") -> int:
        key = (school, status)
        if key not in self.batches:
            batch_id = self.con.execute("SELECT nextval('batch_seq')").fetchone()[0]
            self.con.execute("INSERT INTO batch VALUES (?, ?, ?, now()::TIMESTAMP, 'x', 0, 0, ?, NULL)",
                             [batch_id, school, YEAR, status])
            self.batches[key] = batch_id
        return self.batches[key]

    def enrol(self, pupil: str, school: str, start: dt.date = dt.date(2025, 8, 1),
              end: dt.date = dt.date(2026, 7, 31), grade: int = 4, residence: str = "GM0001",
              status: str = "active") -> None:
        self.con.execute("INSERT INTO enrolment VALUES (?, ?, ?, ?, 2015, ?, ?, ?, ?)",
                         [self.batch(school, status), school, YEAR, pupil, grade, residence,
                          start, end])

    def absent(self, pupil: str, school: str, days, minutes: int, reason: str = "sick",
               status: str = "active") -> None:
        self.con.executemany("INSERT INTO absence VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(self.batch(school, status), school, YEAR, pupil, d, minutes, reason)
                              for d in days])


MIDDEN, NOORD = school_days("midden"), school_days("noord")


def tiny_dataset(con) -> None:
    """The hand-computed pupils of this file (midden: 50 days of 300 min = 15,000)."""
    d = Data(con)
    # a mover: 15 days at 01AA00, then 35 at 02BB00 (main); absences at both count
    d.enrol("mover", "01AA00", end=dt.date(2025, 9, 19))
    d.enrol("mover", "02BB00", start=dt.date(2025, 9, 22), grade=5)
    d.absent("mover", "01AA00", [dt.date(2025, 9, 2)], 300)
    d.absent("mover", "02BB00", [dt.date(2025, 9, 23)], 150, "unauthorised")
    # absent every school day
    d.enrol("allday", "01AA00")
    d.absent("allday", "01AA00", MIDDEN, 300)
    # enrolled late (from 6 Oct, 30 noord days of 360 min), late 30 min on 10 days
    d.enrol("late", "03CC00", start=dt.date(2025, 10, 6), grade=2)
    d.absent("late", "03CC00", NOORD[25:35], 30, "late")
    # 16-hour signal: 3 × 360 unauthorised in weeks 1–3
    d.enrol("signal", "03CC00", grade=5)
    d.absent("signal", "03CC00", [NOORD[0], NOORD[1], NOORD[10]], 360, "unauthorised")
    # 4 × 300 unauthorised spread over weeks 1, 4, 5, 6: at most 900 in any 4 weeks
    d.enrol("nosignal", "03CC00")
    d.absent("nosignal", "03CC00", [NOORD[0], NOORD[15], NOORD[20], NOORD[25]], 300, "unauthorised")
    # a run of 20 school days over the holiday week (midden days 26..45), then a half day
    d.enrol("run", "02BB00", grade=7)
    d.absent("run", "02BB00", MIDDEN[25:45], 300, "authorised")
    d.absent("run", "02BB00", [MIDDEN[46]], 150, "sick")
    # a half-day absence
    d.enrol("half", "01AA00", grade=1)
    d.absent("half", "01AA00", [MIDDEN[2]], 150)
    # over-recorded days and overlapping enrolments: the clamps must hold
    d.enrol("over", "01AA00")
    d.enrol("over", "02BB00")
    d.absent("over", "01AA00", MIDDEN[:3], 300, "sick")
    d.absent("over", "02BB00", MIDDEN[:3], 300, "unauthorised")
    # a replaced batch counts for nothing
    d.enrol("ghost", "02BB00", status="replaced")
    d.absent("ghost", "02BB00", MIDDEN[:5], 300, status="replaced")


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
                       "unauthorised_minutes, iso_week FROM pupil_week WHERE pupil_key = 'mover' "
                       "ORDER BY week_index").fetchall()
    assert [r[0] for r in rows] == list(range(1, 11))
    assert {r[1] for r in rows} == {"02BB00"}             # the main school in every week
    assert all(r[2] == 1500 for r in rows)
    assert rows[0][3] == 300 and rows[3][3:5] == (150, 150)
    assert rows[0][5] == 36
    late = con.execute("SELECT min(week_index), count(*), sum(possible_minutes) FROM pupil_week "
                       "WHERE pupil_key = 'late'").fetchone()
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
    assert con.execute("SELECT count(*) FROM pupil_week WHERE pupil_key = 'late'").fetchone()[0] == 0


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
