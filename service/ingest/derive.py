"""Derive the per-pupil tables `pupil_year`, `pupil_week` and `pupil_month` of one school
year: in full (:func:`rebuild`) or only for the pupils that uploads touched since the last
derive (:func:`rederive`).

Pure SQL (sql/derive_prepare.sql, sql/derive_pupil_year.sql, sql/derive_pupil_week.sql,
sql/derive_pupil_month.sql) from the ACTIVE batches only. The per-pupil clamps are applied in
that SQL with the bounds declared in `service.ingest.bounds` passed as parameters; the
catalogue's `BoundSpec`s are built from the same constants, so the sensitivity
`privacy.bounds` derives holds for every aggregate over these tables. Both ways run the SAME
statements: the scope is a parameter (`$every_pupil`) and two temporary tables of pupil keys
and batches (empty in full; filled from the pending uploads by sql/pending_scope.sql), so a
pupil's rows are the same whichever way they were derived. The summary returned holds counts
of rows only, no pupil data.

The statements run on the engine in use (`service.engines.current`: DuckDB on `con` by
default, or Spark, full rebuilds only); `con` itself serves the public calendar check.

Incremental derive: every upload records what the next derive must redo, in its own
transaction (sql/pending_add.sql: the new batch; sql/replace_batch.sql: the pupils of the
batch it replaces). :func:`rederive` takes every pupil of those batches, and every pupil who
shares a `pupil_tag` with one of them, deletes all their derived rows of the year and
recomputes them from all their data at every school (a pupil who moved school gets one main
school again), writes the data version and clears what it has seen as pending, in ONE
transaction. A year never derived in full, or derived by other derive code or bounds, is
rebuilt in full instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import duckdb

import sql
from service import db, engines, errors
from service.db import run_statement as _run
from sql import statements
from service.ingest.bounds import MAX_MONTH_DAYS, MAX_MONTHS, MAX_SCHOOL_DAYS, derive_parameters

class CalendarExceedsBound(errors.ServiceError, ValueError):
    """The calendar has more school days than the declared bound `MAX_SCHOOL_DAYS` (or, with
    `month`, more school days in one calendar month than `MAX_MONTH_DAYS`)."""

    def __init__(self, school_year: str, holiday_region: str, days: int,
                 month: str | None = None) -> None:
        self.school_year, self.holiday_region, self.days = school_year, holiday_region, days
        self.month = month
        where, bound = (f" in {month}", MAX_MONTH_DAYS) if month else ("", MAX_SCHOOL_DAYS)
        super().__init__(f"calendar {school_year} {holiday_region} has {days} school days{where}, "
                         f"more than the declared bound of {bound}")


class CalendarExceedsMonths(errors.ServiceError, ValueError):
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
    #: 'full' (every pupil of the year) or 'pupils' (those of the pending uploads)
    scope: str = field(default="full", compare=False)
    #: seconds per SQL file, in order (benchmarks; not part of equality)
    seconds: dict[str, float] = field(default_factory=dict, compare=False)

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


#: The files whose text decides the derived rows (besides the bounds): the derive code.
DERIVE_SQL = ("derive_tables", "derive_scope_every", "pending_scope", "pupil_chunks",
              "pupil_chunk_scope", "scope_batches", "derive_clear", "derive_prepare",
              "derive_absences", "derive_pupil_year", "derive_pupil_week", "derive_pupil_month")
#: The statements that write the rows of the pupils in scope, in order.
_PASS = ("derive_prepare", "derive_absences", "derive_pupil_year", "derive_pupil_week",
         "derive_pupil_month")
#: Temporary tables of a derive, dropped before its transaction ends (each before the ones
#: it reads: Spark's cached views resolve what they read when dropped).
_TEMPORARY = ("d_month", "d_absday", "d_pupil", "d_enrol", "d_batch", "d_calendar", "d_region",
              "d_week", "d_day", "d_scope_school", "d_scope_batch", "d_scope", "d_touched",
              "d_chunk")
#: Pupils per chunk of a full DuckDB derive (by main school; see sql/pupil_chunks.sql): the
#: derive's memory follows the chunk, and a school's rows lie together for `rederive`.
CHUNK_PUPILS = 100_000
#: DuckDB's memory limit while a full derive runs in chunks (its buffer pool caches what it
#: reads and writes up to the limit; a chunk needs less; docs/benchmarks.md).
CHUNK_MEMORY_LIMIT = "2GB"


def derive_code() -> str:
    """Hash of the derive SQL and the bounds: rows derived under another code are not
    updated pupil by pupil (the year is rebuilt in full)."""
    text = json.dumps({"bounds": derive_parameters(),
                       "sql": [sql.load(name) for name in DERIVE_SQL]}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def rebuild(con: duckdb.DuckDBPyConnection, school_year: str,
            chunk_pupils: int | None = CHUNK_PUPILS, *,
            engine: engines.Engine | None = None,
            progress: Callable[[int, int], None] | None = None,
            database: db.Database | None = None) -> DeriveSummary:
    """Replace `school_year`'s rows of pupil_year, pupil_week and pupil_month, in one
    transaction, together with the data version they were built from (`derived_version`: the
    set of active batches); nothing of the year stays pending. On DuckDB the pupils are
    derived in chunks of about `chunk_pupils` by main school (None: all in one pass; Spark
    always does one pass). Announces `db.DATA` to `database` after commit or rollback.
    `engine`: where it runs (default: DuckDB on `con`). `progress(done, total)`: after each chunk."""
    return _derive(con, school_year, every_pupil=True, chunk_pupils=chunk_pupils,
                   engine=engines.current(con, engine), progress=progress, database=database)


def rederive(con: duckdb.DuckDBPyConnection, school_year: str,
             chunk_pupils: int | None = CHUNK_PUPILS, *,
             engine: engines.Engine | None = None,
             database: db.Database | None = None) -> DeriveSummary:
    """Derive again only the pupils that uploads touched since the last derive (DuckDB only),
    in one transaction with the data version; falls back to :func:`rebuild` when the year's
    tables cannot be updated pupil by pupil (never derived in full, other derive code or
    bounds, rows from before `pupil_tag`, or another engine in use: on that engine). Same
    summary."""
    engine = engines.current(con, engine)
    if engine.name != "duckdb":
        return rebuild(con, school_year, engine=engine, database=database)
    return _derive(con, school_year, every_pupil=False, chunk_pupils=chunk_pupils, engine=engine,
                   database=database)


def _derive(con: duckdb.DuckDBPyConnection, school_year: str, every_pupil: bool,
            chunk_pupils: int | None, engine: engines.Engine,
            progress: Callable[[int, int], None] | None = None,
            database: db.Database | None = None) -> DeriveSummary:
    check_calendar(con, school_year)
    params = {"school_year": school_year, "derive_code": derive_code(), **derive_parameters()}
    seconds: dict[str, float] = {}

    def run(engine, name: str, values: dict) -> None:
        t0 = time.perf_counter()
        for statement in statements(name):
            engine.execute(statement, values)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0

    try:
        duck = engine.name == "duckdb"
        with engine.transaction():
            run(engine, "derive_tables", {})
            if duck:
                run(engine, "derived_tables_upgrade", {})
                if not every_pupil:
                    ready = engine.fetch(sql.load("derived_incremental_ready"), params)["ready"]
                    every_pupil = not bool(ready[0])
            params["every_pupil"] = every_pupil
            if every_pupil:
                run(engine, "derive_scope_every", params)
            else:
                run(engine, "pending_scope", params)
                run(engine, "scope_batches", params)
            run(engine, "derive_clear", params)
            if duck and every_pupil and chunk_pupils:
                run(engine, "derive_prepare", params)        # every pupil's main school
                run(engine, "pupil_chunks", {"chunk_pupils": chunk_pupils})
                chunks = engine.fetch(sql.load("pupil_chunk_ids"), {})["chunk"]
                with _memory_limit(con, CHUNK_MEMORY_LIMIT):
                    for done, chunk in enumerate((int(c) for c in chunks), 1):
                        part = {**params, "every_pupil": False, "chunk": chunk}
                        run(engine, "pupil_chunk_scope", part)
                        run(engine, "scope_batches", part)
                        for name in _PASS:
                            run(engine, name, part)
                        if progress:
                            progress(done, len(chunks))
            else:
                for name in _PASS:
                    run(engine, name, params)
            for temp in _TEMPORARY:
                engine.execute(f"DROP TABLE IF EXISTS {temp}", {})
            if duck:        # the version of the tables in the database file; nothing pending
                _run(con, sql.load("derived_version_write"), params)
                run(engine, "pending_clear", params)
            counts = engine.fetch(sql.load("derived_row_counts"), {"school_year": school_year})
            t0 = time.perf_counter()
        seconds["commit"] = time.perf_counter() - t0
        pupils, weeks, months = (int(column[0]) for column in counts.values())
    finally:
        db.or_detached(database).changed(db.DATA)
    return DeriveSummary(school_year, pupils, weeks, months,
                         "full" if every_pupil else "pupils", seconds)


@contextlib.contextmanager
def _memory_limit(con: duckdb.DuckDBPyConnection, limit: str) -> Iterator[None]:
    """DuckDB's memory limit set to `limit` inside the block, then back to the setting as
    DuckDB shows it (to 0.1 GiB)."""
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    con.execute(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = '{before}'")
