"""The live service with real processes: `aanwezig serve` on a loopback port and a real DuckDB
file. A school's upload over HTTP is derived in the background while the service serves
(followed through its job link), and becomes a published weekly release without a restart;
the writing commands of the CLI work while the server holds the database (through its API),
and without the service's announcement say clearly who holds the file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from service.db import connect
from service.settings import Settings
from support.api_client import absences_csv, enrolments_csv
from support.derive_data import YEAR
from support.live_server import cli, free_port, start_server, wait_job
from support.tiny_register import ABSENCE_HEADER, ENROL_HEADER, SCHOOL_PO, csv


def test_an_upload_becomes_a_weekly_release_while_serving(database):
    db, school = database
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        files = [("files", ("enrolments.csv", enrolments_csv())),
                 ("files", ("absences.csv", absences_csv()))]
        up = httpx.post(base + "/v1/uploads", files=files, headers=school, timeout=30)
        assert up.status_code == 201, up.text
        link = up.json()["links"]["status"]
        job = wait_job(base, link, school)
        assert job["state"] == "derived" and job["kind"] == "derive", job
        assert job["batch_id"] == up.json()["batch_id"] and job["seconds"] >= 0

        # the CLI finds the running service through its announcement and uses its API
        done = cli("release-week", "--db", str(db), "--school-year", YEAR, "--week", "1")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "going through its API" in done.stdout and "published as R" in done.stdout
        series = httpx.get(base + f"/v1/weekly/{YEAR}/series", timeout=30, params={
            "measure": "attendance_rate_4wk", "level": "country", "area": "NL"})
        assert series.status_code == 200 and [p["week"] for p in series.json()["data"]] == [1]
        made = cli("keys", "create", "--db", str(db), "--role", "policy", "--label", "while serving")
        assert made.returncode == 0 and "key id: k_" in made.stdout, made.stdout + made.stderr
        admin = {"X-API-Key": Settings(mode="dev", db=db).admin_key}
        states = httpx.get(base + "/v1/uploads/status", headers=admin, timeout=10).json()["schools"]
        assert [(s["school_id"], s["state"]) for s in states] == [(SCHOOL_PO, "derived")]

        # no announcement (and no --url): a clear refusal naming the holder, not "locked"
        Path(f"{db}.service.json").rename(f"{db}.moved")
        refused = cli("release-week", "--db", str(db), "--school-year", YEAR, "--week", "2")
        text = refused.stdout + refused.stderr
        assert refused.returncode == 1 and f"in use by process {proc.pid}" in text, text
        assert "--url" in text and "Traceback" not in text
        by_url = cli("keys", "list", "--db", str(db), "--url", base)
        assert by_url.returncode == 0 and "policy" in by_url.stdout, by_url.stdout + by_url.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ingest_replace_with_empty_goes_through_the_running_service(database, tmp_path):
    db, school = database
    files = tmp_path / "files"
    files.mkdir()
    (files / "enrolments.csv").write_bytes(enrolments_csv())
    (files / "absences.csv").write_bytes(absences_csv())
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "enrolments.csv").write_bytes(csv([], ENROL_HEADER))
    (empty / "absences.csv").write_bytes(csv([], ABSENCE_HEADER))

    def ingest(folder: Path, *flags: str) -> subprocess.CompletedProcess:
        return cli("ingest", "--db", str(db), "--school", SCHOOL_PO, *flags,
                   str(folder / "enrolments.csv"), str(folder / "absences.csv"))

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port)
    try:
        stored = ingest(files)
        assert stored.returncode == 0 and "going through its API" in stored.stdout, stored.stdout
        refused = ingest(empty)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "replace_with_empty" in refused.stdout and "Traceback" not in refused.stderr
        replaced = ingest(empty, "--replace-with-empty")
        assert replaced.returncode == 0, replaced.stdout + replaced.stderr
        assert "going through its API" in replaced.stdout and "'replaced': 1" in replaced.stdout
        admin = {"X-API-Key": Settings(mode="dev", db=db).admin_key}
        states = httpx.get(base + "/v1/uploads/status", headers=admin, timeout=10).json()["schools"]
        assert [s["school_id"] for s in states] == [SCHOOL_PO]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    con = connect(db)
    active = con.execute("SELECT count(*) FROM enrolment JOIN batch USING (batch_id) "
                         "WHERE batch.school_id = ? AND batch.status = 'active'",
                         [SCHOOL_PO]).fetchone()[0]
    con.close()
    assert active == 0
