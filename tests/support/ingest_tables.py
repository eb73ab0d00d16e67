"""Every table that ingest and derive write, as sorted rows, to compare two databases row for
row (`ingest_rows`), and a copy of a synthetic upload folder with re-uploads planted in it
(`plant_reuploads`): changed, unchanged and emptied schools."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

#: table -> the columns compared (a batch's received_at and a derive's derived_at are times)
TABLES = {
    "batch": "batch_id, school_id, school_year, content_hash, enrolment_rows, absence_rows, "
             "status, replaced_by",
    "enrolment": "*",
    "absence": "*",
    "synthetic_batch": "*",
    "derive_pending_batch": "*",
    "derive_pending_pupil": "*",
    "pupil_year": "*",
    "pupil_week": "*",
    "pupil_month": "*",
    "derived_version": "school_year, batches_hash, batches, derive_code",
}


def ingest_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of every table in TABLES (absent tables as no rows), sorted."""
    out = {}
    for table, columns in TABLES.items():
        try:
            out[table] = sorted(con.execute(f"SELECT {columns} FROM {table}").fetchall(),
                                key=repr)
        except duckdb.CatalogException:
            out[table] = []
    return out


def plant_reuploads(source: Path, target: Path) -> dict[str, list[str]]:
    """Copy `source` (one folder per school) to `target` with a second round planted: every
    third school changed (its last absence row dropped), every fifth emptied (header-only
    files), the rest unchanged. Returns the school ids per kind."""
    shutil.copytree(source, target)
    kinds: dict[str, list[str]] = {"changed": [], "emptied": [], "unchanged": []}
    for i, folder in enumerate(sorted(p for p in target.iterdir() if p.is_dir())):
        enrol, absent = folder / "enrolments.csv", folder / "absences.csv"
        if i % 5 == 0:
            for f in (enrol, absent):
                f.write_text(f.read_text().splitlines()[0] + "\n")
            kinds["emptied"].append(folder.name)
        elif i % 3 == 0 and len(absent.read_text().splitlines()) > 2:
            absent.write_text("\n".join(absent.read_text().splitlines()[:-1]) + "\n")
            kinds["changed"].append(folder.name)
        else:
            kinds["unchanged"].append(folder.name)
    return kinds
