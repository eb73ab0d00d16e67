"""A tiny hand-made register (two schools, September 2025 as the only school days) and
helpers to write upload files, for ingest tests that must not depend on the full register."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from service.ingest.batches import UploadFile

SCHOOL_PO = "12AB00"
SCHOOL_VO = "34CD01"
FIRST_DAY = date(2025, 9, 1)


def valid_bsn(seed: int) -> str:
    """A 9-digit number passing the 11-test, different for each seed."""
    n = 100_000_000 + seed * 1000
    while True:
        digits = [int(c) for c in f"{n:09d}"]
        total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8])) - digits[8]
        if total % 11 == 0:
            return f"{n:09d}"
        n += 1


def school_days() -> list[date]:
    days, d = [], FIRST_DAY
    while d < date(2025, 10, 1):
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def load_tiny_register(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO area VALUES ('country','NL','Nederland',NULL,NULL),"
                "('province','PV27','Noord-Holland','country','NL'),"
                "('municipality','GM0363','Amsterdam','province','PV27'),"
                "('municipality','GM0362','Amstelveen','province','PV27'),"
                "('rmc','MC21','Agglomeratie Amsterdam','country','NL'),"
                "('swv_po','PO2701','SWV PO Amsterdam','country','NL'),"
                "('swv_vo','VO2701','SWV VO Amsterdam','country','NL')")
    con.execute(f"INSERT INTO school VALUES ('{SCHOOL_PO}','Basisschool De Regenboog','PO',"
                "'GM0363','PV27','MC21','PO2701','noord'),"
                f"('{SCHOOL_VO}','Stedelijk College','VO','GM0363','PV27','MC21','VO2701','noord')")
    con.execute("INSERT INTO sector_day VALUES ('PO',300),('SBO',300),('SO',300),('VSO',360),('VO',360)")
    con.execute("INSERT INTO school_year VALUES ('2025-2026', DATE '2025-08-01', DATE '2026-07-31')")
    for i, d in enumerate(school_days(), start=1):
        iso = d.isocalendar()
        con.execute("INSERT INTO calendar_day VALUES ('2025-2026','noord',?,?,?,?,?)",
                    [d, i, (i - 1) // 5 + 1, iso.year, iso.week])


def csv(rows: list[list[object]], header: list[str]) -> bytes:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


ENROL_HEADER = ["pupil_number", "birth_year", "grade", "residence_municipality",
                "enrolled_from", "enrolled_to"]
ABSENCE_HEADER = ["pupil_number", "date", "hours", "reason"]


A, B, C = valid_bsn(1), valid_bsn(2), valid_bsn(3)


def good_enrolments() -> list[list]:
    return [[A, 2017, 3, "GM0363", "2025-09-01", None],
            [B, 2016, 4, "GM0362", "2025-09-01", "2025-09-15"],
            [C, 2018, 2, "GM0363", "2025-09-08", ""]]


def good_absences() -> list[list]:
    return [[A, "2025-09-02", 5, "sick"], [A, "2025-09-03", "2.5", "authorised"],
            [A, "2025-09-03", "2.5", "unauthorised"], [B, "2025-09-03", "0.25", "late"],
            [C, "2025-09-10", "1", "suspended"]]


def batch(enrol=None, absent=None, names=("enrolments.csv", "absences.csv")) -> list[UploadFile]:
    e = csv(good_enrolments() if enrol is None else enrol, ENROL_HEADER)
    a = csv(good_absences() if absent is None else absent, ABSENCE_HEADER)
    return [UploadFile(names[0], e), UploadFile(names[1], a)]
