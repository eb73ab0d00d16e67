"""Ingest of one school's upload batch: validate everything, pseudonymise, store all-or-nothing.

A batch is the enrolment table and the absence table of one school for one school year
(format: docs/upload-format.md). The steps:

1. parse both files, bounded, into text columns (service.ingest.parsing); a header, encoding,
   size or structure problem is an error naming file, data row and field;
2. validate every row in DuckDB SQL (sql/validate_*.sql) against the public register and
   calendar; collect every problem with file, row and field (capped at ``max_errors``);
3. if anything is wrong, raise :class:`IngestError` — nothing has been written;
4. replace each distinct pupil number by its keyed HMAC and store the batch in ONE
   transaction (service.ingest.storing).

School ids are taken in any case and stored in upper case.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence

import duckdb
import numpy as np
import pyarrow as pa

import sql
from service.db import Database, or_detached
from service.ingest import lake
from service.ingest.bulk_store import BulkBatch, store_many
from service.ingest.errors import IngestError, RowError, UnknownSchool
from service.ingest.limits import UploadLimits
from service.ingest.parsing import (ABSENCE_COLUMNS, ENROLMENT_COLUMNS, ParsedBatch, UploadFile,
                                    parse_batch, parse_batches)
from service.ingest.storing import BatchReport, StoreRequest, pseudonymise, store
from service.settings import Settings

__all__ = ["ABSENCE_COLUMNS", "ENROLMENT_COLUMNS", "BatchReport", "IngestError", "RowError",
           "UnknownSchool", "UploadFile", "files_from_paths", "ingest_files", "ingest_many",
           "pseudonymise", "school_year_of"]

REASONS = ("sick", "authorised", "unauthorised", "late", "suspended")
GRADE_MAX = {"PO": 8, "SBO": 8, "SO": 8, "VO": 6, "VSO": 6}
OLDEST_BIRTH_YEAR = 1995


def school_year_of(day: date) -> str:
    """The school year (1 August – 31 July) that contains `day`, e.g. '2025-2026'."""
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{start + 1}"


@dataclass
class _Batch:
    """One batch on its way through validation and storage."""

    school_id: str
    parsed: ParsedBatch
    sector: str = ""
    region: str = ""
    year: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    result: BatchReport | Exception | None = None


def _register_rows(con: duckdb.DuckDBPyConnection) -> tuple[dict, dict, dict]:
    schools = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT school_id, sector, holiday_region FROM school").fetchall()}
    years = {r[0]: (r[1], r[2]) for r in con.execute(
        "SELECT school_year, first_day, last_day FROM school_year").fetchall()}
    minutes = dict(con.execute("SELECT sector, day_minutes FROM sector_day").fetchall())
    return schools, years, minutes


def _with_batch_no(table: pa.Table, batch_no: int) -> pa.Table:
    return table.add_column(0, "batch_no", pa.array(np.full(table.num_rows, batch_no, np.int64)))


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


def ingest_many(con: duckdb.DuckDBPyConnection, settings: Settings,
                batches: Sequence[tuple[str, Sequence[UploadFile]]],
                school_year: str | None = None, *, replace_with_empty: bool = False,
                bulk: bool = True, synthetic: bool = False, database: Database | None = None
                ) -> list[BatchReport | IngestError | UnknownSchool]:
    """Validate several batches together (one SQL pass) and store the valid ones: with `bulk`
    all in one transaction, one statement per table (service.ingest.bulk_store), else each in
    its own transaction (service.ingest.storing.store); the same rows and batch ids either way.
    Returns, per batch in order, its report or the error that refused it.
    `replace_with_empty` lets a batch without enrolment rows replace a stored one;
    `synthetic` (bulk only) records the stored and unchanged batches as synthetic test data in
    the same transaction. Uploads to one file are serialised by `database`'s upload lock (a
    private one without it)."""
    cur = con.cursor()
    try:
        return _ingest_many(cur, settings, batches, school_year, replace_with_empty, bulk,
                            synthetic, or_detached(database).locks.uploads)
    finally:
        cur.close()


def _ingest_many(cur, settings, batches, school_year, replace_with_empty, bulk=True,
                 synthetic=False, lock=None):
    schools, years, minutes = _register_rows(cur)
    limits = UploadLimits.from_settings(settings)
    if bulk:        # the CSV files of many batches read by one Arrow parse per table
        parsed = parse_batches([files for _, files in batches], limits)
    else:
        parsed = [parse_batch(files, limits) for _, files in batches]
    work = [_Batch(school_id.strip().upper(), p) for (school_id, _), p in zip(batches, parsed)]
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
        try:
            inferred = _infer_years(cur, years) if school_year is None else {}
        finally:
            cur.unregister("upload_enrolment")
            cur.unregister("upload_absence")
        for i, b in enumerate(valid):
            b.year = school_year or inferred.get(i) or (max(years) if years else None)
        for b in valid:
            if b.year not in years:
                b.result = IngestError([RowError(b.parsed.names["enrolment"], 0, "school_year",
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
        store = _store_bulk if bulk else _store_valid
        store(cur, settings, [b for b in valid if b.result is None], replace_with_empty,
              synthetic, lock)
    return [b.result for b in work]


def _keys(settings: Settings, tables: list[pa.Table]) -> pa.Array:
    """The pupil keys of every row of `tables`, in order (one HMAC per distinct number)."""
    numbers = pa.chunked_array([t.column("pupil_number").combine_chunks() for t in tables],
                               type=pa.string())
    return pseudonymise(numbers.combine_chunks(), settings.hmac_key.encode("utf-8"))


def _store_bulk(cur, settings: Settings, valid: list[_Batch], replace_with_empty: bool,
                synthetic: bool, lock: threading.Lock) -> None:
    """Every valid batch in one transaction (two of one school and year: consecutive ones)."""
    if not valid:
        return
    enrol = pa.concat_tables([_with_batch_no(b.parsed.enrolment, i) for i, b in enumerate(valid)])
    absent = pa.concat_tables([_with_batch_no(b.parsed.absence, i) for i, b in enumerate(valid)])
    keys = _keys(settings, [enrol, absent])

    def clean(table: pa.Table, keys: pa.Array) -> pa.Table:
        return table.drop_columns(["pupil_number", "row_no"]).append_column("pupil_key", keys)

    enrol, absent = (clean(enrol, keys.slice(0, enrol.num_rows)),
                     clean(absent, keys.slice(enrol.num_rows)))
    requests = [BulkBatch(StoreRequest(b.school_id, b.year, b.last_day, b.parsed.content_hash(),
                                       b.parsed.names["enrolment"], replace_with_empty),
                          b.parsed.enrolment.num_rows, b.parsed.absence.num_rows)
                for b in valid]
    results = store_many(cur, requests, enrol, absent, lock, synthetic=synthetic)
    for b, result in zip(valid, results):
        b.result = result
        if settings.lake is not None and isinstance(result, BatchReport) \
                and result.status != "unchanged":
            lake.write_batch(cur, settings.lake, result.batch_id, b.school_id, b.year)


def _store_valid(cur, settings: Settings, valid: list[_Batch], replace_with_empty: bool,
                 synthetic: bool, lock: threading.Lock) -> None:
    """Each valid batch in its own transaction (`storing.store`). `synthetic` is marked by
    the caller (service.ingest.directory), after each batch's transaction."""
    if not valid:
        return
    enrol_tables = [b.parsed.enrolment for b in valid]
    absence_tables = [b.parsed.absence for b in valid]
    numbers = pa.chunked_array([t.column("pupil_number").combine_chunks()
                                for t in enrol_tables + absence_tables], type=pa.string())
    keys = pseudonymise(numbers.combine_chunks(), settings.hmac_key.encode("utf-8"))
    offset = 0
    clean = []
    for table in enrol_tables + absence_tables:
        clean.append(table.drop_columns(["pupil_number"]).append_column(
            "pupil_key", keys.slice(offset, table.num_rows)))
        offset += table.num_rows
    n = len(valid)
    for b, enrol, absent in zip(valid, clean[:n], clean[n:]):
        req = StoreRequest(b.school_id, b.year, b.last_day, b.parsed.content_hash(),
                           b.parsed.names["enrolment"], replace_with_empty)
        try:
            b.result = store(cur, req, enrol, absent, lock)
        except IngestError as exc:
            b.result = exc
            continue
        if settings.lake is not None and b.result.status != "unchanged":
            lake.write_batch(cur, settings.lake, b.result.batch_id, b.school_id, b.year)


def ingest_files(con: duckdb.DuckDBPyConnection, settings: Settings, school_id: str,
                 files: Sequence[UploadFile], school_year: str | None = None, *,
                 replace_with_empty: bool = False, database: Database | None = None
                 ) -> BatchReport:
    """Validate and store one batch for `school_id`; all-or-nothing.

    Raises :class:`UnknownSchool` for a school outside the register and :class:`IngestError`
    listing every problem (file, row, field, expectation) when anything is wrong.
    """
    result = ingest_many(con, settings, [(school_id, files)], school_year,
                         replace_with_empty=replace_with_empty, bulk=False, database=database)[0]
    if isinstance(result, Exception):
        raise result
    return result


def files_from_paths(paths: Sequence[Path]) -> list[UploadFile]:
    """Read upload files from disk."""
    return [UploadFile(Path(p).name, Path(p).read_bytes()) for p in paths]
