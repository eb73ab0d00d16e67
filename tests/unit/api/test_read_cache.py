"""service/api/read_cache.py: a value is served from memory only while no write happened, and a
value read while a write happened is not kept."""

from __future__ import annotations

from service.api import read_cache
from service.api.read_cache import BUDGET, KEYS, ReadCache


def test_a_value_is_read_once_until_a_write():
    cache, reads = ReadCache(KEYS), []

    def load():
        reads.append(1)
        return len(reads)

    assert cache.get("k", load) == 1 and cache.get("k", load) == 1
    read_cache.changed(KEYS)
    assert cache.get("k", load) == 2 and cache.get("k", load) == 2


def test_a_value_read_while_a_write_commits_is_not_kept():
    cache, state = ReadCache(KEYS), {"v": "old"}

    def load_during_a_write():
        value = state["v"]
        state["v"] = "new"      # another request commits a write while this one reads...
        read_cache.changed(KEYS)    # ...and says so
        return value

    assert cache.get("k", load_during_a_write) == "old"
    assert cache.get("k", lambda: state["v"]) == "new"  # the stale "old" was not kept


def test_a_failed_load_keeps_nothing():
    cache = ReadCache(KEYS)

    def missing():
        raise LookupError("no")

    for _ in range(2):
        try:
            cache.get("k", missing)
        except LookupError:
            pass
    assert cache.get("k", lambda: "found") == "found"


def test_the_size_is_bounded():
    cache = ReadCache(KEYS, limit=2)
    for k in range(5):
        cache.get(k, lambda k=k: k)
    assert cache.get(4, lambda: "reloaded") == "reloaded"  # not kept: the cache was full


def test_a_write_drops_only_the_values_read_from_its_own_tables():
    keys, budget = ReadCache(KEYS), ReadCache(BUDGET)
    keys.get("k", lambda: "key")
    budget.get("b", lambda: "budget")
    read_cache.changed(BUDGET)  # a charge
    assert keys.peek("k") == "key" and budget.peek("b") is None
    read_cache.changed(KEYS)    # a revocation
    assert keys.peek("k") is None
