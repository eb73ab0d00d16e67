"""Every question the service asks of the public register tables (`area`, `school`,
`school_year`, `calendar_day`) outside the release path, in one place: does a school year, a
school or an area exist, the areas and schools a page lists, the register's state. The API
asks here instead of holding SQL of its own."""

from __future__ import annotations

from datetime import date

import duckdb

AREA_COLUMNS = ("level", "code", "name", "parent_level", "parent_code")
SCHOOL_COLUMNS = ("school_id", "name", "sector", "municipality_code", "province_code",
                  "rmc_code", "swv_code", "holiday_region")
_AREA_WHERE = "($level IS NULL OR level = $level) AND ($parent IS NULL OR parent_code = $parent)"
_SCHOOL_WHERE = ("($municipality IS NULL OR municipality_code = $municipality) "
                 "AND ($sector IS NULL OR sector = $sector)")


def ping(con: duckdb.DuckDBPyConnection) -> None:
    """One trivial query: the database answers."""
    con.execute("SELECT 1").fetchone()


def school_year_exists(con: duckdb.DuckDBPyConnection, school_year: str) -> bool:
    return con.execute("SELECT count(*) FROM school_year WHERE school_year = ?",
                       [school_year]).fetchone()[0] > 0


def school_exists(con: duckdb.DuckDBPyConnection, school_id: str) -> bool:
    return con.execute("SELECT 1 FROM school WHERE school_id = ?", [school_id]).fetchone() is not None


def area_exists(con: duckdb.DuckDBPyConnection, level: str, code: str) -> bool:
    return con.execute("SELECT 1 FROM area WHERE level = ? AND code = ?",
                       [level, code]).fetchone() is not None


def code_exists(con: duckdb.DuckDBPyConnection, code: str) -> bool:
    """Whether `code` names an area of any level in the register."""
    return con.execute("SELECT 1 FROM area WHERE code = ?", [code]).fetchone() is not None


def area_name(con: duckdb.DuckDBPyConnection, code: str, levels: tuple[str, ...]) -> str | None:
    """The name of area `code` at one of `levels`, or None."""
    row = con.execute("SELECT name FROM area WHERE code = ? AND list_contains(?, level)",
                      [code, list(levels)]).fetchone()
    return row[0] if row else None


def areas_page(con: duckdb.DuckDBPyConnection, level: str | None, parent: str | None,
               limit: int, offset: int) -> tuple[int, list[dict]]:
    """(how many areas match, one page of them as dicts of `AREA_COLUMNS`)."""
    params = {"level": level, "parent": parent}
    total = con.execute(f"SELECT count(*) FROM area WHERE {_AREA_WHERE}", params).fetchone()[0]
    rows = con.execute(f"SELECT {', '.join(AREA_COLUMNS)} FROM area WHERE {_AREA_WHERE} "
                       "ORDER BY level, code LIMIT $limit OFFSET $offset",
                       {**params, "limit": limit, "offset": offset}).fetchall()
    return total, [dict(zip(AREA_COLUMNS, r)) for r in rows]


def schools_page(con: duckdb.DuckDBPyConnection, municipality: str | None, sector: str | None,
                 limit: int, offset: int) -> tuple[int, list[dict]]:
    """(how many schools match, one page of them as dicts of `SCHOOL_COLUMNS`)."""
    params = {"municipality": municipality, "sector": sector}
    total = con.execute(f"SELECT count(*) FROM school WHERE {_SCHOOL_WHERE}", params).fetchone()[0]
    rows = con.execute(f"SELECT {', '.join(SCHOOL_COLUMNS)} FROM school WHERE {_SCHOOL_WHERE} "
                       "ORDER BY school_id LIMIT $limit OFFSET $offset",
                       {**params, "limit": limit, "offset": offset}).fetchall()
    return total, [dict(zip(SCHOOL_COLUMNS, r)) for r in rows]


def register_state(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(areas, school years): what changes when the register is reloaded."""
    return con.execute("SELECT (SELECT count(*) FROM area), (SELECT count(*) FROM school_year)"
                       ).fetchone()


def all_areas(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every area as (level, code, name, parent_level, parent_code), by level and code."""
    return con.execute(f"SELECT {', '.join(AREA_COLUMNS)} FROM area ORDER BY level, code").fetchall()


def school_years(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Every school year as (school_year, first_day, last_day), in order."""
    return con.execute("SELECT school_year, first_day, last_day FROM school_year "
                       "ORDER BY school_year").fetchall()


def school_years_started(con: duckdb.DuckDBPyConnection, day: date) -> list[str]:
    """The school years whose first day is on or before `day`, in order."""
    return [r[0] for r in con.execute("SELECT school_year FROM school_year WHERE first_day <= ? "
                                      "ORDER BY school_year", [day]).fetchall()]


def week_last_days(con: duckdb.DuckDBPyConnection, school_year: str) -> list[tuple[int, date]]:
    """(school week, its last school day in any holiday region), in week order."""
    return con.execute("SELECT week_index, max(day) FROM calendar_day WHERE school_year = ? "
                       "GROUP BY week_index ORDER BY week_index", [school_year]).fetchall()


#: The school column that places a school in an area of each weekly level.
_WEEK_AREA_COLUMN = {"province": "province_code", "rmc": "rmc_code", "swv": "swv_code",
                     "municipality": "municipality_code"}


def week_dates(con: duckdb.DuckDBPyConnection, school_year: str, level: str,
               code: str) -> dict[int, tuple[date, date]]:
    """School week → (its first, its last school day) for the area `level`:`code`: over the
    holiday regions of the area's schools in the register (school weeks start on different
    dates per region: week 1 of 2025-2026 is 18 August in zuid, 1 September in midden), every
    region for the country or an area without schools. Public calendar and register only."""
    column = _WEEK_AREA_COLUMN.get(level)
    regions = [] if column is None else [r[0] for r in con.execute(
        f"SELECT DISTINCT holiday_region FROM school WHERE {column} = ?", [code]).fetchall()]
    rows = con.execute(
        "SELECT week_index, min(day), max(day) FROM calendar_day WHERE school_year = ? "
        "AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], holiday_region)) "
        "GROUP BY week_index ORDER BY week_index", [school_year, regions, regions]).fetchall()
    return {int(week): (first, last) for week, first, last in rows}
