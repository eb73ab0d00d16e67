"""The persistent budget ledger on a real DuckDB file: it never overspends, a repeat is free,
a crash after the charge leaves the charge, and spending never goes down."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from privacy.ledger import (
    BudgetExhausted,
    Charge,
    InvalidCharge,
    LedgerBusy,
    ReleaseRecord,
    StoredRelease,
)
from service import db
from service.releases.ledger_store import DuckDBLedger
from support.paths import ROOT

YEAR = "2025-2026"


def _release(request_hash: str, micro: int, payload: bytes | None = None) -> ReleaseRecord:
    return ReleaseRecord(
        release_id=f"rel-{request_hash}",
        request_hash=request_hash,
        dataset=YEAR,
        kind="query",
        spec_json='{"measure":"enrolled"}',
        payload=payload if payload is not None else f'{{"cells":"{request_hash}"}}'.encode(),
        content_hash=f"sha256-{request_hash}",
        signature=b"\x01\x02signature",
        created_at=datetime(2026, 1, 5, 9, 30, 1, 123456, tzinfo=UTC),
        service_version="0.1.0",
        micro=micro,
    )


def _charge(ledger: DuckDBLedger, request_hash: str, micro: int, principal: str | None = "alice", pool: str = "researcher"):
    return ledger.charge_and_store(Charge(YEAR, pool, principal, micro, request_hash), _release(request_hash, micro))


def _table(path: Path, name: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
    finally:
        con.close()


@pytest.fixture
def ledger(tmp_path):
    with DuckDBLedger(tmp_path / "ledger.duckdb") as led:
        yield led


def _race(ledger: DuckDBLedger, jobs: list[tuple[str, str]], micro: int) -> tuple[list[StoredRelease], list[BudgetExhausted]]:
    """Run every (principal, request_hash) charge at once from threads."""
    start = threading.Barrier(len(jobs))

    def one(job: tuple[str, str]):
        start.wait()
        try:
            return _charge(ledger, job[1], micro, principal=job[0])
        except BudgetExhausted as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        outcomes = list(pool.map(one, jobs))
    return [o for o in outcomes if isinstance(o, StoredRelease)], [o for o in outcomes if isinstance(o, BudgetExhausted)]


def test_fifty_concurrent_charges_grant_exactly_the_k_that_fit_an_allowance(ledger):
    ledger.set_cap(YEAR, "global", None, None, 1_000_000)
    ledger.set_cap(YEAR, "pool", "researcher", None, 500_000)
    ledger.set_cap(YEAR, "principal", "researcher", "alice", 7 * 3_000 + 2_999)  # fits k = 7
    granted, refused = _race(ledger, [("alice", f"h{i}") for i in range(50)], 3_000)
    assert len(granted) == 7 and len(refused) == 43
    assert {exc.scope for exc in refused} == {"principal"}
    assert ledger.remaining(YEAR, "researcher", "alice") == {"global": 979_000, "pool": 479_000, "principal": 2_999}
    assert len(_table_via(ledger, "release")) == 7


def _table_via(ledger: DuckDBLedger, name: str) -> list[tuple]:
    return ledger._transaction(lambda con: con.execute(f"SELECT * FROM {name}").fetchall())


@pytest.mark.parametrize("binding", ["pool", "global"])
def test_colluding_researchers_cannot_exceed_the_pool_or_the_global_cap(ledger, binding):
    # Each researcher alone could afford 40 charges; together they hit the binding cap at 12.
    ledger.set_cap(YEAR, "global", None, None, 12_000 if binding == "global" else 1_000_000)
    ledger.set_cap(YEAR, "pool", "researcher", None, 12_500 if binding == "pool" else 1_000_000)
    for who in ("alice", "bob"):
        ledger.set_cap(YEAR, "principal", "researcher", who, 40_000)
    jobs = [("alice" if i % 2 else "bob", f"c{i}") for i in range(50)]
    granted, refused = _race(ledger, jobs, 1_000)
    assert len(granted) == 12
    assert {exc.scope for exc in refused} == {binding}
    for row in ledger.budget_rows(YEAR):
        assert row.spent_micro <= row.cap_micro
    rows = {(r.key.scope, r.key.principal): r.spent_micro for r in ledger.budget_rows(YEAR)}
    assert rows[("global", None)] == rows[("pool", None)] == 12_000
    assert rows[("principal", "alice")] + rows[("principal", "bob")] == 12_000


def test_same_request_twice_charges_once_and_returns_the_identical_stored_bytes(ledger):
    ledger.set_cap(YEAR, "global", None, None, 100_000)
    ledger.set_cap(YEAR, "pool", "standard", None, 100_000)
    first = ledger.charge_and_store(Charge(YEAR, "standard", None, 40_000, "same"), _release("same", 40_000, b'{"x":1}'))
    # A second attempt with (wrongly) different payload must still get the stored one back.
    again = ledger.charge_and_store(Charge(YEAR, "standard", None, 40_000, "same"), _release("same", 40_000, b'{"x":2}'))
    assert first.newly_charged and not again.newly_charged
    assert again.record == first.record and again.record.payload == b'{"x":1}'
    assert ledger.find_release("same").record == first.record
    assert ledger.find_release("never-asked") is None
    assert ledger.remaining(YEAR, "standard") == {"global": 60_000, "pool": 60_000}


def test_same_request_from_many_threads_is_charged_once(ledger):
    ledger.set_cap(YEAR, "global", None, None, 100_000)
    ledger.set_cap(YEAR, "pool", "researcher", None, 100_000)
    ledger.set_cap(YEAR, "principal", "researcher", "alice", 100_000)
    granted, refused = _race(ledger, [("alice", "one-question")] * 20, 10_000)
    assert len(granted) == 20 and not refused
    assert sum(s.newly_charged for s in granted) == 1
    assert len({s.record for s in granted}) == 1
    assert ledger.remaining(YEAR, "researcher", "alice")["principal"] == 90_000


def test_a_charge_that_does_not_fit_raises_and_changes_nothing(tmp_path):
    path = tmp_path / "ledger.duckdb"
    with DuckDBLedger(path) as led:
        led.set_cap(YEAR, "global", None, None, 50_000)
        led.set_cap(YEAR, "pool", "researcher", None, 40_000)
        led.set_cap(YEAR, "principal", "researcher", "alice", 30_000)
        _charge(led, "a", 25_000)
    before = {t: _table(path, t) for t in ("budget_cap", "release", "budget_event")}
    with DuckDBLedger(path) as led:
        with pytest.raises(BudgetExhausted) as info:
            _charge(led, "b", 6_000)
        with pytest.raises(BudgetExhausted) as missing:  # no allowance row: nothing to spend
            _charge(led, "c", 1, principal="mallory")
    assert (info.value.scope, info.value.requested_micro, info.value.remaining_micro) == ("principal", 6_000, 5_000)
    assert (missing.value.scope, missing.value.remaining_micro) == ("principal", 0)
    assert {t: _table(path, t) for t in before} == before


def test_a_write_conflict_is_retried_and_persistent_conflict_charges_nothing(tmp_path):
    path = tmp_path / "ledger.duckdb"
    led = DuckDBLedger(path)
    led.set_cap(YEAR, "global", None, None, 10_000)
    led.set_cap(YEAR, "pool", "standard", None, 10_000)
    # Another writer that bypasses the ledger's lock spends from the global row and keeps
    # its transaction open: DuckDB reports our update of the same row as a conflict.
    other = led._root.cursor()
    spend_global = "UPDATE budget_cap SET spent_micro = spent_micro + 500 WHERE scope = 'global'"
    other.execute("BEGIN TRANSACTION")
    other.execute(spend_global)
    with pytest.raises(LedgerBusy):
        _charge(led, "blocked", 1_000, principal=None, pool="standard")
    other.execute("ROLLBACK")
    assert led.remaining(YEAR, "standard") == {"global": 10_000, "pool": 10_000}
    assert led.find_release("blocked") is None

    other.execute("BEGIN TRANSACTION")
    other.execute(spend_global)
    timer = threading.Timer(0.01, lambda: other.execute("COMMIT"))
    timer.start()
    stored = _charge(led, "retried", 1_000, principal=None, pool="standard")
    timer.join()
    assert stored.newly_charged
    assert led.remaining(YEAR, "standard") == {"global": 8_500, "pool": 9_000}
    other.close()
    led.close()


_CHILD = """
import sys, time
from datetime import UTC, datetime
from privacy.ledger import Charge, ReleaseRecord
from service.releases.ledger_store import DuckDBLedger
ledger = DuckDBLedger(sys.argv[1])
release = ReleaseRecord("rel-crash", "crash", "2025-2026", "query", "{}", b'{"cells":[1,2,3]}',
                        "sha256-crash", b"sig", datetime(2026, 1, 5, tzinfo=UTC), "0.1.0", 7000)
ledger.charge_and_store(Charge("2025-2026", "standard", None, 7000, "crash"), release)
print("charged", flush=True)
time.sleep(60)
"""


def test_kill_9_after_the_charge_leaves_the_charge_and_the_release(tmp_path):
    path = tmp_path / "ledger.duckdb"
    with DuckDBLedger(path) as led:
        led.set_cap(YEAR, "global", None, None, 10_000)
        led.set_cap(YEAR, "pool", "standard", None, 10_000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        assert child.stdout.readline().strip() == b"charged"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    with DuckDBLedger(path) as led:
        assert led.remaining(YEAR, "standard") == {"global": 3_000, "pool": 3_000}
        stored = led.find_release("crash")
        assert stored is not None and stored.record.payload == b'{"cells":[1,2,3]}'
        again = led.charge_and_store(Charge(YEAR, "standard", None, 7000, "crash"), _release("crash", 7000))
        assert not again.newly_charged  # the repeat after the crash costs nothing


def test_no_code_path_lowers_spending_or_changes_a_release(ledger):
    ledger.set_cap(YEAR, "global", None, None, 10_000)
    ledger.set_cap(YEAR, "pool", "weekly", None, 10_000)
    _charge(ledger, "w1", 6_000, principal=None, pool="weekly")
    ledger.set_cap(YEAR, "pool", "weekly", None, 1_000)  # lowering a cap keeps what was spent
    assert [r.spent_micro for r in ledger.budget_rows(YEAR)] == [6_000, 6_000]
    assert ledger.remaining(YEAR, "weekly") == {"global": 4_000, "pool": 0}
    for micro in (0, -5):
        with pytest.raises(InvalidCharge):
            Charge(YEAR, "weekly", None, micro, "refund")
    with pytest.raises(InvalidCharge):
        Charge(YEAR, "researcher", None, 10, "anonymous researcher")
    source = (ROOT / "service" / "releases" / "ledger_store.py").read_text() + (ROOT / "sql" / "ledger.sql").read_text()
    # The only assignment to spent_micro anywhere adds a (validated positive) charge.
    assert re.findall(r"spent_micro\s*=\s*(spent_micro \+ \?)?", source) == ["spent_micro + ?"]
    assert not re.search(r"\bDELETE\b|UPDATE\s+release|UPDATE\s+budget_event|TRUNCATE|DROP", source, re.I)
    events = _table_via(ledger, "budget_event")
    assert [e[2] for e in events] == ["cap", "cap", "charge", "cap"]


def test_the_service_schema_includes_the_ledger(tmp_path):
    path = tmp_path / "service.duckdb"
    con = db.connect(path)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert {"budget_cap", "release", "budget_event"} <= tables
    with DuckDBLedger(lambda: duckdb.connect(str(path))) as led:
        led.set_cap(YEAR, "global", None, None, 5)
        led.set_cap(YEAR, "pool", "standard", None, 5)
        assert _charge(led, "f", 5, principal=None, pool="standard").newly_charged
        assert led.remaining(YEAR, "standard") == {"global": 0, "pool": 0}


def test_release_timestamps_and_bytes_round_trip(ledger):
    ledger.set_cap(YEAR, "global", None, None, 10)
    ledger.set_cap(YEAR, "pool", "standard", None, 10)
    record = _release("rt", 3, payload=bytes(range(256)))
    stored = ledger.charge_and_store(Charge(YEAR, "standard", None, 3, "rt"), record)
    assert stored.record == record
    time.sleep(0)  # nothing is cached between calls: read it back from the file
    assert ledger.find_release("rt").record == record
