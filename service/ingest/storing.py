"""Store one validated batch: pseudonymise pupil numbers, then one transaction per batch.

An identical active batch makes the upload a no-op ("unchanged"); otherwise the new rows are
inserted and an earlier batch of the same school and year is replaced. A batch without any
enrolment row does not replace one that has rows unless the caller says so explicitly
(``allow_empty``): a header-only export is far more often a mistake than a school emptying
its year.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives import hashes, hmac

import sql
from service.db import run_file
from service.ingest.errors import IngestError, RowError



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


@dataclass(frozen=True)
class StoreRequest:
    """Where a batch goes and what it replaces: its school, year, last day and content hash,
    the enrolment file's name (for the refusal of an empty batch) and whether an empty batch
    may replace a stored one."""

    school_id: str
    school_year: str
    last_day: date
    content_hash: str
    enrolment_file: str
    allow_empty: bool = False


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


def store(con: duckdb.DuckDBPyConnection, req: StoreRequest, enrol: pa.Table, absent: pa.Table,
          lock: threading.Lock) -> BatchReport:
    """One transaction: a no-op for identical content, else insert (and replace an earlier
    batch of the same school and year). `enrol`/`absent` carry pupil keys, not numbers.
    Raises IngestError (nothing stored) for an empty batch that would replace rows."""
    school_id, year = req.school_id, req.school_year
    con.register("clean_enrolment", enrol)
    con.register("clean_absence", absent)
    try:
        with lock:
            con.execute("BEGIN TRANSACTION")
            try:
                earlier = con.execute(
                    "SELECT batch_id, content_hash, enrolment_rows FROM batch WHERE school_id = ? "
                    "AND school_year = ? AND status = 'active'", [school_id, year]).fetchone()
                if earlier is not None and earlier[1] == req.content_hash:
                    con.execute("ROLLBACK")
                    return BatchReport(earlier[0], school_id, year, "unchanged",
                                       enrol.num_rows, absent.num_rows)
                if earlier is not None and earlier[2] > 0 and enrol.num_rows == 0 \
                        and not req.allow_empty:
                    raise IngestError([RowError(
                        req.enrolment_file, 0, "file",
                        f"the batch has no enrolment rows and would replace the stored batch "
                        f"{earlier[0]} of {year} with nothing; to empty the year on purpose, "
                        "send replace_with_empty=true (aanwezig ingest --replace-with-empty)")])
                batch_id = con.execute("SELECT nextval('batch_seq')").fetchone()[0]
                con.execute(
                    "INSERT INTO batch VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?, 'active', NULL)",
                    [batch_id, school_id, year, req.content_hash, enrol.num_rows, absent.num_rows])
                params = {"batch_id": batch_id, "school_id": school_id, "school_year": year}
                con.execute(sql.load("insert_upload"), {**params, "last_day": req.last_day})
                con.execute(sql.load("insert_upload_absence"), params)
                run_file(con, "pending_add", params)     # the next derive redoes its pupils
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
