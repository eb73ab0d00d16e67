"""The weekly release on its schedule: the due moment in Amsterdam time across the change to
winter time, and with real processes: uploads become weekly releases with no one asking,
each week exactly once, also after a kill -9 and a restart."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, date, datetime

import duckdb
import httpx

from service.jobs.schedule import due_at
from service.settings import Settings
from support.api_client import absences_csv, enrolments_csv
from support.live_server import free_port, start_server, wait_job

YEAR = "2025-2026"


def test_due_on_the_monday_after_the_week_at_six_local_time():
    # summer time (UTC+2) and, after 26 October 2025, winter time (UTC+1)
    assert due_at(date(2025, 10, 17), "MON 06:00", "Europe/Amsterdam") == datetime(2025, 10, 20, 4, 0, tzinfo=UTC)
    assert due_at(date(2025, 10, 24), "MON 06:00", "Europe/Amsterdam") == datetime(2025, 10, 27, 5, 0, tzinfo=UTC)
    # a week whose last school day is a Monday is due the Monday after, never the same day
    assert due_at(date(2025, 10, 20), "MON 06:00", "Europe/Amsterdam") == datetime(2025, 10, 27, 5, 0, tzinfo=UTC)
    assert due_at(date(2025, 10, 24), "SAT 18:30", "UTC") == datetime(2025, 10, 25, 18, 30, tzinfo=UTC)


def weekly_state(db) -> tuple[int, int, int]:
    with duckdb.connect(str(db), read_only=True) as ro:
        weeks, distinct = ro.execute("SELECT count(*), count(DISTINCT spec_json) FROM release "
                                     "WHERE kind = 'week'").fetchone()
        spent = ro.execute("SELECT spent_micro FROM budget_cap WHERE dataset = ? AND scope = 'pool' "
                           "AND pool = 'weekly'", [YEAR]).fetchone()[0]
    return weeks, distinct, spent


def test_scheduled_weeks_are_released_once_across_a_kill_and_a_restart(database):  # noqa: F811
    db, school = database
    with duckdb.connect(str(db), read_only=True) as ro:
        calendar_weeks = ro.execute("SELECT max(week_index) FROM calendar_day").fetchone()[0]
    auto = {"AANWEZIG_WEEKLY_RELEASE_AUTO": "true"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(db, port, **auto)
    try:
        files = [("files", ("enrolments.csv", enrolments_csv())),
                 ("files", ("absences.csv", absences_csv()))]
        up = httpx.post(base + "/v1/uploads", files=files, headers=school, timeout=30)
        assert wait_job(base, up.json()["links"]["status"], school)["state"] == "derived"
        deadline = time.monotonic() + 90
        while True:
            series = httpx.get(base + f"/v1/weekly/{YEAR}/series", timeout=30, params={
                "measure": "attendance_rate_4wk", "level": "country", "area": "NL"}).json()
            if len(series.get("data", [])) == calendar_weeks:   # before week 1: a problem
                break
            assert time.monotonic() < deadline, series
            time.sleep(0.2)
        assert [p["week"] for p in series["data"]] == list(range(1, calendar_weeks + 1))
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    before = weekly_state(db)
    assert before[:2] == (calendar_weeks, calendar_weeks) and before[2] > 0

    proc = start_server(db, free_port(), **auto)       # starts, looks for due weeks at once
    try:
        time.sleep(2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert weekly_state(db) == before                  # nothing released or charged twice
    assert Settings(mode="production", hmac_key="x" * 32, admin_key="y" * 24,
                    signing_key="A" * 43 + "=").weekly_schedule_on
    assert not Settings(mode="dev").weekly_schedule_on
