"""kill -9 of the serving process during a background derive: nothing half-derived is left
(the derive is one transaction with its data version), the job that was running is resumed
when the service starts again, and it finishes. Real processes, a real DuckDB file."""

from __future__ import annotations

import os
import signal
import time

import duckdb
import httpx
import pytest

from service.db import connect
from service.ingest.directory import ingest_directory
from service.jobs import records
from service.register.source import load_register
from service.settings import Settings
from service.synth.uploads import write_synthetic
from support.live_server import free_port, start_server

YEAR = "2025-2026"


def rows(con, table: str) -> int:
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    except duckdb.CatalogException:
        return 0


def job_state(base: str, admin: dict, job_id: int) -> dict:
    return httpx.get(f"{base}/v1/jobs/{job_id}", headers=admin, timeout=10).json()


@pytest.mark.slow
def test_kill_9_during_a_background_derive_resumes_and_serves_nothing_half_derived(tmp_path):
    db = tmp_path / "crash.duckdb"
    settings = Settings(mode="dev", db=db)
    write_synthetic(tmp_path / "uploads", pupils=40_000, seed=5, schools="sample")
    con = connect(db)
    load_register(con)
    assert not ingest_directory(con, settings, tmp_path / "uploads").refused
    job_id = records.queue(con, records.DERIVE, YEAR)     # as an upload leaves it
    con.close()
    admin = {"X-API-Key": settings.admin_key}

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        deadline = time.monotonic() + 60
        while job_state(base, admin, job_id)["state"] != "running":
            assert time.monotonic() < deadline, "the derive never started"
            time.sleep(0.01)
        time.sleep(0.3)                                   # inside the derive transaction
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    with duckdb.connect(str(db), read_only=True) as ro:
        state = ro.execute("SELECT state FROM job WHERE job_id = ?", [job_id]).fetchone()[0]
        assert state == "running"                         # it was interrupted, not finished
        # nothing half-derived: the tables (created inside the same transaction) are absent or empty
        assert (rows(ro, "derived_version"), rows(ro, "pupil_year"), rows(ro, "pupil_week")) == (0, 0, 0)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        deadline = time.monotonic() + 120
        while (job := job_state(base, admin, job_id))["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["state"] == "derived", job
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with duckdb.connect(str(db), read_only=True) as ro:
        active = ro.execute("SELECT count(*) FROM batch WHERE status = 'active' AND "
                            "school_year = ?", [YEAR]).fetchone()[0]
        assert ro.execute("SELECT batches FROM derived_version WHERE school_year = ?",
                          [YEAR]).fetchone()[0] == active
        assert ro.execute("SELECT count(*) > 0 FROM pupil_year").fetchone()[0]
