"""Writes from request threads while the writer thread derives: real concurrent HTTP requests
to a real server (`aanwezig serve` on loopback, a real DuckDB file).

Uploads (two threads per school, so a school's batches replace each other concurrently), API
key writes, researcher charges and weekly releases are sent while background derives run
(the first one a full re-derive of a database derived by older derive code, the later ones
incremental). No request may fail with a write
conflict or any other server error; a query asked before the first derive has finished is a
clear 409, not a 500; every derive job finishes; the derived tables end on the last active
batches; the ledger matches the stored releases. The test also checks from the job rows that
uploads, key writes and charges really committed while a derive transaction was open."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import duckdb
import httpx
import pytest

from service.api.auth import create_key
from service.db import connect
from service.ingest.derive import rebuild
from service.ingest.directory import ingest_directory
from service.jobs import records
from service.register.source import load_register
from service.releases.budget import ensure_budget
from service.settings import Settings
from service.synth.uploads import write_synthetic
from support.live_server import Server, ledger_against_releases

YEAR = "2025-2026"
#: Derives that must run from start to end under the load after the first one (whose
#: requests meet a database never derived).
LATER_DERIVES = 1
QUERY = {"dataset": YEAR, "measure": "enrolled", "group_by": ["province"]}


def utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_a_release_before_the_first_derive_is_a_409_and_costs_nothing(client, keys):  # noqa: F811
    """The tables a derive builds do not exist yet: a clear refusal, not a 500."""
    asked = client.post("/v1/queries", headers=keys.header("researcher"),
                        json={**QUERY, "budget": {"rho": "0.01"}})
    assert asked.status_code == 409, asked.text
    assert "has not been derived yet" in asked.json()["detail"]
    job = client.post(f"/v1/releases/standard/{YEAR}", headers=keys.header("admin")).json()
    assert client.app.state.writer.idle(60)
    state = client.get(job["links"]["status"], headers=keys.header("admin")).json()
    assert state["state"] == "failed" and "has not been derived yet" in state["error"], state
    budget = client.get("/v1/budget", headers=keys.header("admin"), params={"dataset": YEAR}).json()
    assert budget["global"]["spent"]["rho"] == "0"


@pytest.mark.slow
def test_uploads_keys_and_charges_while_derives_run_surface_no_write_conflict(tmp_path):
    db = tmp_path / "busy.duckdb"
    settings = Settings(mode="dev", db=db)
    write_synthetic(tmp_path / "uploads", pupils=4_000, seed=11, schools="sample")
    con = connect(db)
    load_register(con)
    assert not ingest_directory(con, settings, tmp_path / "uploads").refused
    schools = sorted(p.name for p in (tmp_path / "uploads").iterdir() if p.is_dir())[:2]
    school_keys = {s: create_key(con, settings, "school", s, "busy")[1] for s in schools}
    researcher = {"X-API-Key": create_key(con, settings, "researcher", "r-busy", "busy")[1]}
    # Derived once by older derive code: the service's first derive is a full re-derive
    # (seconds, as after a deploy that changes a bound), during which the requests below find
    # derived tables and commit their own writes; later derives are incremental (two schools).
    rebuild(con, YEAR)
    con.execute("UPDATE derived_version SET derive_code = 'older derive code' WHERE school_year = ?",
                [YEAR])
    first_job = records.queue(con, records.DERIVE, YEAR)
    con.close()
    admin = {"X-API-Key": settings.admin_key}

    seen: list[tuple[str, int, datetime, datetime, str]] = []   # kind, status, sent, done, text
    lock = threading.Lock()
    done = threading.Event()
    upload_jobs: list[tuple[datetime, str]] = []              # sent, job link

    def call(kind: str, method: str, path: str, **kw) -> httpx.Response:
        sent = utc()
        r = httpx.request(method, server.base + path, timeout=120, **kw)
        with lock:
            seen.append((kind, r.status_code, sent, utc(), r.text[:300]))
            if kind == "upload" and r.status_code == 201:
                upload_jobs.append((sent, r.json()["links"]["status"]))
        return r

    def uploader(school: str, variant: int) -> None:
        folder = tmp_path / "uploads" / school
        enrol, absent = (folder / "enrolments.csv").read_bytes(), (folder / "absences.csv").read_bytes()
        lines = absent.rstrip(b"\n").split(b"\n")
        i = variant
        while not done.is_set():
            body = b"\n".join(lines[:len(lines) - i % 3]) + b"\n"   # three contents in turn
            call("upload", "POST", "/v1/uploads", headers={"X-API-Key": school_keys[school]},
                 files=[("files", ("enrolments.csv", enrol)), ("files", ("absences.csv", body))])
            i += 1

    def key_writes() -> None:
        while not done.is_set():
            made = call("key", "POST", "/v1/keys", headers=admin,
                        json={"role": "policy", "label": "busy"})
            if made.status_code == 201:
                call("revoke", "DELETE", f"/v1/keys/{made.json()['key_id']}", headers=admin)

    def queries() -> None:
        i = 0
        while not done.is_set():      # a new budget each time: a new release, charged
            i += 1
            call("query", "POST", "/v1/queries", headers=researcher,
                 json={**QUERY, "budget": {"rho": f"0.{100 + i:06d}"}})

    def weeks() -> None:
        while not done.is_set():
            call("week", "POST", f"/v1/weekly/{YEAR}/weeks/1", headers=admin)
            done.wait(0.3)

    def wait_derived(link: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (job := server.get(link, headers=admin).json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)

    server = Server(db)
    try:
        threads = [threading.Thread(target=uploader, args=(s, v)) for s in schools for v in (0, 1)]
        threads += [threading.Thread(target=f) for f in (key_writes, queries, weeks)]
        for t in threads:
            t.start()
        try:
            wait_derived(f"/v1/jobs/{first_job}")
            for _ in range(LATER_DERIVES):        # a derive queued after the last one finished
                mark = utc()
                deadline = time.monotonic() + 60
                while not (later := [link for sent, link in upload_jobs if sent > mark]):
                    assert time.monotonic() < deadline, "no upload committed"
                    time.sleep(0.05)
                wait_derived(later[0])
        finally:
            done.set()
            for t in threads:
                t.join()
        deadline = time.monotonic() + 180
        while True:
            left = [j for j in server.get("/v1/uploads/status", headers=admin).json()["schools"]
                    if j["state"] in ("queued", "running")]
            if not left:
                break
            assert time.monotonic() < deadline, left
            time.sleep(0.2)
    finally:
        server.stop()
    log = server.log_text()

    status = Counter((kind, code) for kind, code, *_ in seen)
    assert not [s for s in seen if s[1] >= 500], (status, [s for s in seen if s[1] >= 500][:3])
    assert "failed:" not in log, log                  # the problem logger names every 5xx
    allowed = {"upload": {200, 201}, "key": {201}, "revoke": {204}, "query": {200, 201, 409},
               "week": {200, 409}}
    assert all(code in allowed[kind] for kind, code in status), status

    with duckdb.connect(str(db), read_only=True) as ro:
        derives = ro.execute("SELECT started_at, finished_at, state, error FROM job "
                             "WHERE kind = 'derive' GROUP BY ALL ORDER BY started_at").fetchall()
        active = ro.execute("SELECT count(*) FROM batch WHERE status = 'active' AND school_year = ?",
                            [YEAR]).fetchone()[0]
        version = ro.execute("SELECT batches FROM derived_version WHERE school_year = ?",
                             [YEAR]).fetchone()[0]
    assert {state for *_, state, _ in derives} == {"derived"}, derives
    assert version == active                         # the last derive read the last batches
    ledger_against_releases(db)

    first_derived = derives[0][1]
    refused = [s for s in seen if s[0] == "query" and s[1] == 409]
    assert all("not been derived yet" in text and sent < first_derived
               for _, _, sent, _, text in refused), refused

    def inside_a_derive(kind: str, codes: set[int]) -> int:
        """Requests of `kind` answered while a derive's transaction was open (after it started,
        before it committed): their own transactions committed a moment before the answer,
        with the derive's open. (Requiring the whole request inside made the check depend on
        timing once later derives became incremental and last a fraction of a second.)"""
        return sum(1 for k, code, sent, done, _ in seen if k == kind and code in codes
                   and any(start < done < end for start, end, *_ in derives))
    assert inside_a_derive("upload", {201}) > 0, (derives, status)
    assert inside_a_derive("key", {201}) > 0, (derives, status)
    assert inside_a_derive("query", {201}) > 0, (derives, status)


def test_the_default_caps_of_a_school_year_appear_together(tmp_path):
    """A request thread creating a year's default caps while another thread reads them (the
    writer's weekly plan did, in the test above, and failed with a TypeError on a missing
    pool row): no reader ever sees some of the four rows without the others."""
    con = connect(tmp_path / "caps.duckdb")
    datasets = [f"{y}-{y + 1}" for y in range(1990, 2030)]
    partial: list[tuple[str, int]] = []
    done = threading.Event()

    def watch() -> None:
        cur = con.cursor()
        try:
            while not done.is_set():
                partial.extend(cur.execute(
                    "SELECT dataset, count(*) FROM budget_cap WHERE scope IN ('global', 'pool') "
                    "GROUP BY dataset HAVING count(*) <> 4").fetchall())
        finally:
            cur.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for dataset in datasets:
            ensure_budget(con, dataset)
            ensure_budget(con, dataset)              # the second call changes nothing
    finally:
        done.set()
        watcher.join()
    assert partial == []
    assert con.execute("SELECT dataset, count(*) FROM budget_cap GROUP BY dataset ORDER BY dataset"
                       ).fetchall() == [(d, 4) for d in datasets]
    assert con.execute("SELECT count(*) FROM budget_event WHERE kind = 'cap'").fetchone()[0] == 4 * len(datasets)
    con.close()
