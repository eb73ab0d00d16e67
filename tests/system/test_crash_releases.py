"""kill -9 of the serving process in the MIDDLE of a release job: a scheduled weekly release
and a standard release started through the admin route. Real processes (`aanwezig serve` on
loopback), a real DuckDB file, real HTTP.

To hit the middle every time, the server runs with `AANWEZIG_TEST_PAUSE_AT` (a dev-only
setting, docs/settings.md): the thread that publishes the release stops at the named step
and says so on stderr; the test then kills the process there. Each test crashes the same job
twice in a row:

- at `release.charged`: inside the charge's transaction, the budget raised, the release not
  stored, nothing committed;
- at `release.stored`: committed, the job not yet marked done;

and after every crash checks that the ledger (cap rows and charge events) matches the stored
releases exactly: no charge without its release, no release without its charge. While a
server is held inside the charge's transaction, the API serves neither the release nor its
charge. The last start runs without a pause: the job that was interrupted is requeued and
completes once, the release it names is the one served, and asking again costs nothing."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from service.settings import Settings
from support.api_client import absences_csv, enrolments_csv
from support.live_server import Server, ledger_against_releases, wait_job

YEAR = "2025-2026"
STEPS = ("release.charged", "release.stored")


def job_row(db: Path, job_id: int) -> tuple[str, str | None]:
    with duckdb.connect(str(db), read_only=True) as ro:
        return ro.execute("SELECT state, release_id FROM job WHERE job_id = ?", [job_id]).fetchone()


def spent(db: Path, pool: str) -> int:
    with duckdb.connect(str(db), read_only=True) as ro:
        row = ro.execute("SELECT spent_micro FROM budget_cap WHERE dataset = ? AND scope = 'pool' "
                         "AND pool = ?", [YEAR, pool]).fetchone()
    return row[0] if row else 0


def upload(server: Server, school: dict) -> None:
    files = [("files", ("enrolments.csv", enrolments_csv())),
             ("files", ("absences.csv", absences_csv()))]
    up = server.post("/v1/uploads", headers=school, files=files)
    assert up.status_code == 201, up.text
    assert wait_job(server.base, up.json()["links"]["status"], school)["state"] == "derived"


def budget_spent(server: Server, admin: dict, pool: str) -> float:
    body = server.get("/v1/budget", headers=admin, dataset=YEAR).json()
    return body["pools"][pool]["spent"]["rho_decimal"]


def test_the_pause_is_refused_outside_dev_mode_and_silent_at_other_steps():
    with pytest.raises(ValueError, match="only in dev mode"):
        Settings(mode="production", hmac_key="x" * 32, admin_key="y" * 24,
                 signing_key="A" * 43 + "=", test_pause_at="release.charged")
    with pytest.raises(ValueError, match="only in dev mode"):
        Settings(mode="demo", test_pause_at="release.stored")
    with pytest.raises(ValueError):
        Settings(mode="dev", test_pause_at="release.somewhere")
    t0 = time.monotonic()
    Settings(mode="dev", test_pause_at="release.stored").pause_point("release.charged")
    Settings(mode="dev").pause_point("release.stored")
    assert time.monotonic() - t0 < 1


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_standard_release_job(database):  # noqa: F811
    db, school = database
    admin = {"X-API-Key": Settings(mode="dev", db=db).admin_key}
    job_id = None
    for step in STEPS:
        server = Server(db, AANWEZIG_TEST_PAUSE_AT=step)
        try:
            if job_id is None:                    # first start: data, then the admin's request
                upload(server, school)
                started = server.post(f"/v1/releases/standard/{YEAR}", headers=admin)
                assert started.status_code == 202, started.text
                job_id = started.json()["job_id"]
            server.wait_pause(step)               # the requeued job reached the step again
            if step == "release.charged":         # held before the commit: nothing is served
                assert server.get("/v1/releases", kind="standard").json()["data"] == []
                assert budget_spent(server, admin, "standard") == 0
            server.kill_9()
        finally:
            server.stop()
        stored = ledger_against_releases(db)
        assert job_row(db, job_id) == ("running", None)        # interrupted, not finished
        standard = [v for (kind, _), v in stored.items() if kind == "standard"]
        if step == "release.stored":
            assert len(standard) == 1 and spent(db, "standard") == standard[0][1] > 0
        else:
            assert standard == [] and spent(db, "standard") == 0
    (release_id, micro), = standard

    server = Server(db)
    try:
        job = wait_job(server.base, f"/v1/jobs/{job_id}", admin)
        assert (job["state"], job["release_id"]) == ("released", release_id), job
        listed = server.get("/v1/releases", kind="standard").json()["data"]
        assert [r["release_id"] for r in listed] == [release_id]
        assert server.get(f"/v1/releases/{release_id}").status_code == 200
        before = budget_spent(server, admin, "standard")
        again = server.post(f"/v1/releases/standard/{YEAR}", headers=admin).json()
        job = wait_job(server.base, again["links"]["status"], admin)
        assert (job["state"], job["release_id"]) == ("released", release_id), job
        assert budget_spent(server, admin, "standard") == before > 0
    finally:
        server.stop()
    stored = ledger_against_releases(db)
    assert [v for (kind, _), v in stored.items() if kind == "standard"] == [(release_id, micro)]
    assert spent(db, "standard") == micro                  # charged once, over three starts


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_scheduled_weekly_release(database):  # noqa: F811
    db, school = database
    with duckdb.connect(str(db), read_only=True) as ro:
        calendar_weeks = ro.execute("SELECT max(week_index) FROM calendar_day").fetchone()[0]
    admin = {"X-API-Key": Settings(mode="dev", db=db).admin_key}
    auto = {"AANWEZIG_WEEKLY_RELEASE_AUTO": "true"}
    first = True
    for step in STEPS:
        server = Server(db, AANWEZIG_TEST_PAUSE_AT=step, **auto)
        try:
            if first:                             # the scheduler takes week 1 after the derive
                upload(server, school)
                first = False
            server.wait_pause(step)
            if step == "release.charged":
                assert server.get("/v1/releases", kind="week").json()["data"] == []
                assert budget_spent(server, admin, "weekly") == 0
            server.kill_9()
        finally:
            server.stop()
        stored = ledger_against_releases(db)
        with duckdb.connect(str(db), read_only=True) as ro:
            jobs = ro.execute("SELECT week, state FROM job WHERE kind = 'release_week' "
                              "ORDER BY job_id").fetchall()
        assert jobs[0] == (1, "running"), jobs                  # week 1 interrupted
        weeks = [v for (kind, _), v in stored.items() if kind == "week"]
        if step == "release.stored":
            assert len(weeks) == 1 and spent(db, "weekly") == weeks[0][1] > 0
        else:
            assert weeks == [] and spent(db, "weekly") == 0
    (week_1, _), = weeks

    server = Server(db, **auto)
    try:
        deadline = time.monotonic() + 90
        while True:
            series = server.get(f"/v1/weekly/{YEAR}/series", measure="attendance_rate_4wk",
                                level="country", area="NL").json()
            if len(series.get("data", [])) == calendar_weeks:
                break
            assert time.monotonic() < deadline, series
            time.sleep(0.2)
        assert [p["week"] for p in series["data"]] == list(range(1, calendar_weeks + 1))
        before = budget_spent(server, admin, "weekly")
        again = server.post(f"/v1/weekly/{YEAR}/weeks/1", headers=admin)
        assert again.status_code == 200, again.text
        assert (again.json()["release_id"], again.json()["newly_charged"]) == (week_1, False)
        assert budget_spent(server, admin, "weekly") == before > 0
    finally:
        server.stop()
    stored = ledger_against_releases(db)
    weeks = sorted(v for (kind, _), v in stored.items() if kind == "week")
    assert len(weeks) == calendar_weeks and week_1 in [w[0] for w in weeks]
    assert spent(db, "weekly") == sum(m for _, m in weeks)
    with duckdb.connect(str(db), read_only=True) as ro:
        done = ro.execute("SELECT week, count(*), min(state), max(state), min(release_id) FROM job "
                          "WHERE kind = 'release_week' GROUP BY week ORDER BY week").fetchall()
    assert [(w, n, lo, hi) for w, n, lo, hi, _ in done] == [
        (w, 1, "released", "released") for w in range(1, calendar_weeks + 1)]
    assert done[0][4] == week_1
