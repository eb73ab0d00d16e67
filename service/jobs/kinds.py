"""Every kind of job the writer thread runs, each declared once, here, with its handler.

A kind is one `@job_kind` function: what the job's row shows while it runs (`progress`), the
state it ends in (`done`), whether one run serves every queued job of the kind and school
year (`batched`: several uploads' derives become one incremental derive), whether new data
may have made a weekly release due (`new_data`), and the work itself: one transaction on the
writer's cursor, returning the id of the release it published (or None). The writer hands each
handler the serving process's `service.db.Database` (`database=`: its locks, counters and
memos) and its engine factory (`engine=`: makes the configured engine, `AANWEZIG_ENGINE`,
unless the app was given another); derives and the standard release run on the engine it
makes over the writer's cursor. The writer reads `KINDS`; adding a kind is adding one function below (and
queueing it where it is asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from service.db import Database
from service.engines import EngineFactory
from service.ingest.derive import rederive
from service.jobs import records
from service.jobs.records import Job
from service.releases.standard import publish_standard
from service.settings import Settings
from service.weekly import series as weekly

#: `handler(cursor, settings, job, *, database, engine)`: the id of the release it published
#: (`engine`: an `EngineFactory`, called over the cursor by the kinds that read pupil data).
Handler = Callable[..., "str | None"]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler
    progress: Callable[[Job], str]
    done: str = records.RELEASED
    batched: bool = False
    new_data: bool = False


#: Every job kind by name (`job.kind`); filled by `job_kind` below, read by the writer.
KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, progress: Callable[[Job], str], done: str = records.RELEASED,
             batched: bool = False, new_data: bool = False) -> Callable[[Handler], Handler]:
    """Declare the handler of job kind `name` (once)."""
    def register(run: Handler) -> Handler:
        if name in KINDS:
            raise ValueError(f"job kind {name!r} is declared twice")
        KINDS[name] = JobKind(name, run, progress, done, batched, new_data)
        return run
    return register


@job_kind(records.DERIVE, done=records.DERIVED, batched=True, new_data=True,
          progress=lambda job: "deriving the per-pupil tables of the uploaded pupils")
def derive(cur: duckdb.DuckDBPyConnection, settings: Settings, job: Job, *,
           database: Database, engine: EngineFactory) -> None:
    rederive(cur, job.school_year, engine=engine(cur), database=database)
    return None


@job_kind(records.RELEASE_WEEK, progress=lambda job: f"computing week {job.week}")
def release_week(cur: duckdb.DuckDBPyConnection, settings: Settings, job: Job, *,
                 database: Database, engine: EngineFactory) -> str:
    return weekly.release_week(cur, settings, job.school_year, int(job.week),
                               database=database).record.release_id


@job_kind(records.RELEASE_STANDARD,
          progress=lambda job: "computing, reconciling and signing the standard release")
def release_standard(cur: duckdb.DuckDBPyConnection, settings: Settings, job: Job, *,
                     database: Database, engine: EngineFactory) -> str:
    return publish_standard(cur, settings, job.school_year, engine=engine(cur),
                            database=database).record.release_id
