"""In-memory copies of small, hot reads (API keys, budget views, school years), dropped as
soon as this process writes any table they come from.

Why it is correct: DuckDB lets one process at a time open a database file for writing, and
the server holds its file for as long as it runs; so every write to those tables goes through
this process — through `service.api.auth` (keys), `service.releases.ledger_store` (caps, charges) and the
register loader — and each of them calls `Database.changed` after its write commits. A value is
kept only if no write happened while it was being read, so a reader never keeps a state
older than the newest committed write. Revoking a key therefore takes effect on the next
request, and the budget shown is never older than the last charge.

What is kept holds no pupil data: key metadata, budget figures that are public to their
holder, and the register's school years. The budget itself is still charged in DuckDB with
its conditional UPDATE (service/releases/ledger_store.py); this cache only serves what is displayed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

from service.db import BUDGET, KEYS, REGISTER, Database

__all__ = ["BUDGET", "KEYS", "REGISTER", "ReadCache", "valid_keys", "budget_views",
           "school_years", "AnswerParts", "query_answer_parts"]

T = TypeVar("T")


class ReadCache:
    """A memo of reads from `topic` of `database`, valid until its next `database.changed`
    (`service.db.Database`); at most `limit` values."""

    def __init__(self, topic: str, database: Database, limit: int = 10_000) -> None:
        self._topic = topic
        self._database = database
        self._limit = limit
        self._items: dict[Hashable, object] = {}
        self._seen = -1
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> object | None:
        """The kept value, or None if there is none (or a write happened since): never reads."""
        with self._lock:
            return self._items.get(key) if self._seen == self._generation() else None

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        start = self._generation()
        with self._lock:
            if self._seen != start:
                self._items.clear()
                self._seen = start
            elif key in self._items:
                return self._items[key]  # type: ignore[return-value]
        value = load()
        with self._lock:
            # keep it only if nothing was written while it was read (else it may be stale)
            if self._generation() == start == self._seen and len(self._items) < self._limit:
                self._items[key] = value
        return value

    def _generation(self) -> int:
        return self._database.generation(self._topic)


class AnswerParts:
    """Serialised parts of immutable releases, by release id, at most `limit` (oldest out).
    Nothing to invalidate: a stored release never changes."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._items: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, release_id: str, build: Callable[[], bytes]) -> bytes:
        with self._lock:
            found = self._items.get(release_id)
        if found is not None:
            return found
        value = build()
        with self._lock:
            if len(self._items) >= self._limit:
                self._items.pop(next(iter(self._items)))
            self._items[release_id] = value
        return value


# The API layer's in-memory caches, each with what drops it: one of each per database, kept
# in its `service.db.Database` (made on first use).
def valid_keys(database: Database) -> ReadCache:
    """Valid API keys by secret hash; dropped when any key is created or revoked."""
    return database.read_cache("valid_keys", lambda d: ReadCache(KEYS, d))


def budget_views(database: Database) -> ReadCache:
    """Budget documents by (dataset, principal); dropped at every charge or cap change."""
    return database.read_cache("budget_views", lambda d: ReadCache(BUDGET, d))


def school_years(database: Database) -> ReadCache:
    """Known school years by school year; dropped when the register is loaded."""
    return database.read_cache("school_years", lambda d: ReadCache(REGISTER, d))


def query_answer_parts(database: Database) -> AnswerParts:
    """The release part of a query answer, by release id; releases are immutable."""
    return database.read_cache("query_answer_parts", lambda d: AnswerParts())
