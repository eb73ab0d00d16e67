"""The bulk ingest path (service.ingest.bulk_store: one transaction per chunk of batches, one
statement per table) against the per-batch path (service.ingest.storing.store: one transaction
per batch) on the same synthetic uploads: every table ingest and derive write is equal row for
row, batch ids included, through first uploads, unchanged, changed and emptied re-uploads (with
and without replace_with_empty) and two batches of one school in one call. And every malformed
upload of tests/support/upload_corpus.py is refused alone by the bulk path with the same file,
row and field as one upload, next to a valid batch that is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.db import connect
from service.ingest.batches import IngestError, files_from_paths, ingest_many
from service.ingest.derive import rebuild, rederive
from service.ingest.directory import ingest_directory
from service.ingest.parsing import UploadFile
from service.register.source import load_register
from service.settings import Settings
from service.synth.uploads import write_synthetic
from support.ingest_tables import ingest_rows, plant_reuploads
from support.upload_corpus import VARIANTS, Base, synthetic_base

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def uploads(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("bulk")
    write_synthetic(root / "first", pupils=2500, seed=7, schools="sample")
    kinds = plant_reuploads(root / "first", root / "second")
    assert all(len(v) >= 3 for v in kinds.values()), kinds
    return root / "first", root / "second"


def _fresh(path: Path):
    con = connect(path)
    load_register(con)
    return con


def _round(con, settings, folder, bulk, **options):
    report = ingest_directory(con, settings, folder, chunk=40, bulk=bulk, **options)
    return dict(report.statuses), sorted(report.refused.items())


def test_bulk_and_per_batch_ingest_write_the_same_rows(uploads, tmp_path):
    first, second = uploads
    databases = {}
    outcomes = {}
    for bulk in (False, True):
        db = tmp_path / f"bulk-{bulk}.duckdb"
        settings = Settings(mode="dev", db=db)
        con = _fresh(db)
        steps = []
        steps.append(_round(con, settings, first, bulk))
        rebuild(con, YEAR)
        steps.append(ingest_rows(con))
        steps.append(_round(con, settings, second, bulk))       # emptied ones refused
        rederive(con, YEAR)
        steps.append(ingest_rows(con))
        steps.append(_round(con, settings, second, bulk, replace_with_empty=True))
        rederive(con, YEAR)
        steps.append(ingest_rows(con))
        steps.append(_round(con, settings, first, bulk))        # back to the first round
        rederive(con, YEAR)
        steps.append(ingest_rows(con))
        outcomes[bulk], databases[bulk] = steps[0::2], steps[1::2]
        con.close()
    assert outcomes[True] == outcomes[False]
    statuses = [o[0] for o in outcomes[True]]
    assert set(statuses[0]) == {"stored"}
    assert {"replaced", "unchanged"} <= set(statuses[1]) and outcomes[True][1][1]  # refused
    assert "replaced" in statuses[2] and not outcomes[True][2][1]
    for step, (old, new) in enumerate(zip(databases[False], databases[True])):
        for table in old:
            assert old[table] == new[table], (step, table)
    last = databases[True][-1]
    assert last["pupil_week"] and last["pupil_month"] and last["derive_pending_pupil"] == []
    assert any(row[6] == "replaced" for row in last["batch"])
    assert len(last["synthetic_batch"]) == len(last["batch"])


def test_two_batches_of_one_school_in_one_call_are_stored_in_order(uploads, tmp_path):
    first, second = uploads
    school = next(f.name for f in sorted(second.iterdir()) if f.is_dir() and
                  (f / "absences.csv").read_bytes() != (first / f.name / "absences.csv").read_bytes()
                  and len((f / "enrolments.csv").read_text().splitlines()) > 1)
    batches = [(school, files_from_paths(sorted((folder / school).iterdir())))
               for folder in (first, second, first)]
    rows, results = {}, {}
    for bulk in (False, True):
        db = tmp_path / f"twice-{bulk}.duckdb"
        con = _fresh(db)
        results[bulk] = ingest_many(con, Settings(mode="dev", db=db), batches, bulk=bulk)
        rows[bulk] = ingest_rows(con)
        con.close()
    assert results[True] == results[False]
    assert [r.status for r in results[True]] == ["stored", "replaced", "replaced"]
    assert [r.batch_id for r in results[True]] == [1, 2, 3]
    assert rows[True] == rows[False]


@pytest.fixture(scope="module")
def corpus_base(tmp_path_factory) -> tuple[Base, list[UploadFile]]:
    """One school's valid files (as tests/api/test_upload_corpus.py picks them) and another
    school's valid batch."""
    root = tmp_path_factory.mktemp("corpus")
    base, folders = synthetic_base(root)
    other = next(f for f in folders if f.name != base.school_id
                 and (f / "absences.csv").stat().st_size > 1000)
    return base, (other.name, files_from_paths(sorted(other.iterdir())))


def test_the_bulk_path_refuses_every_corpus_variant_alone_with_file_row_and_field(
        corpus_base, tmp_path):
    base, valid = corpus_base
    db = tmp_path / "corpus.duckdb"
    con = _fresh(db)
    batches = [valid] + [(base.school_id, [UploadFile(name, content)
                                           for name, content in v.files(base)])
                         for v in VARIANTS]
    results = ingest_many(con, Settings(mode="dev", db=db), batches, bulk=True)
    assert results[0].status == "stored"
    for variant, result in zip(VARIANTS, results[1:]):
        assert isinstance(result, IngestError), (variant.name, result)
        wanted = (variant.file, variant.expected_row(base), variant.field)
        matches = [e for e in result.errors if (e.file, e.row, e.field) == wanted]
        assert matches, (variant.name, wanted, result.errors[:5])
        assert any(variant.fragment in e.message for e in matches), (variant.name, matches)
    stored = con.execute("SELECT school_id, count(*) FROM batch GROUP BY ALL").fetchall()
    assert stored == [(valid[0], 1)]
    assert con.execute("SELECT count(DISTINCT batch_id) FROM enrolment").fetchone()[0] == 1
    con.close()
