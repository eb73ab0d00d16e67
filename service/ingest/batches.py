"""Ingest of one school's upload batch: validate everything, pseudonymise, store all-or-nothing.

A batch is the enrolment table and the absence table of one school for one school year
(format: docs/upload-format.md). The steps:

1. parse both files as text columns (CSV or Parquet); a header or parse problem is an error;
2. validate every row in DuckDB SQL (sql/validate_*.sql) against the public register and
   calendar; collect every problem with file, row and field (capped at ``max_errors``);
3. if anything is wrong, raise :class:`IngestError` — nothing has been written;
4. replace each distinct pupil number by its keyed HMAC (computed once per pupil, in memory);
   raw numbers never reach a database table, a file or a log line;
5. in ONE transaction: an identical active batch makes this a no-op ("unchanged"); otherwise
   the new rows are inserted and an earlier batch for the same school and year is replaced.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from cryptography.hazmat.primitives import hashes, hmac

import sql
from service.db import database_path, run_file
from service.ingest import lake
from service.settings import Settings

ENROLMENT_COLUMNS = (
    "pupil_number", "birth_year", "grade", "residence_municipality", "enrolled_from", "enrolled_to",
)
ABSENCE_COLUMNS = ("pupil_number", "date", "hours", "reason")
REASONS = ("sick", "authorised", "unauthorised", "late", "suspended")
GRADE_MAX = {"PO": 8, "SBO": 8, "SO": 8, "VO": 6, "VSO": 6}
OLDEST_BIRTH_YEAR = 1995

_write_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class UploadFile:
    """One uploaded file: its name (says which table and which format) and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class RowError:
    """One problem: which file, which data row (1 = first row after the header; 0 = the
    file as a whole or its header), which field, and what was expected."""

    file: str
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, row {self.row}" if self.row else self.file
        return f"{where}, field {self.field}: {self.message}"


@dataclass(frozen=True)
class BatchReport:
    """What happened to a batch. Counts are of uploaded rows, which the school sent."""

    batch_id: int
    school_id: str
    school_year: str
    status: Literal["stored", "unchanged", "replaced"]
    enrolment_rows: int
    absence_rows: int
    replaced_batch_id: int | None = None


class IngestError(Exception):
    """The batch has problems; nothing of it was stored."""

    def __init__(self, errors: list[RowError], truncated: bool = False):
        self.errors = errors
        self.truncated = truncated
        more = " (more not shown)" if truncated else ""
        lines = "\n".join(f"  {e}" for e in errors[:20])
        super().__init__(f"{len(errors)} problem(s) in the upload{more}; nothing was stored:\n{lines}")


class UnknownSchool(Exception):
    """The school id is not in the public register."""

    def __init__(self, school_id: str):
        self.school_id = school_id
        super().__init__(f"school {school_id!r} is not in the register of schools")


@dataclass
class _Parsed:
    enrolment: pa.Table | None = None
    absence: pa.Table | None = None
    names: dict[str, str] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


def school_year_of(day: date) -> str:
    """The school year (1 August – 31 July) that contains `day`, e.g. '2025-2026'."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


def _kind(name: str) -> Literal["enrolment", "absence"] | None:
    lower = Path(name).name.lower()
    if "enrol" in lower:
        return "enrolment"
    if "absen" in lower:
        return "absence"
    return None


def _parse_file(f: UploadFile, columns: tuple[str, ...]) -> tuple[pa.Table | None, list[RowError]]:
    """Read a CSV or Parquet file into text columns named `columns`, with a row_no column."""
    suffix = Path(f.name).suffix.lower()
    try:
        if suffix == ".csv":
            table = pacsv.read_csv(
                io.BytesIO(f.content),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in columns}, strings_can_be_null=False
                ),
            )
        elif suffix == ".parquet":
            table = pq.read_table(io.BytesIO(f.content))
        else:
            return None, [RowError(f.name, 0, "file", "expected a .csv or .parquet file")]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        # pyarrow's message may quote a line of the file (and so a pupil number): keep only
        # the row number and the kind of problem.
        text = str(exc)
        row = re.search(r"[Rr]ow #?(\d+)", text)
        what = "not valid UTF-8 text" if "UTF8" in text or "UTF-8" in text else (
            "a row has the wrong number of fields" if "Expected" in text and "columns" in text
            else "could not be read as " + ("CSV (UTF-8, comma-separated, with a header)"
                                            if suffix == ".csv" else "Parquet"))
        return None, [RowError(f.name, int(row.group(1)) - 1 if row else 0, "file", what)]
    found = table.column_names
    errors = [RowError(f.name, 0, c, "required column is missing from the header")
              for c in columns if c not in found]
    errors += [RowError(f.name, 0, c, "unexpected column (expected: " + ", ".join(columns) + ")")
               for c in found if c not in columns]
    if errors:
        return None, errors
    cols = []
    for c in columns:
        col = table.column(c)
        if not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        cols.append(pc.fill_null(col, ""))
    table = pa.table(cols, names=list(columns))
    row_no = pa.array(range(1, table.num_rows + 1), type=pa.int64())
    return table.add_column(0, "row_no", row_no), []


def _parse(files: Sequence[UploadFile]) -> _Parsed:
    parsed = _Parsed()
    for f in files:
        kind = _kind(f.name)
        if kind is None:
            parsed.errors.append(RowError(f.name, 0, "file",
                                          "file name must contain 'enrol' or 'absen' to say which table it is"))
            continue
        if kind in parsed.names:
            parsed.errors.append(RowError(f.name, 0, "file",
                                          f"a second {kind} file in one batch (first: {parsed.names[kind]})"))
            continue
        parsed.names[kind] = f.name
        parsed.digests[kind] = hashlib.sha256(f.content).hexdigest()
        columns = ENROLMENT_COLUMNS if kind == "enrolment" else ABSENCE_COLUMNS
        table, errors = _parse_file(f, columns)
        parsed.errors += errors
        setattr(parsed, kind, table)
    for kind, example in (("enrolment", "enrolments.csv"), ("absence", "absences.csv")):
        if kind not in parsed.names:
            parsed.errors.append(RowError(example, 0, "file", f"the batch has no {kind} file"))
    return parsed


def content_hash(parsed: _Parsed) -> str:
    """sha256 over the sha256 of each table's file, in a fixed order."""
    text = "|".join(f"{k}:{parsed.digests[k]}" for k in sorted(parsed.digests))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class _Batch:
    """One batch on its way through validation and storage."""

    school_id: str
    parsed: _Parsed
    sector: str = ""
    region: str = ""
    year: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    enrol_offset: int = 0
    absence_offset: int = 0
    result: BatchReport | Exception | None = None


def _register_rows(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, dict]:
    schools = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT school_id, sector, holiday_region FROM school").fetchall()}
    years = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT school_year, first_day, last_day FROM school_year").fetchall()}
    minutes = dict(con.execute("SELECT sector, day_minutes FROM sector_day").fetchall())
    return schools, years, minutes


def _with_batch_no(table: pa.Table, batch_no: int) -> pa.Table:
    return table.add_column(0, "batch_no", pa.array([batch_no] * table.num_rows, type=pa.int64()))


def _infer_years(con: duckdb.DuckDBPyConnection, known: dict) -> dict[int, str]:
    """Per batch: the school year of its earliest valid enrolment date if the register knows
    it, otherwise the register's latest school year (row errors then say what is wrong)."""
    latest = max(known) if known else None
    out = {}
    for batch_no, first in con.execute(sql.load("upload_first_enrolment")).fetchall():
        year = school_year_of(first) if first is not None else None
        out[batch_no] = year if year in known else latest
    return out


def _batch_table(batches: list[_Batch], minutes: dict) -> pa.Table:
    rows = [(i, b.year, b.first_day, b.last_day, b.sector, GRADE_MAX[b.sector], OLDEST_BIRTH_YEAR,
             int(b.year[:4]) - 2, b.region, minutes[b.sector]) for i, b in enumerate(batches)]
    names = ["batch_no", "school_year", "first_day", "last_day", "sector", "grade_max",
             "min_birth", "max_birth", "holiday_region", "day_minutes"]
    return pa.table({n: [r[k] for r in rows] for k, n in enumerate(names)})


def _validate(con: duckdb.DuckDBPyConnection, batches: list[_Batch], max_errors: int) -> dict[int, list[RowError]]:
    """Every problem of every batch, by batch number (capped at max_errors + 1 each)."""
    errors: dict[int, list[RowError]] = {}
    for table, name in (("enrolment", "validate_enrolment"), ("absence", "validate_absence")):
        for batch_no, row, fld, message in con.execute(sql.load(name), {"cap": max_errors}).fetchall():
            file = batches[batch_no].parsed.names[table]
            errors.setdefault(batch_no, []).append(RowError(file, row, fld, message))
    return errors


def pseudonymise(numbers: pa.Array, key: bytes) -> pa.Array:
    """Keyed HMAC-SHA256 (hex) of each pupil number, computed once per distinct number."""
    distinct = pc.unique(numbers)
    base = hmac.HMAC(key, hashes.SHA256())
    keys = []
    for number in distinct.to_pylist():
        h = base.copy()
        h.update(number.encode("ascii"))
        keys.append(h.finalize().hex())
    return pc.take(pa.array(keys, type=pa.string()), pc.index_in(numbers, value_set=distinct))


def _write_lock(con: duckdb.DuckDBPyConnection) -> threading.Lock:
    with _locks_guard:
        return _write_locks.setdefault(database_path(con), threading.Lock())


def _store(con, batch: _Batch, enrol: pa.Table, absent: pa.Table, lock: threading.Lock) -> BatchReport:
    """One transaction: a no-op for identical content, else insert (and replace an earlier
    batch of the same school and year). `enrol`/`absent` carry pupil keys, not numbers."""
    digest = content_hash(batch.parsed)
    school_id, year = batch.school_id, batch.year
    con.register("clean_enrolment", enrol)
    con.register("clean_absence", absent)
    try:
        with lock:
            con.execute("BEGIN TRANSACTION")
            try:
                earlier = con.execute(
                    "SELECT batch_id, content_hash FROM batch WHERE school_id = ? AND school_year = ? "
                    "AND status = 'active'", [school_id, year]).fetchone()
                if earlier is not None and earlier[1] == digest:
                    con.execute("ROLLBACK")
                    return BatchReport(earlier[0], school_id, year, "unchanged",
                                       enrol.num_rows, absent.num_rows)
                batch_id = con.execute("SELECT nextval('batch_seq')").fetchone()[0]
                con.execute(
                    "INSERT INTO batch VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?, 'active', NULL)",
                    [batch_id, school_id, year, digest, enrol.num_rows, absent.num_rows])
                params = {"batch_id": batch_id, "school_id": school_id, "school_year": year}
                con.execute(sql.load("insert_upload"), {**params, "last_day": batch.last_day})
                con.execute(sql.load("insert_upload_absence"), params)
                replaced = None
                if earlier is not None:
                    replaced = earlier[0]
                    run_file(con, "replace_batch", {"replaced": replaced, "batch_id": batch_id})
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    finally:
        con.unregister("clean_enrolment")
        con.unregister("clean_absence")
    return BatchReport(batch_id, school_id, year, "replaced" if replaced else "stored",
                       enrol.num_rows, absent.num_rows, replaced)


def ingest_many(con: duckdb.DuckDBPyConnection, settings: Settings,
                batches: Sequence[tuple[str, Sequence[UploadFile]]],
                school_year: str | None = None) -> list[BatchReport | IngestError | UnknownSchool]:
    """Validate several batches together (one SQL pass) and store each valid one in its own
    transaction. Returns, per batch in order, its report or the error that refused it."""
    cur = con.cursor()
    try:
        return _ingest_many(cur, settings, batches, school_year)
    finally:
        cur.close()


def _ingest_many(cur, settings, batches, school_year):
    schools, years, minutes = _register_rows(cur)
    work = [_Batch(school_id, _parse(files)) for school_id, files in batches]
    valid: list[_Batch] = []
    for b in work:
        if b.school_id not in schools:
            b.result = UnknownSchool(b.school_id)
        elif b.parsed.errors:
            b.result = IngestError(b.parsed.errors[: settings.max_errors],
                                   len(b.parsed.errors) > settings.max_errors)
        else:
            b.sector, b.region = schools[b.school_id]
            valid.append(b)
    if valid:
        enrol = pa.concat_tables([_with_batch_no(b.parsed.enrolment, i) for i, b in enumerate(valid)])
        absent = pa.concat_tables([_with_batch_no(b.parsed.absence, i) for i, b in enumerate(valid)])
        cur.register("upload_enrolment", enrol)
        cur.register("upload_absence", absent)
        inferred = _infer_years(cur, years) if school_year is None else {}
        for i, b in enumerate(valid):
            b.year = school_year or inferred.get(i) or (max(years) if years else None)
        missing = [b for b in valid if b.year not in years]
        for b in missing:
            b.result = IngestError([RowError(b.parsed.names["enrolment"], 0, "enrolled_from",
                                             f"school year {b.year} has no calendar in the register")])
        valid = [b for b in valid if b.result is None]
    if valid:
        # renumber so batch_no indexes `valid`
        enrol = pa.concat_tables([_with_batch_no(b.parsed.enrolment, i) for i, b in enumerate(valid)])
        absent = pa.concat_tables([_with_batch_no(b.parsed.absence, i) for i, b in enumerate(valid)])
        for b in valid:
            b.first_day, b.last_day = years[b.year]
        cur.register("upload_enrolment", enrol)
        cur.register("upload_absence", absent)
        cur.register("upload_batch", _batch_table(valid, minutes))
        try:
            errors = _validate(cur, valid, settings.max_errors)
        finally:
            for view in ("upload_enrolment", "upload_absence", "upload_batch"):
                cur.unregister(view)
        for i, b in enumerate(valid):
            if i in errors:
                b.result = IngestError(errors[i][: settings.max_errors],
                                       len(errors[i]) > settings.max_errors)
        _store_valid(cur, settings, [b for b in valid if b.result is None])
    return [b.result for b in work]


def _store_valid(cur, settings: Settings, valid: list[_Batch]) -> None:
    if not valid:
        return
    enrol_tables = [b.parsed.enrolment for b in valid]
    absence_tables = [b.parsed.absence for b in valid]
    numbers = pa.chunked_array([t.column("pupil_number").combine_chunks() for t in enrol_tables + absence_tables])
    keys = pseudonymise(numbers.combine_chunks(), settings.hmac_key.encode("utf-8"))
    lock = _write_lock(cur)
    offset = 0
    clean = []
    for table in enrol_tables + absence_tables:
        clean.append(table.drop_columns(["pupil_number"]).append_column(
            "pupil_key", keys.slice(offset, table.num_rows)))
        offset += table.num_rows
    n = len(valid)
    for b, enrol, absent in zip(valid, clean[:n], clean[n:]):
        b.result = _store(cur, b, enrol, absent, lock)
        if settings.lake is not None and b.result.status != "unchanged":
            lake.write_batch(cur, settings.lake, b.result.batch_id, b.school_id, b.year)


def ingest_files(con: duckdb.DuckDBPyConnection, settings: Settings, school_id: str,
                 files: Sequence[UploadFile], school_year: str | None = None) -> BatchReport:
    """Validate and store one batch for `school_id`; all-or-nothing.

    Raises :class:`UnknownSchool` for a school outside the register and :class:`IngestError`
    listing every problem (file, row, field, expectation) when anything is wrong.
    """
    result = ingest_many(con, settings, [(school_id, files)], school_year)[0]
    if isinstance(result, Exception):
        raise result
    return result


def files_from_paths(paths: Sequence[Path]) -> list[UploadFile]:
    """Read upload files from disk."""
    return [UploadFile(Path(p).name, Path(p).read_bytes()) for p in paths]
