"""The persistent budget ledger and release store in DuckDB (`privacy.ledger.Ledger`).

`charge_and_store` is one transaction: a repeated request returns its stored release and
costs nothing; otherwise every cap row the charge must fit (principal, pool, global) is raised
by an UPDATE whose WHERE clause itself requires `spent_micro + charge <= cap_micro` — the
check and the write are one statement, so there is no read-then-write window — and the
release row is inserted; only then is anything returned. If any UPDATE matches no row the
transaction is rolled back and `BudgetExhausted` is raised, so nothing changes. A process
that dies after COMMIT leaves the charge and the release (DuckDB's write-ahead log); one
that dies before leaves neither: the ledger fails closed and never refunds.

DuckDB uses optimistic concurrency: two transactions that update the same row conflict and
one fails with `duckdb.TransactionException`; that transaction is rolled back and retried a
bounded number of times. As defence in depth, a per-database-file lock serialises the
ledger's transactions inside this process.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

import sql
from privacy.ledger import (
    POOLS,
    BudgetExhausted,
    BudgetRow,
    CapKey,
    Charge,
    InvalidCharge,
    LedgerBusy,
    ReleaseRecord,
    Scope,
    StoredRelease,
    cap_keys,
)
from service import db

T = TypeVar("T")

_RELEASE_COLUMNS = (
    "release_id, request_hash, dataset, kind, spec_json, payload, content_hash, "
    "signature, created_at, service_version, micro, parquet"
)
_FIND_RELEASE = f"SELECT {_RELEASE_COLUMNS} FROM release WHERE request_hash = ?"
_INSERT_RELEASE = f"INSERT INTO release ({_RELEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
# The fit condition is part of the write: a row is raised only if the charge fits in it.
_SPEND = (
    "UPDATE budget_cap SET spent_micro = spent_micro + ? "
    "WHERE dataset = ? AND scope = ? AND pool = ? AND principal = ? AND spent_micro + ? <= cap_micro"
)
_SET_CAP = (
    "INSERT INTO budget_cap (dataset, scope, pool, principal, cap_micro, spent_micro) "
    "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (dataset, scope, pool, principal) "
    "DO UPDATE SET cap_micro = excluded.cap_micro"
)
_REMAINING = (
    "SELECT cap_micro - spent_micro FROM budget_cap "
    "WHERE dataset = ? AND scope = ? AND pool = ? AND principal = ?"
)
_ROWS = "SELECT scope, pool, principal, cap_micro, spent_micro FROM budget_cap WHERE dataset = ? ORDER BY scope, pool, principal"
_EVENT = (
    "INSERT INTO budget_event (logged_at, kind, dataset, scope, pool, principal, micro, request_hash, release_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

def _key_params(key: CapKey) -> list[str]:
    return [key.dataset, key.scope, key.pool or "", key.principal or ""]


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _record(row: tuple) -> ReleaseRecord:
    (release_id, request_hash, dataset, kind, spec_json, payload, content_hash, signature, created_at, version, micro, parquet) = row
    return ReleaseRecord(
        release_id=release_id,
        request_hash=request_hash,
        dataset=dataset,
        kind=kind,
        spec_json=spec_json,
        payload=bytes(payload),
        content_hash=content_hash,
        signature=bytes(signature),
        created_at=created_at.replace(tzinfo=UTC),
        service_version=version,
        micro=int(micro),
        parquet=bytes(parquet) if parquet is not None else None,
    )


class DuckDBLedger:
    """Budget ledger and release store in a DuckDB file.

    `source` is a path (the ledger keeps one connection and gives each transaction its own
    cursor) or a factory returning a fresh connection that the ledger closes after use.
    """

    def __init__(self, source: Path | str | Callable[[], duckdb.DuckDBPyConnection], *,
                 max_attempts: int = 8, database: db.Database | None = None) -> None:
        self._root: duckdb.DuckDBPyConnection | None = None
        if callable(source):
            self._factory = source
        else:
            self._root = duckdb.connect(str(source), config=db.config())
            self._factory = self._root.cursor
        self._max_attempts = max_attempts
        # `database`: the file's `service.db.Database`, whose ledger lock serialises charges
        # and releases and whose BUDGET counter expires cached budget views (a private one
        # for a ledger opened on its own)
        self._database = db.or_detached(database)
        self._lock = self._database.locks.ledger
        with self._database.locks.ledger_ddl:   # a catalog write: two at once conflict
            con = self._factory()
            try:
                con.execute(sql.load("ledger"))
            finally:
                con.close()

    def close(self) -> None:
        if self._root is not None:
            self._root.close()
            self._root = None

    def __enter__(self) -> DuckDBLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ── transactions ───────────────────────────────────────────────────────────────────
    def _transaction(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` in one transaction under the file lock; retry on write conflicts.
        Any exception rolls the whole transaction back."""
        for attempt in range(1, self._max_attempts + 1):
            with self._lock:
                con = self._factory()
                try:
                    con.execute("BEGIN TRANSACTION")
                    try:
                        result = work(con)
                        con.execute("COMMIT")
                        return result
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                except (duckdb.TransactionException, duckdb.ConstraintException):
                    # A concurrent writer won (write conflict, or the same request stored
                    # first): nothing of ours was written; try again from the start.
                    if attempt == self._max_attempts:
                        raise LedgerBusy(attempt) from None
                finally:
                    con.close()
            time.sleep(0.002 * attempt)
        raise LedgerBusy(self._max_attempts)  # pragma: no cover - loop always returns or raises

    # ── the Ledger interface ───────────────────────────────────────────────────────────
    def set_cap(self, dataset: str, scope: Scope, pool: str | None, principal: str | None, micro: int) -> None:
        """Create a cap row or change its cap; spending is never touched."""
        key = CapKey(dataset, scope, pool, principal)
        if isinstance(micro, bool) or not isinstance(micro, int) or micro < 0:
            raise InvalidCharge("a cap is a non-negative whole number of micro-rho")
        now = datetime.now(UTC).replace(tzinfo=None)

        def work(con: duckdb.DuckDBPyConnection) -> None:
            con.execute(_SET_CAP, [*_key_params(key), micro])
            con.execute(_EVENT, [now, "cap", dataset, scope, pool, principal, micro, None, None])

        try:
            self._transaction(work)
        finally:
            self._database.changed(db.BUDGET)  # after the commit (or rollback): cached budget views go

    def create_caps(self, dataset: str,
                    caps: list[tuple[Scope, str | None, str | None, int]]) -> bool:
        """Create the cap rows `caps` ((scope, pool, principal, micro) each) of `dataset`
        together, in ONE transaction, if none of them exists yet; existing rows are never
        changed. True if this call created them. With several threads at once, one creates
        them and no reader ever sees some of them without the others (the writer thread
        reads the weekly pool's row while a request thread creates a year's caps)."""
        keys = [(CapKey(dataset, scope, pool, principal), micro) for scope, pool, principal, micro in caps]
        for _, micro in keys:
            if isinstance(micro, bool) or not isinstance(micro, int) or micro < 0:
                raise InvalidCharge("a cap is a non-negative whole number of micro-rho")
        now = datetime.now(UTC).replace(tzinfo=None)

        def work(con: duckdb.DuckDBPyConnection) -> bool:
            if any(con.execute(_REMAINING, _key_params(key)).fetchone() for key, _ in keys):
                return False
            for key, micro in keys:
                con.execute(_SET_CAP, [*_key_params(key), micro])
                con.execute(_EVENT, [now, "cap", dataset, key.scope, key.pool, key.principal,
                                     micro, None, None])
            return True

        try:
            return self._transaction(work)
        finally:
            self._database.changed(db.BUDGET)

    def remaining(self, dataset: str, pool: str | None = None, principal: str | None = None) -> dict[str, int]:
        """Micro-ρ left per scope; a principal without a pool is in the researcher pool."""
        if principal and pool is None:
            pool = "researcher"
        keys = {"global": CapKey(dataset, "global")}
        if pool is not None:
            keys["pool"] = CapKey(dataset, "pool", pool)
        if principal:
            keys["principal"] = CapKey(dataset, "principal", pool, principal)
        return self._transaction(lambda con: {name: _remaining(con, key) for name, key in keys.items()})

    def budget_rows(self, dataset: str) -> list[BudgetRow]:
        """Every cap row of a dataset, for display."""
        rows = self._transaction(lambda con: con.execute(_ROWS, [dataset]).fetchall())
        return [
            BudgetRow(CapKey(dataset, scope, pool or None, principal or None), int(cap), int(spent))
            for scope, pool, principal, cap, spent in rows
        ]

    def find_release(self, request_hash: str) -> StoredRelease | None:
        row = self._transaction(lambda con: con.execute(_FIND_RELEASE, [request_hash]).fetchone())
        return StoredRelease(_record(row), newly_charged=False) if row else None

    def charge_and_store(self, charge: Charge, release: ReleaseRecord,
                         lifetime: "LifetimeCap | None" = None,
                         pause: Callable[[str], None] | None = None) -> StoredRelease:
        """Charge every scope with the fit condition in the UPDATE and store the release, in
        one transaction; a repeated request returns the stored release free of charge. With
        `lifetime`, the charge must also fit the cap across school years (checked in the same
        transaction, under the same lock). `pause` is the settings' test pause point
        (`Settings.pause_point`), called with "release.charged" between the charge and the
        release inside the transaction."""
        _check_matches(charge, release)
        now = datetime.now(UTC).replace(tzinfo=None)

        def work(con: duckdb.DuckDBPyConnection) -> StoredRelease:
            row = con.execute(_FIND_RELEASE, [charge.request_hash]).fetchone()
            if row:
                return StoredRelease(_record(row), newly_charged=False)
            if lifetime is not None:
                lifetime.check(con, charge)
            for key in cap_keys(charge):
                (updated,) = con.execute(_SPEND, [charge.micro, *_key_params(key), charge.micro]).fetchone()
                if updated != 1:
                    raise BudgetExhausted(
                        key.scope,
                        charge.micro,
                        _remaining(con, key),
                        dataset=charge.dataset,
                        pool=charge.pool,
                        principal=charge.principal,
                    )
            if pause is not None:
                pause("release.charged")
            con.execute(
                _INSERT_RELEASE,
                [
                    release.release_id,
                    release.request_hash,
                    release.dataset,
                    release.kind,
                    release.spec_json,
                    release.payload,
                    release.content_hash,
                    release.signature,
                    _utc_naive(release.created_at),
                    release.service_version,
                    release.micro,
                    release.parquet,
                ],
            )
            con.execute(
                _EVENT,
                [now, "charge", charge.dataset, None, charge.pool, charge.principal, charge.micro,
                 charge.request_hash, release.release_id],
            )
            stored = con.execute(_FIND_RELEASE, [charge.request_hash]).fetchone()
            return StoredRelease(_record(stored), newly_charged=True)

        try:
            return self._transaction(work)
        finally:
            self._database.changed(db.BUDGET)  # after the commit (or rollback): cached budget views go


_YEAR = re.compile(r"^([0-9]{4})-[0-9]{4}$")


def find_stored(con: duckdb.DuckDBPyConnection, request_hash: str) -> ReleaseRecord | None:
    """The stored release of a request hash, reading only (no DDL, no transaction): None if
    there is none, or no release table yet."""
    cur = con.cursor()
    try:
        row = cur.execute(_FIND_RELEASE, [request_hash]).fetchone()
    except duckdb.CatalogException:
        return None
    finally:
        cur.close()
    return _record(row) if row else None


def yearly_spent(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    """Micro-ρ spent per school year (its global cap row), keyed by the year it starts."""
    rows = con.execute("SELECT dataset, spent_micro FROM budget_cap WHERE scope = 'global'").fetchall()
    return {int(m.group(1)): int(spent) for dataset, spent in rows if (m := _YEAR.match(dataset))}


@dataclass(frozen=True)
class LifetimeCap:
    """The cap across school years: over every window of `years` consecutive school years,
    the global spending of those years together stays within `cap_micro` (docs/privacy.md)."""

    cap_micro: int
    years: int

    def windows(self, year: int) -> list[range]:
        return [range(start, start + self.years) for start in range(year - self.years + 1, year + 1)]

    def worst(self, spent: dict[int, int], year: int) -> int:
        """The largest spending of a window that holds `year`."""
        return max(sum(spent.get(y, 0) for y in w) for w in self.windows(year))

    def check(self, con: duckdb.DuckDBPyConnection, charge: Charge) -> None:
        m = _YEAR.match(charge.dataset)
        if m is None:             # not a school year: not part of a pupil's school career
            return
        worst = self.worst(yearly_spent(con), int(m.group(1)))
        if worst + charge.micro > self.cap_micro:
            raise BudgetExhausted("lifetime", charge.micro, max(self.cap_micro - worst, 0),
                                  dataset=charge.dataset, pool=charge.pool,
                                  principal=charge.principal)


def _remaining(con: duckdb.DuckDBPyConnection, key: CapKey) -> int:
    """Micro-ρ left in one scope; a scope without a cap row has nothing left (fail closed)."""
    row = con.execute(_REMAINING, _key_params(key)).fetchone()
    return max(int(row[0]), 0) if row else 0


def _check_matches(charge: Charge, release: ReleaseRecord) -> None:
    if charge.request_hash != release.request_hash:
        raise InvalidCharge("charge and release name different requests")
    if charge.dataset != release.dataset:
        raise InvalidCharge("charge and release name different datasets")
    if charge.micro != release.micro:
        raise InvalidCharge("the release must record the micro-rho it was charged")
    if charge.pool not in POOLS:  # pragma: no cover - Charge validates this already
        raise InvalidCharge(f"unknown pool {charge.pool!r}")
