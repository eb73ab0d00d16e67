"""kill -9 of a bulk ingest (`ingest_directory`: one transaction per chunk of batches) at
several points, first uploads and replacing re-uploads: no partial batch is left — every
batch row has exactly its rows, its pending entry and its synthetic mark, every replaced
batch has none, each school one active batch — and running the ingest again completes it to
exactly what an uninterrupted run stores. Real processes, a real DuckDB file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from service.db import connect
from service.register.source import load_register
from service.synth.uploads import write_synthetic
from support.ingest_tables import ingest_rows, plant_reuploads
from support.paths import ROOT

#: ingest a folder in chunks of 8 batches, printing a line after each chunk
_SCRIPT = """
import sys
from pathlib import Path
from service.db import connect
from service.ingest.directory import ingest_directory
from service.settings import Settings
db, folder = Path(sys.argv[1]), Path(sys.argv[2])
con = connect(db)
def tick(n):
    print("chunk", flush=True)
ingest_directory(con, Settings(mode="dev", db=db), folder, progress=tick, chunk=8,
                 replace_with_empty=True)
con.close()
print("done", flush=True)
"""


def _ingest(db: Path, folder: Path, kill_after_chunks: int | None = None,
            delay: float = 0.0) -> tuple[bool, list[float]]:
    """Run the ingest; with `kill_after_chunks`, SIGKILL it `delay` s after that many chunks
    committed. (killed before it finished?, the seconds between chunk lines)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AANWEZIG_MODE": "dev"}
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(db), str(folder)], env=env,
                            stdout=subprocess.PIPE, text=True)
    times = []
    try:
        seen = 0
        while kill_after_chunks is None or seen < kill_after_chunks:
            line = proc.stdout.readline()
            times.append(time.monotonic())
            if line.strip() == "done" or not line:
                assert proc.wait(timeout=60) == 0
                return False, [b - a for a, b in zip(times, times[1:])]
            seen += 1
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return proc.returncode == -signal.SIGKILL, []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _assert_no_partial_batch(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        bad = con.execute("""
            SELECT b.batch_id, b.status, b.enrolment_rows, b.absence_rows,
                   (SELECT count(*) FROM enrolment e WHERE e.batch_id = b.batch_id),
                   (SELECT count(*) FROM absence a WHERE a.batch_id = b.batch_id),
                   (SELECT count(*) FROM derive_pending_batch p WHERE p.batch_id = b.batch_id),
                   (SELECT count(*) FROM synthetic_batch s WHERE s.batch_id = b.batch_id)
            FROM batch b""").fetchall()
        for batch_id, status, enrol, absent, e, a, pending, mark in bad:
            if status == "active":
                assert (e, a, pending, mark) == (enrol, absent, 1, 1), batch_id
            else:
                assert (e, a, pending, mark) == (0, 0, 1, 1), batch_id
        assert con.execute("SELECT count(*) FROM enrolment WHERE batch_id NOT IN "
                           "(SELECT batch_id FROM batch)").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM absence WHERE batch_id NOT IN "
                           "(SELECT batch_id FROM batch)").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM (SELECT school_id FROM batch WHERE status = "
                           "'active' GROUP BY ALL HAVING count(*) > 1)").fetchone()[0] == 0


@pytest.mark.slow
def test_kill_9_during_a_bulk_ingest_leaves_no_partial_batch(tmp_path):
    write_synthetic(tmp_path / "first", pupils=1500, seed=11, schools="sample")
    plant_reuploads(tmp_path / "first", tmp_path / "second")
    empty = tmp_path / "empty.duckdb"
    con = connect(empty)
    load_register(con)
    con.close()

    reference = tmp_path / "reference.duckdb"
    shutil.copy(empty, reference)
    _, gaps = _ingest(reference, tmp_path / "first")
    _ingest(reference, tmp_path / "second")
    with duckdb.connect(str(reference), read_only=True) as con:
        want = ingest_rows(con)
    chunk = sorted(gaps)[len(gaps) // 2]          # a chunk's median time: kills spread over it

    db = tmp_path / "crash.duckdb"
    shutil.copy(empty, db)
    killed = 0
    for folder in ("first", "second"):             # first uploads, then replacing re-uploads
        for n, fraction in enumerate((0.1, 0.3, 0.5, 0.7, 0.9)):
            was_killed, _ = _ingest(db, tmp_path / folder, 1 + n, chunk * fraction)
            killed += was_killed
            _assert_no_partial_batch(db)
        _ingest(db, tmp_path / folder)             # the rest of the round
        _assert_no_partial_batch(db)
    with duckdb.connect(str(db), read_only=True) as con:
        got = ingest_rows(con)
    for table in want:           # the same rows; batch ids may follow the run
        if table in ("batch", "synthetic_batch", "derive_pending_batch"):
            assert len(got[table]) == len(want[table]), table
        elif table in ("enrolment", "absence"):
            assert sorted(r[1:] for r in got[table]) == sorted(r[1:] for r in want[table])
        else:
            assert got[table] == want[table], table
    assert killed >= 8           # the kills landed while the ingest ran
