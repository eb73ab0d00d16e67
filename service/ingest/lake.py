"""The uploads as a Parquet lake, for engines that read files rather than the DuckDB database
(Spark: `service.engines.spark`).

Layout, one folder per school year and school (Hive-style partitions, readable by Spark and by
DuckDB's `read_parquet(..., hive_partitioning = true)`):

    <lake>/enrolment/school_year=2025-2026/school_id=12AB00/batch.parquet
    <lake>/absence/school_year=2025-2026/school_id=12AB00/batch.parquet

A partition holds the school's ACTIVE batch for that year: exactly the pseudonymised rows the
DuckDB tables hold after the batch was validated and stored (the lake is written from them,
after the batch's transaction committed, so a refused batch never reaches it). A replacing
batch replaces the partition's file atomically: the new file is written beside it under a
hidden name (readers skip names starting with '.') and renamed over the old one.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

import sql

TABLES = ("enrolment", "absence")


def partition(lake: Path, table: str, school_year: str, school_id: str) -> Path:
    """The folder of one school's rows of one school year."""
    return Path(lake) / table / f"school_year={school_year}" / f"school_id={school_id}"


def write_batch(con: duckdb.DuckDBPyConnection, lake: Path, batch_id: int, school_id: str,
                school_year: str) -> None:
    """Write a stored batch's rows to its partitions, replacing what was there."""
    for table in TABLES:
        rows = con.sql(sql.load(f"lake_{table}"), params={"batch_id": batch_id}).to_arrow_table()
        folder = partition(lake, table, school_year, school_id)
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".batch-{uuid.uuid4().hex}.parquet"
        pq.write_table(rows, temporary)
        os.replace(temporary, folder / "batch.parquet")


def write_all(con: duckdb.DuckDBPyConnection, lake: Path) -> int:
    """Write every active batch of the database to the lake (an existing database moving to
    a lake engine), in two bulk writes to a staging folder whose files are then renamed into
    place one partition at a time; returns the number of partitions written."""
    lake = Path(lake)
    staging = lake / f".staging-{uuid.uuid4().hex}"
    paths = {t: staging / t for t in TABLES}
    staging.mkdir(parents=True)
    try:
        for statement in sql.statements("lake_export"):
            con.execute(statement.format(**{t: _quoted(p) for t, p in paths.items()}))
        moved = 0
        for table in TABLES:
            for written in sorted(paths[table].glob("school_year=*/school_id=*/*.parquet")):
                school_year = written.parent.parent.name.split("=", 1)[1]
                school_id = written.parent.name.split("=", 1)[1]
                folder = partition(lake, table, school_year, school_id)
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(written, folder / "batch.parquet")
                moved += 1
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _quoted(path: Path) -> str:
    """A folder path as a SQL string literal (the operator's lake path, never user input)."""
    return "'" + str(path).replace("'", "''") + "'"
