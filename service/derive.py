"""Rebuild the derived per-pupil tables `pupil_year` and `pupil_week` for one school year.

Pure SQL in DuckDB (sql/derive_prepare.sql, sql/derive_pupil_year.sql,
sql/derive_pupil_week.sql) from the ACTIVE batches only. The per-pupil clamps are applied in
that SQL with the bounds declared in `service.catalogue` passed as parameters, so that the
sensitivity `privacy.bounds` derives from the catalogue's `BoundSpec`s holds for every
aggregate over these tables. The summary returned holds counts of rows only, no pupil data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

import sql
from service.catalogue import MAX_SCHOOL_DAYS, derive_parameters

_PARAM = re.compile(r"\$([a-z_]+)")


class CalendarExceedsBound(ValueError):
    """The calendar has more school days than the declared bound `MAX_SCHOOL_DAYS`."""

    def __init__(self, school_year: str, holiday_region: str, days: int) -> None:
        self.school_year, self.holiday_region, self.days = school_year, holiday_region, days
        super().__init__(f"calendar {school_year} {holiday_region} has {days} school days, more "
                         f"than the declared bound of {MAX_SCHOOL_DAYS}")


@dataclass(frozen=True)
class DeriveSummary:
    """Row counts of one rebuild (no pupil data)."""

    school_year: str
    pupils: int
    pupil_weeks: int

    def __str__(self) -> str:
        return f"{self.pupils:,} pupil-years, {self.pupil_weeks:,} pupil-weeks"


def statements(name: str) -> list[str]:
    """The statements of `sql/<name>.sql` (each ends with ';' at the end of a line)."""
    code = "\n".join(line for line in sql.load(name).splitlines()
                     if not line.lstrip().startswith("--"))
    return [p.strip() for p in re.split(r";\s*\n", code + "\n") if p.strip()]


def _run(con: duckdb.DuckDBPyConnection, statement: str, params: dict) -> None:
    used = set(_PARAM.findall(statement))
    con.execute(statement, {k: v for k, v in params.items() if k in used})


def check_calendar(con: duckdb.DuckDBPyConnection, school_year: str) -> None:
    """Refuse a calendar that the declared bound would cut short."""
    rows = con.execute("SELECT holiday_region, count(*) FROM calendar_day WHERE school_year = ? "
                       "GROUP BY holiday_region ORDER BY holiday_region", [school_year]).fetchall()
    for region, days in rows:
        if days > MAX_SCHOOL_DAYS:
            raise CalendarExceedsBound(school_year, region, days)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) derived tables if they don't exist."""
    for statement in statements("derive_tables"):
        con.execute(statement)


def rebuild(con: duckdb.DuckDBPyConnection, school_year: str) -> DeriveSummary:
    """Replace `school_year`'s rows of pupil_year and pupil_week, in one transaction."""
    check_calendar(con, school_year)
    params = {"school_year": school_year, **derive_parameters()}
    con.execute("BEGIN TRANSACTION")
    try:
        ensure_tables(con)
        for name in ("derive_prepare", "derive_pupil_year", "derive_pupil_week"):
            for statement in statements(name):
                _run(con, statement, params)
        for temp in ("d_absday", "d_pupil", "d_enrol", "d_batch", "d_calendar", "d_region",
                     "d_week", "d_day"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
        pupils = con.execute("SELECT count(*) FROM pupil_year WHERE school_year = ?",
                             [school_year]).fetchone()[0]
        weeks = con.execute("SELECT count(*) FROM pupil_week WHERE school_year = ?",
                            [school_year]).fetchone()[0]
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return DeriveSummary(school_year, pupils, weeks)
