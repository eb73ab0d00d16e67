"""A tiny hand-made register (four schools, two holiday regions, 50 and 55 school days) and
pupil data inserted straight into the tables, for the derive, catalogue, month and
neighbouring-dataset tests (`make_register`, `Data`, `tiny_dataset`)."""

from __future__ import annotations

import datetime as dt

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
