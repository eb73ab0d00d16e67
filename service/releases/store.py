"""Publishing releases: budget defaults, the charge-then-store step, and reading releases back.

Every release — the yearly standard tables, a researcher's query, a week of the series — goes
through :func:`publish`: the request's canonical hash finds a stored release (returned at no
cost); otherwise the noisy cells are computed, serialised canonically, signed, and stored in
the SAME DuckDB transaction that charges the budget with a conditional update
(`service.releases.ledger_store.DuckDBLedger.charge_and_store`). Nothing is returned before that
transaction commits; if the process dies after it, the charge stands (fail closed).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from functools import lru_cache
from typing import Callable

import duckdb
import pandas as pd

from privacy.budget import DEFAULT_DELTA, Rho
from privacy.ledger import Charge, ReleaseRecord, StoredRelease
from privacy.request import request_hash
from service import __version__
from service.db import database_path
from service.releases import identity
from service.releases.ledger_store import DuckDBLedger, LifetimeCap, yearly_spent
from service.releases.files import (COLUMNS, FORMAT, OPTIONAL_COLUMNS, build_files, canonical_bytes,
                                    sha256)
from service.settings import Settings
from service.releases.signing import private_key, sign

#: Shares of a school year's global cap (`AANWEZIG_YEARLY_RHO`): the pools and each
#: researcher's allowance — docs/releases.md explains the choice.
SHARES = {"global": Fraction(1), "standard": Fraction(3, 5), "weekly": Fraction(1, 5),
          "researcher": Fraction(1, 5)}
ALLOWANCE_SHARE = Fraction(1, 20)


def yearly_budget(yearly: Rho) -> dict[str, Rho]:
    """The caps of one school year whose global cap is `yearly`, with its researchers'
    allowance under "allowance"."""
    caps = {scope: yearly * share for scope, share in SHARES.items()}
    caps["allowance"] = yearly * ALLOWANCE_SHARE
    return caps


def budget_of(settings: Settings | None) -> dict[str, Rho]:
    """The caps a school year opens with under `settings` (the defaults without settings)."""
    return yearly_budget(Rho.of(settings.yearly_rho)) if settings is not None else DEFAULT_BUDGET


#: Default yearly budget per dataset (school year), in zCDP ρ: global 1, standard 0.6,
#: weekly 0.2, researcher 0.2 (allowance 0.05). ε at δ = DEFAULT_DELTA is shown next to
#: every figure.
DEFAULT_BUDGET = yearly_budget(Rho.of("1"))


def ledger(con: duckdb.DuckDBPyConnection) -> DuckDBLedger:
    """The budget ledger and release store of this database (a cursor per transaction)."""
    return DuckDBLedger(con.cursor)


def lifetime_cap(settings: Settings) -> LifetimeCap:
    """The cap across school years from the settings (docs/privacy.md, 'Across school years')."""
    return LifetimeCap(Rho.of(settings.lifetime_rho).to_micro_floor(), settings.lifetime_years)


def lifetime_view(con: duckdb.DuckDBPyConnection, dataset: str, cap: LifetimeCap,
                  yearly: Rho | None = None) -> dict:
    """What one pupil can lose over the school years around `dataset` (reads only): ρ spent
    per school year, the worst window of `cap.years` years that holds this year, the cap and
    what is left of it, with ε at δ for each; with `yearly` (the global cap a school year
    opens with) also how many school years the cap lasts if each spends that in full."""
    cur = con.cursor()
    try:
        spent = yearly_spent(cur)
    finally:
        cur.close()
    try:
        year = int(dataset[:4])
    except ValueError:
        return {}
    worst = cap.worst(spent, year)
    return {"window_years": cap.years, "cap": budget_view(cap.cap_micro),
            "spent_worst_window": budget_view(worst),
            "remaining": budget_view(max(cap.cap_micro - worst, 0)),
            "by_school_year": {f"{y}-{y + 1}": budget_view(v) for y, v in sorted(spent.items()) if v},
            **({"years_at_yearly_cap": min(cap.cap_micro // max(yearly.to_micro_ceil(), 1),
                                           cap.years)} if yearly is not None else {}),
            "note": "one pupil is in at most window_years consecutive school years; the rho of "
                    "those years adds up (zCDP composition), so this is the most any pupil can "
                    "lose over a school career"}


def ensure_budget(con: duckdb.DuckDBPyConnection, dataset: str,
                  settings: Settings | None = None) -> None:
    """Create the caps of a dataset if it has none, from `AANWEZIG_YEARLY_RHO` (never changes
    existing caps: a school year keeps the budget it was opened with). The four rows are
    created in one transaction, so a dataset with any cap row has them all."""
    if _count(con, "SELECT count(*) FROM budget_cap WHERE dataset = ?", [dataset]):
        return
    budget = budget_of(settings)
    ledger(con).create_caps(dataset, [("global", None, None, budget["global"].to_micro_floor())]
                            + [("pool", pool, None, budget[pool].to_micro_floor())
                               for pool in ("standard", "weekly", "researcher")])


def ensure_allowance(con: duckdb.DuckDBPyConnection, dataset: str, principal: str,
                     settings: Settings | None = None) -> None:
    """Give a researcher the allowance inside the researcher pool, once."""
    ensure_budget(con, dataset, settings)
    if not _count(con, "SELECT count(*) FROM budget_cap WHERE dataset = ? AND scope = 'principal' "
                       "AND principal = ?", [dataset, principal]):
        ledger(con).create_caps(dataset, [("principal", "researcher", principal,
                                           budget_of(settings)["allowance"].to_micro_floor())])


def pool_cap(con: duckdb.DuckDBPyConnection | None, dataset: str, pool: str,
             settings: Settings | None = None) -> Rho:
    """The cap of `pool` in `dataset`: the stored one, else the one its first charge creates
    (also without a database)."""
    if con is None:
        return budget_of(settings)[pool]
    cur = con.cursor()
    try:
        row = cur.execute("SELECT cap_micro FROM budget_cap WHERE dataset = ? AND scope = 'pool' "
                          "AND pool = ?", [dataset, pool]).fetchone()
    finally:
        cur.close()
    return Rho.from_micro(row[0]) if row else budget_of(settings)[pool]


def budget_rows(con: duckdb.DuckDBPyConnection, dataset: str, principal: str | None,
                settings: Settings | None = None) -> list[tuple[str, str, str, int, int]]:
    """(scope, pool, principal, cap_micro, spent_micro) of `dataset` as the caller sees it:
    the global cap, the pools and `principal`'s allowance. Reads only: a scope without a row
    yet shows the cap that the first charge will create (`ensure_budget`)."""
    budget = budget_of(settings)
    cur = con.cursor()
    try:
        rows = cur.execute("SELECT scope, pool, principal, cap_micro, spent_micro FROM budget_cap "
                           "WHERE dataset = ? AND (scope <> 'principal' OR principal = ?)",
                           [dataset, principal or ""]).fetchall()
    finally:
        cur.close()
    have = {(scope, pool) for scope, pool, *_ in rows}
    if not any(scope == "global" for scope, _ in have):
        rows.append(("global", "", "", budget["global"].to_micro_floor(), 0))
        rows += [("pool", pool, "", budget[pool].to_micro_floor(), 0)
                 for pool in ("standard", "weekly", "researcher")]
    if principal and ("principal", "researcher") not in have:
        rows.append(("principal", "researcher", principal,
                     budget["allowance"].to_micro_floor(), 0))
    return sorted(rows, key=lambda r: (r[0], r[1]))


def _count(con: duckdb.DuckDBPyConnection, query: str, params: list) -> int:
    cur = con.cursor()
    try:
        return cur.execute(query, params).fetchone()[0]
    finally:
        cur.close()


def budget_view(rho_micro: int, delta: float = DEFAULT_DELTA) -> dict:
    """A budget in micro-ρ as exact ρ, decimal ρ and ε at δ (for display)."""
    rho = Rho.from_micro(rho_micro)
    return {"rho": str(rho.value), "rho_decimal": float(rho),
            "epsilon": _epsilon(rho_micro, delta), "delta": delta}


@lru_cache(maxsize=4096)
def _epsilon(rho_micro: int, delta: float) -> float:
    """ε at δ of a budget (OpenDP's privacy profile; a pure function, so cached)."""
    return round(Rho.from_micro(rho_micro).epsilon(delta), 4) if rho_micro else 0.0


@dataclass(frozen=True)
class Computed:
    """What a release computation returns: noisy cells (no true values) and its method."""

    cells: pd.DataFrame
    method: dict


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


class NotDerived(Exception):
    """A release asked before the school year's per-pupil tables exist (the first derive
    after the uploads is still queued or running). Nothing was charged or stored."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        super().__init__(f"school year {dataset} has not been derived yet: uploads are derived "
                         "in the background (follow the upload's job); ask again when it is derived")


def publish(con: duckdb.DuckDBPyConnection, settings: Settings, *, kind: str, dataset: str,
            spec: dict, pool: str, principal: str | None, rho: Rho,
            compute: Callable[[], Computed], db_path: str | None = None,
            versioned: bool = True) -> StoredRelease:
    """Return the stored release for `spec` (free), or compute, sign, charge and store it.

    The request's identity also holds the data version of `dataset` and the code and bound
    version (`service.releases.identity`), unless `versioned` is false (a weekly node: a week
    is released once, whatever arrives later).

    `db_path`: the database file behind `con` if the caller knows it (the server does, from
    `db.database_path` at start-up), which saves a query on a repeat.

    Raises privacy.ledger.BudgetExhausted (nothing stored, nothing returned) if the charge
    does not fit the principal's allowance, the pool or the global cap, and `NotDerived`
    (nothing charged) if the school year's per-pupil tables were never built.
    """
    db_path = db_path or database_path(con)
    known = stored_in_memory(db_path, kind, dataset, spec, versioned=versioned)
    if known is not None:                 # releases are immutable: a repeat needs no database
        return known
    version = identity.data_version(con, db_path, dataset) if versioned else None
    full_spec = _full_spec(kind, dataset, spec, version)
    key = request_hash(full_spec)
    ensure_budget(con, dataset, settings)
    if principal:
        ensure_allowance(con, dataset, principal, settings)
    book = ledger(con)
    found = book.find_release(key)
    if found is not None:
        _remember(db_path, key, found.record)
        return found
    micro = rho.to_micro_ceil()
    remaining = book.remaining(dataset, pool, principal)
    if min(remaining.values()) < micro:
        # Checked again, atomically, by charge_and_store; this early refusal only avoids
        # computing noise that could never be released.
        from privacy.ledger import BudgetExhausted
        scope = min(remaining, key=remaining.get)
        raise BudgetExhausted(scope=scope, requested_micro=micro, remaining_micro=remaining[scope],
                              dataset=dataset, pool=pool, principal=principal)
    lifetime_cap(settings).check(con, Charge(dataset, pool, principal, micro, key))  # early too
    try:
        computed = compute()
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
                                   lifetime=lifetime_cap(settings), pause=settings.pause_point)
    settings.pause_point("release.stored")
    _remember(db_path, key, stored.record)
    return stored


#: Stored releases by (database, request hash): immutable, so safe to keep; bounded.
_STORED: dict[tuple[str, str], ReleaseRecord] = {}


def _full_spec(kind: str, dataset: str, spec: dict, version: str | None) -> dict:
    """The canonical request: the question, and (versioned) the data and code version."""
    full = {"kind": kind, "dataset": dataset, **spec}
    if version is not None:
        full["identity"] = identity.identity(version)
    return full


def stored_in_memory(db_path: str, kind: str, dataset: str, spec: dict,
                     versioned: bool = True) -> StoredRelease | None:
    """The release :func:`publish` would return for free, if this process has seen it on
    the current data version; None means "ask publish" (it may still be stored). No
    database, no budget."""
    version = identity.known_data_version(db_path, dataset) if versioned else None
    if versioned and version is None:
        return None
    known = _STORED.get((db_path, request_hash(_full_spec(kind, dataset, spec, version))))
    return StoredRelease(known, newly_charged=False) if known is not None else None


def _remember(db_path: str, key: str, record: ReleaseRecord) -> None:
    if len(_STORED) >= 256:
        _STORED.pop(next(iter(_STORED)))
    _STORED[(db_path, key)] = record




def list_releases(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> list[dict]:
    """Metadata of stored releases, newest first (no cells)."""
    rows = con.execute(
        "SELECT release_id, kind, dataset, created_at, micro, content_hash, spec_json FROM release "
        "WHERE ? IS NULL OR kind = ? ORDER BY created_at DESC, release_id", [kind, kind]).fetchall()
    return [{"release_id": r[0], "kind": r[1], "dataset": r[2],
             "created_at": r[3].strftime("%Y-%m-%dT%H:%M:%SZ"), "budget": budget_view(r[4]),
             "content_hash": r[5], "spec": json.loads(r[6])} for r in rows]


def get_release(con: duckdb.DuckDBPyConnection, release_id: str) -> ReleaseRecord | None:
    row = con.execute("SELECT request_hash FROM release WHERE release_id = ?", [release_id]).fetchone()
    if row is None:
        return None
    found = ledger(con).find_release(row[0])
    return found.record if found else None


def latest(con: duckdb.DuckDBPyConnection, kind: str, dataset: str | None = None) -> str | None:
    row = con.execute("SELECT release_id FROM release WHERE kind = ? AND (? IS NULL OR dataset = ?) "
                      "ORDER BY created_at DESC LIMIT 1", [kind, dataset, dataset]).fetchone()
    return row[0] if row else None


def cells(record: ReleaseRecord) -> pd.DataFrame:
    """The released cells of a stored release as a DataFrame."""
    payload = json.loads(record.payload)
    return pd.DataFrame(payload["rows"], columns=payload["columns"])

