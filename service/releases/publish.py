"""Publishing releases: the charge-then-store step.

Every release — the yearly standard tables, a researcher's query, a week of the series — is
asked as a frozen, canonical `ReleaseSpec` (what, from which budget, at what ρ; its kind's
subclass knows how to compute it) and goes through :func:`publish`: the request's canonical hash finds a stored release (returned at no
cost); otherwise the noisy cells are computed, serialised canonically, signed, and stored in
the SAME DuckDB transaction that charges the budget with a conditional update
(`service.releases.ledger_store.DuckDBLedger.charge_and_store`). Nothing is returned before that
transaction commits; if the process dies after it, the charge stands (fail closed).
Budget policy (caps, allowances) is `service.releases.budget`; reading releases back is
`service.releases.stored`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from privacy.budget import Rho
from privacy.ledger import Charge, ReleaseRecord, StoredRelease
from privacy.request import request_hash
from service import __version__, errors
from service.db import Database, or_detached
from service.releases import identity
from service.releases.ledger_store import find_stored
from service.releases.budget import (budget_view, ensure_allowance, ensure_budget, ledger,
                                     lifetime_cap)
from service.releases.files import (COLUMNS, FORMAT, OPTIONAL_COLUMNS, build_files, canonical_bytes,
                                    sha256)
from service.settings import Settings
from service.releases.signing import private_key, sign


@dataclass(frozen=True)
class Computed:
    """What a release computation returns: noisy cells (no true values) and its method."""

    cells: pd.DataFrame
    method: dict


@dataclass(frozen=True, kw_only=True)
class ReleaseSpec:
    """One release asked for, frozen and canonical: its kind and dataset, the question (as
    canonical JSON text: `question_text`), the pool (and principal) that pays, its ρ, and
    whether the data version is part of its identity (not for a weekly node: a week is
    released once, whatever arrives later). Each kind subclasses it where the kind lives
    and says how it is computed (`compute`); nothing else of the request exists."""

    kind: str
    dataset: str
    question: str
    pool: str
    rho: Rho
    principal: str | None = None
    versioned: bool = True

    def asked(self) -> dict:
        """The question as a dict (what the release's `spec` shows, with kind and dataset)."""
        return json.loads(self.question)

    def compute(self, con: duckdb.DuckDBPyConnection) -> Computed:
        """The noisy cells and method of this release (true values stay inside)."""
        raise NotImplementedError(f"a {self.kind} release says how it is computed")


def question_text(question: dict) -> str:
    """A question's canonical text: JSON with sorted keys (the same dict back from `asked`)."""
    return json.dumps(question, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def make_payload(kind: str, dataset: str, spec: dict, computed: Computed, micro: int,
                 release_id: str, created_at: datetime) -> bytes:
    cells = computed.cells
    missing = [c for c in OPTIONAL_COLUMNS if c not in cells.columns]
    if missing:   # columns a kind does not have (ranks of a query, integers of a week): empty
        cells = cells.assign(**{c: None for c in missing})
    rows = [list(row) for row in zip(*(_plain_column(cells[c]) for c in COLUMNS))]
    payload = {
        "format": FORMAT, "release_id": release_id, "kind": kind,
        "dataset": dataset, "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "service_version": __version__, "spec": spec, "method": computed.method,
        "budget": budget_view(micro), "columns": list(COLUMNS), "rows": rows,
    }
    return canonical_bytes(payload)


def _plain_column(column: pd.Series) -> list:
    """A column as JSON-ready Python values (NaN as None, numpy scalars as numbers, tuples as
    lists), column by column: a standard release holds a few hundred thousand cells, and a
    per-value conversion of every row was most of the time of building its payload."""
    kind = column.dtype.kind
    values = column.tolist()
    if kind in "iub":
        return values
    if kind == "f":
        return [None if v != v else v for v in values]
    return [v if v is None or type(v) is str or (type(v) is float and v == v) else _plain(v)
            for v in values]


def _plain(v):
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return list(v) if isinstance(v, tuple) else v


class NotDerived(errors.Conflict):
    """A release asked before the school year's per-pupil tables exist (the first derive
    after the uploads is still queued or running). Nothing was charged or stored."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        super().__init__(f"school year {dataset} has not been derived yet: uploads are derived "
                         "in the background (follow the upload's job); ask again when it is derived")


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, release: ReleaseSpec, *,
            database: Database | None = None) -> StoredRelease:
    """Return the stored release for `release` (free), or compute, sign, charge and store it.

    The request's identity also holds the data version of the dataset and the code and bound
    version (`service.releases.identity`), unless the spec is not `versioned`.

    `database`: the `service.db.Database` of `con`'s file (the server's, the CLI's): a repeat
    it has seen is answered from its memory, without a query.

    Raises privacy.ledger.BudgetExhausted (nothing stored, nothing returned) if the charge
    does not fit the principal's allowance, the pool or the global cap, and `NotDerived`
    (nothing charged) if the school year's per-pupil tables were never built.
    """
    kind, dataset, pool, principal = release.kind, release.dataset, release.pool, release.principal
    database = or_detached(database)
    known = stored_in_memory(database, release)
    if known is not None:                 # releases are immutable: a repeat needs no database
        return known
    version = identity.data_version(con, database, dataset) if release.versioned else None
    full_spec = _full_spec(release, version)
    key = request_hash(full_spec)
    book = ledger(con, database)          # one ledger (and its DDL) per publish
    ensure_budget(con, dataset, settings, book=book)
    if principal:
        ensure_allowance(con, dataset, principal, settings, book=book)
    found = book.find_release(key)
    if found is not None:
        database.stored_releases.put(key, found.record)
        return found
    micro = release.rho.to_micro_ceil()
    remaining = book.remaining(dataset, pool, principal)
    if min(remaining.values()) < micro:
        # Checked again, atomically, by charge_and_store; this early refusal only avoids
        # computing noise that could never be released.
        from privacy.ledger import BudgetExhausted
        scope = min(remaining, key=remaining.get)
        raise BudgetExhausted(scope=scope, requested_micro=micro, remaining_micro=remaining[scope],
                              dataset=dataset, pool=pool, principal=principal)
    cap = lifetime_cap(settings)
    cap.check(con, Charge(dataset, pool, principal, micro, key))  # early too
    try:
        computed = release.compute(con)
    except duckdb.CatalogException as exc:
        if version == identity.NEVER_DERIVED:   # no per-pupil tables yet: nothing to release
            raise NotDerived(dataset) from exc
        raise
    created = datetime.now(UTC).replace(microsecond=0)
    release_id = "R" + uuid.uuid4().hex[:12].upper()
    payload = make_payload(kind, dataset, full_spec, computed, micro, release_id, created)
    files = build_files(payload)
    record = ReleaseRecord(
        release_id=release_id, request_hash=key, dataset=dataset, kind=kind,
        spec_json=json.dumps(full_spec, sort_keys=True, default=str), payload=payload,
        content_hash=sha256(payload), signature=sign(private_key(settings), files["datapackage.json"]),
        created_at=created, service_version=__version__, micro=micro,
        parquet=files["release.parquet"])   # kept: a later pyarrow would write other bytes
    stored = book.charge_and_store(Charge(dataset, pool, principal, micro, key), record,
                                   lifetime=cap, pause=settings.pause_point)
    settings.pause_point("release.stored")
    database.stored_releases.put(key, stored.record)
    return stored


def _full_spec(release: ReleaseSpec, version: str | None) -> dict:
    """The canonical request: the question, and (versioned) the data and code version."""
    full = {"kind": release.kind, "dataset": release.dataset, **release.asked()}
    if version is not None:
        full["identity"] = identity.identity(version)
    return full


def stored_in_memory(database: Database, release: ReleaseSpec) -> StoredRelease | None:
    """The release :func:`publish` would return for free, if this process has seen it on
    the current data version; None means "ask publish" (it may still be stored). No
    database, no budget."""
    versioned = release.versioned
    version = identity.known_data_version(database, release.dataset) if versioned else None
    if versioned and version is None:
        return None
    known = database.stored_releases.peek(request_hash(_full_spec(release, version)))
    return StoredRelease(known, newly_charged=False) if known is not None else None


def stored_release(con: duckdb.DuckDBPyConnection, release: ReleaseSpec,
                   database: Database | None = None) -> ReleaseRecord | None:
    """The release :func:`publish` would return free right now (on the current data
    version), else None: what a dry run tells. Reads only: no caps created, nothing charged."""
    database = or_detached(database)
    known = stored_in_memory(database, release)
    if known is not None:
        return known.record
    version = identity.data_version(con, database, release.dataset) if release.versioned else None
    return find_stored(con, request_hash(_full_spec(release, version)))
