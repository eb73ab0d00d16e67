"""Job rows: queue, claim, finish, read. Ids, states, timings and error text only; nothing
here touches pupil data. Every statement is a named statement of `sql/jobs.sql`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

import sql

QUEUED, RUNNING, DERIVED, RELEASED, FAILED = "queued", "running", "derived", "released", "failed"
DERIVE, RELEASE_WEEK, RELEASE_STANDARD = "derive", "release_week", "release_standard"

_SQL = sql.named("jobs")


@dataclass(frozen=True)
class Job:
    job_id: int
    kind: str
    school_year: str
    school_id: str | None
    batch_id: int | None
    week: int | None
    state: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    progress: str | None
    release_id: str | None
    error: str | None

    def public(self) -> dict:
        """As shown by GET /v1/jobs/{job_id} (UTC timestamps)."""
        def t(v):
            return v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else None
        return {"job_id": self.job_id, "kind": self.kind, "school_year": self.school_year,
                "school_id": self.school_id, "batch_id": self.batch_id, "week": self.week,
                "state": self.state, "queued_at": t(self.queued_at),
                "started_at": t(self.started_at), "finished_at": t(self.finished_at),
                "seconds": None if self.seconds is None else round(self.seconds, 3),
                "progress": self.progress, "release_id": self.release_id, "error": self.error}


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def queue(cur: duckdb.DuckDBPyConnection, kind: str, school_year: str, *, school_id: str | None = None,
          batch_id: int | None = None, week: int | None = None) -> int:
    """Insert a queued job; its id."""
    job_id = cur.execute(_SQL["next_id"]).fetchone()[0]
    cur.execute(_SQL["queue"], {"job_id": job_id, "kind": kind, "school_year": school_year,
                                "school_id": school_id, "batch_id": batch_id, "week": week,
                                "now": now()})
    return int(job_id)


def get(cur: duckdb.DuckDBPyConnection, job_id: int) -> Job | None:
    row = cur.execute(_SQL["get"], {"job_id": job_id}).fetchone()
    return Job(*row) if row else None


def next_queued(cur: duckdb.DuckDBPyConnection) -> Job | None:
    row = cur.execute(_SQL["next_queued"]).fetchone()
    return Job(*row) if row else None


def queued(cur: duckdb.DuckDBPyConnection, kind: str, school_year: str) -> list[int]:
    """Every queued job of a kind and school year (a batched kind serves them all at once)."""
    return [r[0] for r in cur.execute(_SQL["queued_of_kind"],
                                      {"kind": kind, "school_year": school_year}).fetchall()]


def start(cur: duckdb.DuckDBPyConnection, job_ids: list[int], progress: str) -> None:
    cur.execute(_SQL["start"], {"now": now(), "progress": progress, "job_ids": job_ids})


def step(cur: duckdb.DuckDBPyConnection, job_ids: list[int], progress: str) -> None:
    cur.execute(_SQL["step"], {"progress": progress, "job_ids": job_ids})


def finish(cur: duckdb.DuckDBPyConnection, job_ids: list[int], state: str, seconds: float, *,
           release_id: str | None = None, error: str | None = None) -> None:
    cur.execute(_SQL["finish"], {"state": state, "now": now(), "seconds": seconds,
                                 "release_id": release_id, "error": error, "job_ids": job_ids})


def requeue_interrupted(cur: duckdb.DuckDBPyConnection) -> int:
    """After a crash: jobs left running go back to the queue (their work either committed,
    and running it again is a free repeat, or it rolled back with the process)."""
    n = cur.execute(_SQL["count_running"]).fetchone()[0]
    if n:
        cur.execute(_SQL["requeue_running"])
    return int(n)


def open_count(cur: duckdb.DuckDBPyConnection) -> int:
    """How many jobs are queued or running."""
    return int(cur.execute(_SQL["count_open"]).fetchone()[0])


def open_weeks(cur: duckdb.DuckDBPyConnection, school_year: str) -> set[int]:
    """The weeks of a school year whose release job is queued or running."""
    return {r[0] for r in cur.execute(_SQL["open_weeks"], {"school_year": school_year}).fetchall()}


def school_states(cur: duckdb.DuckDBPyConnection, school_year: str | None) -> list[dict]:
    """Per school and year: the active batch, when it arrived, and the state of the derive
    that followed its latest upload (no pupil data: ids, times and states)."""
    rows = cur.execute(_SQL["school_states"], {"school_year": school_year}).fetchall()

    def t(v):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else None
    return [{"school_id": r[0], "school_year": r[1], "batch_id": r[2], "received_at": t(r[3]),
             "job_id": r[4], "state": r[5] or "not_queued", "derived_at": t(r[6]), "error": r[7]}
            for r in rows]
