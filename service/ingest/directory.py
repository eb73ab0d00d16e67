"""Ingest a folder of school batches (`<root>/<school_id>/{enrolments,absences}.{csv,parquet}`),
as `aanwezig synth` writes them and as a school board's system would deliver them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

import sql
from service.db import run_file
from service.ingest.batches import files_from_paths, ingest_many
from service.register.synthetic import SYNTHETIC_MARKER
from service.settings import Settings


@dataclass
class DirectoryReport:
    """Outcome per batch status, and the batches that were refused (with their problems)."""

    statuses: Counter = field(default_factory=Counter)
    enrolment_rows: int = 0
    absence_rows: int = 0
    refused: dict[str, str] = field(default_factory=dict)


def batch_folders(root: Path) -> list[Path]:
    """The school folders under `root`, in a stable order."""
    return sorted(p for p in Path(root).iterdir() if p.is_dir())


def ingest_directory(con: duckdb.DuckDBPyConnection, settings: Settings, root: Path,
                     progress: Callable[[int], None] | None = None,
                     chunk: int = 200, *, replace_with_empty: bool = False,
                     bulk: bool = True) -> DirectoryReport:
    """Ingest every school folder under `root` (one batch each; validated `chunk` batches at
    a time in one SQL pass, and stored in ONE transaction per chunk with one statement per
    table: service.ingest.bulk_store; with `bulk=False` each batch in its own transaction, the
    path one upload takes). A refused batch is reported and skipped; the others are stored.
    A folder that `aanwezig synth` wrote (its marker file at the root) has its batches
    recorded as synthetic (see :func:`synthetic_only`), in the chunk's transaction.
    `replace_with_empty` lets a folder without enrolment rows replace its school's stored
    batch (refused otherwise, docs/upload-format.md)."""
    report = DirectoryReport()
    folders = batch_folders(root)
    synthetic = (Path(root) / SYNTHETIC_MARKER).is_file()
    for start in range(0, len(folders), chunk):
        part = folders[start:start + chunk]
        batches = [(f.name, files_from_paths([p for p in sorted(f.iterdir())
                                              if p.suffix in (".csv", ".parquet")])) for f in part]
        results = ingest_many(con, settings, batches, replace_with_empty=replace_with_empty,
                              bulk=bulk, synthetic=synthetic and bulk)
        for folder, result in zip(part, results):
            if isinstance(result, Exception):
                report.refused[folder.name] = str(result)
            else:
                report.statuses[result.status] += 1
                if synthetic and not bulk:
                    run_file(con, "synthetic_batch_mark", {"batch_id": result.batch_id})
                report.enrolment_rows += result.enrolment_rows
                report.absence_rows += result.absence_rows
        if progress:
            progress(len(part))
    return report


def synthetic_only(con: duckdb.DuckDBPyConnection, school_year: str) -> bool:
    """True if `school_year` has active batches and every one came from a folder that
    `aanwezig synth` wrote: the condition for `aanwezig evaluate` (it shows true values)."""
    try:
        active, real = con.execute(sql.load("synthetic_only"), {"school_year": school_year}).fetchone()
    except duckdb.CatalogException:      # a database from before the marker table
        return False
    return active > 0 and real == 0
