"""The Parquet lake (service/ingest/lake.py): every stored batch also lands as Parquet in its
school-year and school partition, with exactly the pseudonymised rows of the database; a
replacing batch replaces the partition's file; a refused batch writes nothing; lake-export
writes the same layout from an existing database. No Spark needed."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from service.db import connect
from service.ingest.batches import IngestError, ingest_files
from service.ingest.lake import partition, write_all
from service.settings import Settings
from support.tiny_register import (
    SCHOOL_PO,
    SCHOOL_VO,
    batch,
    good_absences,
    good_enrolments,
    load_tiny_register,
)

YEAR = "2025-2026"


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "t.duckdb")
    load_tiny_register(con)
    yield con
    con.close()


def _files(lake, table, school):
    return sorted(p.name for p in partition(lake, table, YEAR, school).iterdir())


def _lake_rows(lake, table, school, columns):
    rows = pq.read_table(partition(lake, table, YEAR, school) / "batch.parquet").to_pylist()
    return sorted(tuple(r[c] for c in columns) for r in rows)


def _db_rows(con, table, school, columns):
    return sorted(con.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE school_id = ?",
                              [school]).fetchall())


ENROL = ["batch_id", "pupil_key", "birth_year", "grade", "residence_code", "enrolled_from",
         "enrolled_to"]
ABSENT = ["batch_id", "pupil_key", "day", "minutes", "reason"]


def test_a_stored_batch_lands_in_its_partition_with_the_databases_rows(con, tmp_path):
    lake = tmp_path / "lake"
    settings = Settings(mode="dev", lake=lake)
    ingest_files(con, settings, SCHOOL_PO, batch())
    assert _files(lake, "enrolment", SCHOOL_PO) == ["batch.parquet"]
    assert _lake_rows(lake, "enrolment", SCHOOL_PO, ENROL) == _db_rows(con, "enrolment", SCHOOL_PO, ENROL)
    assert _lake_rows(lake, "absence", SCHOOL_PO, ABSENT) == _db_rows(con, "absence", SCHOOL_PO, ABSENT)
    assert len(_lake_rows(lake, "absence", SCHOOL_PO, ABSENT)) == 5
    # pseudonyms only: the pupil numbers of the upload appear nowhere in the lake
    raw = (partition(lake, "enrolment", YEAR, SCHOOL_PO) / "batch.parquet").read_bytes()
    for row in good_enrolments():
        assert str(row[0]).encode() not in raw


def test_a_replacing_batch_replaces_the_partition_and_leaves_other_schools(con, tmp_path):
    lake = tmp_path / "lake"
    settings = Settings(mode="dev", lake=lake)
    ingest_files(con, settings, SCHOOL_VO, batch())
    first = ingest_files(con, settings, SCHOOL_PO, batch())
    fixed = ingest_files(con, settings, SCHOOL_PO, batch(absent=good_absences()[:2]))
    assert fixed.replaced_batch_id == first.batch_id
    assert _files(lake, "absence", SCHOOL_PO) == ["batch.parquet"]       # no temporary left
    rows = _lake_rows(lake, "absence", SCHOOL_PO, ABSENT)
    assert len(rows) == 2 and {r[0] for r in rows} == {fixed.batch_id}
    assert len(_lake_rows(lake, "absence", SCHOOL_VO, ABSENT)) == 5


def test_a_refused_batch_writes_nothing(con, tmp_path):
    lake = tmp_path / "lake"
    settings = Settings(mode="dev", lake=lake)
    with pytest.raises(IngestError):
        ingest_files(con, settings, SCHOOL_PO, batch(absent=[[good_enrolments()[0][0],
                                                               "2025-09-02", 99, "sick"]]))
    assert not lake.exists() or not any(lake.rglob("*.parquet"))


def test_lake_export_writes_the_active_batches_in_the_same_layout(con, tmp_path):
    settings = Settings(mode="dev")                   # no lake while ingesting
    ingest_files(con, settings, SCHOOL_PO, batch())
    fixed = ingest_files(con, settings, SCHOOL_PO, batch(absent=good_absences()[:2]))
    ingest_files(con, settings, SCHOOL_VO, batch())
    lake = tmp_path / "lake"
    assert write_all(con, lake) == 4
    for school in (SCHOOL_PO, SCHOOL_VO):
        assert _files(lake, "enrolment", school) == ["batch.parquet"]
        assert _lake_rows(lake, "absence", school, ABSENT) == _db_rows(con, "absence", school, ABSENT)
    assert {r[0] for r in _lake_rows(lake, "absence", SCHOOL_PO, ABSENT)} == {fixed.batch_id}
    assert not [p for p in lake.iterdir() if p.name.startswith(".")]   # staging removed


def test_the_spark_engine_needs_a_lake():
    with pytest.raises(ValueError, match="AANWEZIG_LAKE"):
        Settings(mode="dev", engine="spark")
