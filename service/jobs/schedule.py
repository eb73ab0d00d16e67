"""When each school week's release is due, and which are due now.

Week w of a school year closes with its last school day (the latest over the holiday
regions); its release is due at the first `AANWEZIG_WEEKLY_RELEASE_AT` moment (default Monday
06:00 in `AANWEZIG_TIMEZONE`, Europe/Amsterdam) after that day, computed in local time so
summer and winter time are right. Weeks are released in order; the first week without data
(or not yet due) stops the list. A week already released or already queued is not queued
again, and publishing it again would be free anyway (its identity is the week)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import duckdb

import sql
from service.jobs import records
from service.register import lookup
from service.weekly import series as weekly

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def parse_moment(text: str) -> tuple[int, time]:
    """'MON 06:00' -> (0, 06:00)."""
    day, clock = text.split()
    hour, minute = clock.split(":")
    return DAYS.index(day), time(int(hour), int(minute))


def due_at(last_day: date, moment: str, zone: str) -> datetime:
    """The UTC moment the release of a week whose last school day is `last_day` is due."""
    weekday, clock = parse_moment(moment)
    ahead = (weekday - last_day.weekday()) % 7 or 7           # strictly after the last day
    local = datetime.combine(last_day + timedelta(days=ahead), clock, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def due_weeks(cur: duckdb.DuckDBPyConnection, now: datetime, moment: str,
              zone: str) -> list[tuple[str, int]]:
    """(school year, week) whose release is due at `now` (UTC), not released and not queued,
    in order; stops at the first week that is not due or has no data."""
    out = []
    years = lookup.school_years_started(cur, now.date())
    for year in years:
        released = weekly.week_releases(cur, year)
        pending = records.open_weeks(cur, year)
        weeks = lookup.week_last_days(cur, year)
        for week, last_day in weeks:
            if week in released or week in pending:
                continue
            if due_at(last_day, moment, zone) > now or not _has_data(cur, year, week):
                break
            out.append((year, int(week)))
    return out


def _has_data(cur, year: str, week: int) -> bool:
    try:
        return bool(cur.execute(sql.load("weekly_week_has_data"),
                                {"school_year": year, "week": week}).fetchone()[0])
    except duckdb.CatalogException:   # derived tables not built yet
        return False


def queue_due(cur: duckdb.DuckDBPyConnection, moment: str, zone: str,
              now: datetime | None = None) -> list[int]:
    """Queue a release job for every due week; their job ids."""
    now = now or datetime.now(UTC)
    return [records.queue(cur, records.RELEASE_WEEK, year, week=week)
            for year, week in due_weeks(cur, now, moment, zone)]
