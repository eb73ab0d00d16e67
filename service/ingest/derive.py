"""Rebuild the derived per-pupil tables `pupil_year`, `pupil_week` and `pupil_month` for one
school year.

Pure SQL (sql/derive_prepare.sql, sql/derive_pupil_year.sql,
sql/derive_pupil_week.sql, sql/derive_pupil_month.sql) from the ACTIVE batches only. The
per-pupil clamps are applied in that SQL with the bounds declared in `service.ingest.bounds`
passed as parameters; the catalogue's `BoundSpec`s are built from the same constants, so the
sensitivity `privacy.bounds` derives holds for every aggregate over these tables. The summary returned holds counts of rows only, no pupil data. The statements run on the
engine in use (`service.engines.current`: DuckDB on `con` by default, or Spark); `con` itself
only serves the public calendar check.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

import sql
from service import db, engines
from service.db import run_statement as _run
from sql import statements
from service.ingest.bounds import MAX_MONTH_DAYS, MAX_MONTHS, MAX_SCHOOL_DAYS, derive_parameters

class CalendarExceedsBound(ValueError):
    """The calendar has more school days than the declared bound `MAX_SCHOOL_DAYS` (or, with
    `month`, more school days in one calendar month than `MAX_MONTH_DAYS`)."""

    def __init__(self, school_year: str, holiday_region: str, days: int,
                 month: str | None = None) -> None:
        self.school_year, self.holiday_region, self.days = school_year, holiday_region, days
        self.month = month
        where, bound = (f" in {month}", MAX_MONTH_DAYS) if month else ("", MAX_SCHOOL_DAYS)
        super().__init__(f"calendar {school_year} {holiday_region} has {days} school days{where}, "
                         f"more than the declared bound of {bound}")


class CalendarExceedsMonths(ValueError):
    """The calendar's school days fall in more calendar months than `MAX_MONTHS`."""

    def __init__(self, school_year: str, months: int) -> None:
        self.school_year, self.months = school_year, months
        super().__init__(f"calendar {school_year} has school days in {months} calendar months, "
                         f"more than the declared bound of {MAX_MONTHS}")


@dataclass(frozen=True)
class DeriveSummary:
    """Row counts of one rebuild (no pupil data)."""

    school_year: str
    pupils: int
    pupil_weeks: int
    pupil_months: int = 0

    def __str__(self) -> str:
        return (f"{self.pupils:,} pupil-years, {self.pupil_weeks:,} pupil-weeks, "
                f"{self.pupil_months:,} pupil-months")


def check_calendar(con: duckdb.DuckDBPyConnection, school_year: str) -> None:
    """Refuse a calendar that the declared bounds would cut short (school days per year and
    per month) or whose months exceed the month cells one pupil may touch."""
    rows = con.execute("SELECT holiday_region, count(*) FROM calendar_day WHERE school_year = ? "
                       "GROUP BY holiday_region ORDER BY holiday_region", [school_year]).fetchall()
    for region, days in rows:
        if days > MAX_SCHOOL_DAYS:
            raise CalendarExceedsBound(school_year, region, days)
    rows = con.execute("SELECT holiday_region, strftime(day, '%Y-%m') AS m, count(*) FROM "
                       "calendar_day WHERE school_year = ? GROUP BY ALL ORDER BY ALL",
                       [school_year]).fetchall()
    for region, month, days in rows:
        if days > MAX_MONTH_DAYS:
            raise CalendarExceedsBound(school_year, region, days, month)
    months = len({month for _, month, _ in rows})
    if months > MAX_MONTHS:
        raise CalendarExceedsMonths(school_year, months)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) derived tables if they don't exist."""
    for statement in statements("derive_tables"):
        con.execute(statement)


def rebuild(con: duckdb.DuckDBPyConnection, school_year: str) -> DeriveSummary:
    """Replace `school_year`'s rows of pupil_year, pupil_week and pupil_month, in one
    transaction, together with the data version they were built from (`derived_version`: the
    set of active batches); announces `db.DATA` after commit or rollback."""
    check_calendar(con, school_year)
    params = {"school_year": school_year, **derive_parameters()}
    try:
        engine = engines.current(con)
        with engine.transaction():
            for statement in statements("derive_tables"):
                engine.execute(statement, {})
            for name in ("derive_prepare", "derive_pupil_year", "derive_pupil_week",
                         "derive_pupil_month"):
                for statement in statements(name):
                    engine.execute(statement, params)
            for temp in ("d_month", "d_absday", "d_pupil", "d_enrol", "d_batch", "d_calendar",
                         "d_region", "d_week", "d_day"):
                engine.execute(f"DROP TABLE IF EXISTS {temp}", {})
            if engine.name == "duckdb":     # the version of the tables in the database file
                _run(con, sql.load("derived_version_write"), params)
            counts = engine.fetch(sql.load("derived_row_counts"), {"school_year": school_year})
        pupils, weeks, months = (int(column[0]) for column in counts.values())
    finally:
        db.changed(db.DATA)
    return DeriveSummary(school_year, pupils, weeks, months)
