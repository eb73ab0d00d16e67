"""Store many validated batches at once: one transaction per chunk, one statement per table
(sql/bulk_store.sql). The bulk counterpart of :func:`service.ingest.storing.store`, used when
several batches arrive together (`aanwezig ingest --dir`, `aanwezig demo`, `ingest_many`).

The semantics are those of storing the batches one by one in their order
(docs/upload-format.md): a batch whose content equals its school's active batch of that year
is "unchanged" (nothing written); a batch without enrolment rows that would replace a stored
batch with rows is refused alone (unless `allow_empty`); every other batch is stored with the
next batch id of `batch_seq` in order, and replaces its school's earlier batch. Two batches of
the same school and year in one call go into consecutive transactions, so the second sees
the first. A chunk commits whole or not at all, so a crash leaves no partial batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

import sql
from service.ingest.errors import IngestError, RowError
from service.ingest.storing import BatchReport, StoreRequest

_SQL = sql.named("bulk_store")
#: statements that write, in order (the replaced batch's pupils are read before its rows go)
_WRITES = ("batch", "enrolment", "absence", "pending_batch", "pending_replaced",
           "delete_enrolment", "delete_absence", "mark_replaced")


@dataclass(frozen=True)
class BulkBatch:
    """One validated batch of a bulk store: where it goes, and its row counts."""

    request: StoreRequest
    enrolment_rows: int
    absence_rows: int


def store_many(con: duckdb.DuckDBPyConnection, batches: list[BulkBatch], enrol: pa.Table,
               absent: pa.Table, lock: threading.Lock, *, synthetic: bool = False
               ) -> list[BatchReport | IngestError]:
    """Store `batches` (their rows in `enrol`/`absent`, pupil keys not numbers, a `batch_no`
    column indexing `batches`); per batch, in order, its report or the error that refused it.
    `synthetic`: record every stored or unchanged batch as synthetic, in the same transaction."""
    results: list[BatchReport | IngestError | None] = [None] * len(batches)
    for part in _without_repeats(batches):
        _store_part(con, batches, part, enrol, absent, lock, synthetic, results)
    return results  # type: ignore[return-value]


def _without_repeats(batches: list[BulkBatch]) -> list[list[int]]:
    """Consecutive runs of batch numbers in which no school and year comes twice."""
    parts: list[list[int]] = [[]]
    seen: set[tuple[str, str]] = set()
    for i, b in enumerate(batches):
        key = (b.request.school_id, b.request.school_year)
        if key in seen:
            parts.append([])
            seen = set()
        seen.add(key)
        parts[-1].append(i)
    return [p for p in parts if p]


def _batch_table(batches: list[BulkBatch], part: list[int]) -> pa.Table:
    reqs = [batches[i].request for i in part]
    return pa.table({
        "batch_no": pa.array(part, type=pa.int64()),
        "school_id": [r.school_id for r in reqs],
        "school_year": [r.school_year for r in reqs],
        "last_day": pa.array([r.last_day for r in reqs], type=pa.date32()),
        "content_hash": [r.content_hash for r in reqs],
        "enrolment_rows": pa.array([batches[i].enrolment_rows for i in part], type=pa.int32()),
        "absence_rows": pa.array([batches[i].absence_rows for i in part], type=pa.int32()),
    })


def _empty_refusal(req: StoreRequest, earlier_id: int) -> IngestError:
    return IngestError([RowError(
        req.enrolment_file, 0, "file",
        f"the batch has no enrolment rows and would replace the stored batch "
        f"{earlier_id} of {req.school_year} with nothing; to empty the year on purpose, "
        "send replace_with_empty=true (aanwezig ingest --replace-with-empty)")])


def _store_part(con, batches, part, enrol, absent, lock, synthetic, results) -> None:
    con.register("bulk_batch", _batch_table(batches, part))
    con.register("clean_enrolment", enrol)
    con.register("clean_absence", absent)
    views = ["bulk_batch", "clean_enrolment", "clean_absence"]
    try:
        with lock:
            con.execute("BEGIN TRANSACTION")
            try:
                earlier = {no: (bid, digest, rows) for no, bid, digest, rows
                           in con.execute(_SQL["earlier"]).fetchall()}
                new, kept = [], []                  # (batch_no, replaced or None); unchanged ids
                for no in part:
                    b = batches[no]
                    req, before = b.request, earlier.get(no)
                    if before is not None and before[1] == req.content_hash:
                        results[no] = BatchReport(before[0], req.school_id, req.school_year,
                                                  "unchanged", b.enrolment_rows, b.absence_rows)
                        kept.append(before[0])
                    elif before is not None and before[2] > 0 and b.enrolment_rows == 0 \
                            and not req.allow_empty:
                        results[no] = _empty_refusal(req, before[0])
                    else:
                        new.append((no, before[0] if before is not None else None))
                ids = sorted(r[0] for r in con.execute(
                    "SELECT nextval('batch_seq') FROM range(?)", [len(new)]).fetchall())
                con.register("bulk_new", pa.table({
                    "batch_no": pa.array([no for no, _ in new], type=pa.int64()),
                    "batch_id": pa.array(ids, type=pa.int64()),
                    "replaced": pa.array([r for _, r in new], type=pa.int64())}))
                views.append("bulk_new")
                if new:
                    for name in _WRITES:
                        con.execute(_SQL[name])
                if synthetic and (new or kept):
                    con.register("bulk_synthetic", pa.table(
                        {"batch_id": pa.array(kept + ids, type=pa.int64())}))
                    views.append("bulk_synthetic")
                    con.execute(_SQL["synthetic"])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    finally:
        for view in views:
            con.unregister(view)
    for (no, replaced), batch_id in zip(new, ids):
        b = batches[no]
        req = b.request
        results[no] = BatchReport(batch_id, req.school_id, req.school_year,
                                  "replaced" if replaced is not None else "stored",
                                  b.enrolment_rows, b.absence_rows, replaced)
