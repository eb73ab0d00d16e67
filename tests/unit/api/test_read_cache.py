"""service/api/read_cache.py: a value is served from memory only while no write happened, and a
value read while a write happened is not kept."""

from __future__ import annotations

import pytest

from service.api.read_cache import BUDGET, KEYS, ReadCache
from service.db import Database


@pytest.fixture
def database() -> Database:
    """The counters the caches read (a database object without a file)."""
    return Database()


def test_a_value_is_read_once_until_a_write(database):
    cache, reads = ReadCache(KEYS, database), []

    def load():
        reads.append(1)
        return len(reads)

    assert cache.get("k", load) == 1 and cache.get("k", load) == 1
    database.changed(KEYS)
    assert cache.get("k", load) == 2 and cache.get("k", load) == 2


def test_a_value_read_while_a_write_commits_is_not_kept(database):
    cache, state = ReadCache(KEYS, database), {"v": "old"}

    def load_during_a_write():
        value = state["v"]
        state["v"] = "new"      # another request commits a write while this one reads...
        database.changed(KEYS)    # ...and says so
        return value

    assert cache.get("k", load_during_a_write) == "old"
    assert cache.get("k", lambda: state["v"]) == "new"  # the stale "old" was not kept


def test_a_failed_load_keeps_nothing(database):
    cache = ReadCache(KEYS, database)

    def missing():
        raise LookupError("no")

    for _ in range(2):
        try:
            cache.get("k", missing)
        except LookupError:
            pass
    assert cache.get("k", lambda: "found") == "found"


def test_the_size_is_bounded(database):
    cache = ReadCache(KEYS, database, limit=2)
    for k in range(5):
        cache.get(k, lambda k=k: k)
    assert cache.get(4, lambda: "reloaded") == "reloaded"  # not kept: the cache was full


def test_a_write_drops_only_the_values_read_from_its_own_tables(database):
    keys, budget = ReadCache(KEYS, database), ReadCache(BUDGET, database)
    keys.get("k", lambda: "key")
    budget.get("b", lambda: "budget")
    database.changed(BUDGET)  # a charge
    assert keys.peek("k") == "key" and budget.peek("b") is None
    database.changed(KEYS)    # a revocation
    assert keys.peek("k") is None
