"""Budget policy: how a school year's budget is split (pools, a researcher's allowance), the
cap across school years, creating a year's caps on first use, and budgets as shown (ρ and ε).

The ledger itself (the conditional charge, the release store) is
`service.releases.ledger_store`; publishing a release is `service.releases.publish`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import duckdb

from privacy.budget import DEFAULT_DELTA, Rho
from service.db import Database
from service.releases.ledger_store import DuckDBLedger, LifetimeCap, yearly_spent
from service.settings import Settings

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


def ledger(con: duckdb.DuckDBPyConnection, database: Database | None = None) -> DuckDBLedger:
    """The budget ledger and release store of this database (a cursor per transaction),
    under `database`'s ledger lock."""
    return DuckDBLedger(con.cursor, database=database)


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
                  settings: Settings | None = None, *, book: DuckDBLedger | None = None,
                  database: Database | None = None) -> None:
    """Create the caps of a dataset if it has none, from `AANWEZIG_YEARLY_RHO` (never changes
    existing caps: a school year keeps the budget it was opened with). The four rows are
    created in one transaction, so a dataset with any cap row has them all. `book`: the
    ledger of `con` if the caller has one already."""
    if _count(con, "SELECT count(*) FROM budget_cap WHERE dataset = ?", [dataset]):
        return
    budget = budget_of(settings)
    (book or ledger(con, database)).create_caps(dataset, [("global", None, None, budget["global"].to_micro_floor())]
                            + [("pool", pool, None, budget[pool].to_micro_floor())
                               for pool in ("standard", "weekly", "researcher")])


def ensure_allowance(con: duckdb.DuckDBPyConnection, dataset: str, principal: str,
                     settings: Settings | None = None, *, book: DuckDBLedger | None = None,
                     database: Database | None = None) -> None:
    """Give a researcher the allowance inside the researcher pool, once."""
    ensure_budget(con, dataset, settings, book=book, database=database)
    if not _count(con, "SELECT count(*) FROM budget_cap WHERE dataset = ? AND scope = 'principal' "
                       "AND principal = ?", [dataset, principal]):
        (book or ledger(con, database)).create_caps(dataset, [("principal", "researcher", principal,
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


#: What each scope a query pays from is called in words.
SCOPE_WORDS = {"principal": "your allowance", "pool": "the researchers' pool",
               "global": "the school year's cap", "lifetime": "the cap across school years"}


def room(con: duckdb.DuckDBPyConnection, dataset: str, principal: str | None, pool: str,
         settings: Settings | None = None) -> dict[str, int]:
    """Micro-ρ left in every scope a charge to `pool` (and `principal`'s allowance) must fit:
    "principal", "pool", "global" and, with `settings`, "lifetime" (the worst window of school
    years that holds `dataset`). Reads only; a scope without a row shows its opening cap."""
    left: dict[str, int] = {}
    for scope, row_pool, _who, cap, spent in budget_rows(con, dataset, principal, settings):
        if scope == "global" or (scope == "pool" and row_pool == pool) or \
                (scope == "principal" and principal):
            left[scope] = max(cap - spent, 0)
    if settings is not None:
        cap = lifetime_cap(settings)
        cur = con.cursor()
        try:
            spent = yearly_spent(cur)
        except duckdb.CatalogException:
            spent = {}
        finally:
            cur.close()
        try:
            year = int(dataset[:4])
        except ValueError:
            return left
        left["lifetime"] = max(cap.cap_micro - cap.worst(spent, year), 0)
    return left
