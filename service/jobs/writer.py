"""The one writer thread of the serving process.

DuckDB lets one process write a database file; inside that process this thread runs the long
writes: the derive after an upload commits (HTTP, or the CLI through the API), the scheduled
weekly release and the standard release (each kind declared once, with its handler, in
`service.jobs.kinds`). Work is a row in `job` first (`records.queue`), so
it is visible (`GET /v1/jobs/{job_id}`) and survives a crash: at start the writer puts jobs
left `running` back in the queue. Each job's work is one DuckDB transaction (derive: rows and
data version together; a release: charge and release together), so after a `kill -9` either
it committed — and running it again is a free repeat (the release store finds it by its
request hash) — or it left nothing.

A derive job redoes only the pupils of the uploads since the last derive
(`service.ingest.derive.rederive`); several queued derives of one school year are served by
one such derive. Callers that must write synchronously (a weekly release asked over HTTP)
hand a function to :meth:`Writer.call` and wait for its result: writes of this kind never run
side by side.

The writer is given the process's `service.db.Database` (its connection, locks, counters and
memos, shared with the request threads) and an engine factory (default: the engine the
settings name, `engines.from_settings`), passed explicitly: each job's handler gets both, and
derives and standard releases run on the engine made over the job's cursor.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import deque
from typing import Callable, TypeVar

import duckdb

from service import engines, errors
from service.db import Database
from service.engines import EngineFactory
from service.jobs import records, schedule
from service.jobs.kinds import KINDS
from service.settings import Settings

T = TypeVar("T")
#: How often the writer looks whether a weekly release has fallen due (seconds).
CHECK_SECONDS = 60.0
log = logging.getLogger("aanwezig.writer")


class Writer:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`wake` after queueing a job."""

    def __init__(self, database: Database, settings: Settings, *,
                 engine: EngineFactory | None = None) -> None:
        self._database = database
        self._con = database.con
        self._settings = settings
        self._engine: EngineFactory = engine or (lambda con: engines.from_settings(settings, con))
        self._calls: deque[tuple[Callable, concurrent.futures.Future]] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._look = True          # look for queued jobs (at start, and after wake)
        self._schedule = settings.weekly_schedule_on
        self._next_check = time.monotonic()   # when to look for due weekly releases
        self._thread = threading.Thread(target=self._run, name="aanwezig-writer", daemon=True)
        self.resumed = 0

    # ── control ─────────────────────────────────────────────────────────────────────
    def start(self) -> None:
        cur = self._con.cursor()
        try:
            self.resumed = records.requeue_interrupted(cur)
            self._look = records.next_queued(cur) is not None
        finally:
            cur.close()
        if self.resumed:
            log.info("writer: %d interrupted jobs back in the queue", self.resumed)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)

    def wake(self) -> None:
        with self._cond:
            self._look = True
            self._cond.notify_all()

    def call(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> concurrent.futures.Future:
        """Run `fn(cursor)` on the writer thread (before queued jobs); its Future."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._cond:
            if self._stopping:
                raise RuntimeError("the writer has stopped")
            self._calls.append((fn, future))
            self._cond.notify_all()
        return future

    def queue(self, cur: duckdb.DuckDBPyConnection, kind: str, school_year: str, **fields) -> int:
        """Queue a job and return its id. The row is a small insert on the caller's cursor (a
        request must not wait for a derive in progress); the writer thread does the work."""
        job_id = records.queue(cur, kind, school_year, **fields)
        self.wake()
        return job_id

    def idle(self, timeout: float = 60.0) -> bool:
        """Wait until no call and no queued or running job is left (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                quiet = not self._calls and not self._busy
            if quiet:
                cur = self._con.cursor()
                try:
                    left = records.open_count(cur)
                finally:
                    cur.close()
                if not left:
                    return True
            time.sleep(0.02)
        return False

    # ── the thread ──────────────────────────────────────────────────────────────────
    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._stopping:
                        break
                    call = self._calls.popleft() if self._calls else None
                    look, self._look = self._look, False
                    check = self._schedule and time.monotonic() >= self._next_check
                    self._busy = call is not None or look or check
                    if not self._busy:      # idle: no database work (no cursor) until woken
                        self._cond.wait(max(0.0, self._next_check - time.monotonic())
                                        if self._schedule else None)
                        continue
                if check and call is None:
                    self._next_check = time.monotonic() + CHECK_SECONDS
                    try:
                        if self._with_cursor(self._queue_due):
                            look = True
                    except duckdb.ConnectionException:
                        break
                    except duckdb.Error as exc:
                        log.warning("writer: %s while looking for due weeks", type(exc).__name__)
                    if not look:
                        continue
                if call is not None:
                    self._with_cursor(lambda cur: self._do_call(cur, *call))
                    with self._cond:
                        self._look = self._look or look
                    continue
                try:
                    if self._with_cursor(self._one_job):
                        with self._cond:
                            self._look = True      # there may be more
                except duckdb.ConnectionException:      # the connection closed under us
                    log.warning("writer: the database connection is closed; stopping")
                    break
                except duckdb.Error as exc:             # the job stays queued for next time
                    log.warning("writer: %s while taking a job", type(exc).__name__)
        finally:
            with self._cond:
                self._busy = False
                pending, self._calls = list(self._calls), deque()
            for _, future in pending:
                future.set_exception(RuntimeError("the writer has stopped"))

    def _with_cursor(self, fn):
        cur = self._con.cursor()
        try:
            return fn(cur)
        finally:
            cur.close()

    def _queue_due(self, cur) -> list[int]:
        queued = schedule.queue_due(cur, self._settings.weekly_release_at, self._settings.timezone)
        if queued:
            log.info("writer: weekly releases due, jobs %s", queued)
        return queued

    def _one_job(self, cur) -> bool:
        job = records.next_queued(cur)
        if job is None:
            return False
        self._do_job(cur, job)
        return True

    @staticmethod
    def _do_call(cur, fn, future) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(cur))
        except BaseException as exc:  # handed to the caller
            future.set_exception(exc)

    def _do_job(self, cur, job: records.Job) -> None:
        kind = KINDS.get(job.kind)
        ids = (records.queued(cur, job.kind, job.school_year) if kind is not None and kind.batched
               else [job.job_id])
        records.start(cur, ids, "started")
        t0 = time.perf_counter()
        try:
            if kind is None:
                raise ValueError(f"unknown job kind {job.kind!r}")
            records.step(cur, ids, kind.progress(job))
            release_id = kind.run(cur, self._settings, job, database=self._database,
                                  engine=self._engine)
        except Exception as exc:
            error = errors.public(exc)   # a ServiceError's message, else "internal error (…)"
            log.warning("writer: job %s (%s) failed: %s", job.job_id, job.kind, error)
            records.finish(cur, ids, records.FAILED, time.perf_counter() - t0, error=error)
            return
        records.finish(cur, ids, kind.done, time.perf_counter() - t0, release_id=release_id)
        if kind.new_data:
            self._next_check = time.monotonic()    # new data may complete a due week
