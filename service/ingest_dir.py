"""Ingest a folder of school batches (`<root>/<school_id>/{enrolments,absences}.{csv,parquet}`),
as `aanwezig synth` writes them and as a school board's system would deliver them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb

from service.ingest import BatchReport, IngestError, UnknownSchool, files_from_paths, ingest_files
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
                     progress: Callable[[int], None] | None = None) -> DirectoryReport:
    """Ingest every school folder under `root` (one batch each). A refused batch is
    reported and skipped; the others are stored."""
    report = DirectoryReport()
    for folder in batch_folders(root):
        files = [p for p in sorted(folder.iterdir()) if p.suffix in (".csv", ".parquet")]
        try:
            result: BatchReport = ingest_files(con, settings, folder.name, files_from_paths(files))
        except (IngestError, UnknownSchool) as exc:
            report.refused[folder.name] = str(exc)
        else:
            report.statuses[result.status] += 1
            report.enrolment_rows += result.enrolment_rows
            report.absence_rows += result.absence_rows
        if progress:
            progress(1)
    return report
