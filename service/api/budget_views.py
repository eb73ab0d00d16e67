"""The budget as a caller sees it (global cap, pools, own allowance), shared by `GET /v1/budget`,
the query route and the repeated-query shortcut; kept in memory in
`service.api.read_cache.budget_views` until the next charge or cap change."""

from __future__ import annotations

import copy

from service.api.read_cache import budget_views
from service.db import Database
from service.releases import budget as releases


def budget_document(db, dataset: str, principal: str | None, database: Database | None = None,
                    settings=None) -> dict:
    """The budget of `dataset` as shown to `principal` (with `settings`: also the cap across
    school years); with `database` (the server's) kept in memory until the next
    charge or cap change (service/api/read_cache.py)."""
    if database is None:
        return _budget_document(db, dataset, principal, settings)
    return copy.deepcopy(budget_views(database).get((dataset, principal),
                                        lambda: _budget_document(db, dataset, principal, settings)))


def kept_budget_document(database: Database, dataset: str, principal: str | None) -> dict | None:
    """The budget view if it is in memory and still current, else None (never reads)."""
    found = budget_views(database).peek((dataset, principal))
    return copy.deepcopy(found) if found is not None else None


def _budget_document(db, dataset: str, principal: str | None, settings=None) -> dict:
    rows = releases.budget_rows(db, dataset, principal, settings)   # reads only: a GET never writes
    out: dict = {"dataset": dataset, "pools": {}, "unit": "zCDP rho; epsilon at the stated delta"}
    for scope, pool, who, cap, spent in rows:
        entry = {"cap": releases.budget_view(cap), "spent": releases.budget_view(spent),
                 "remaining": releases.budget_view(max(cap - spent, 0))}
        if scope == "global":
            out["global"] = entry
        elif scope == "pool":
            out["pools"][pool] = entry
        else:
            out["allowance"] = {"principal": who, "pool": pool, **entry}
    if settings is not None:
        out["lifetime"] = releases.lifetime_view(db, dataset, releases.lifetime_cap(settings),
                                                 releases.budget_of(settings)["global"])
    out["in_words"] = in_words(out)
    out["summary"] = " ".join(out["in_words"])
    return out


def _used(label: str, entry: dict, tail: str = "") -> str:
    """'ρ 0.0101 of <label> 0.05<tail> used (ε 0.76 of 1.76 at δ 1e-08); ρ 0.0399 left.'"""
    spent, cap, left = entry["spent"], entry["cap"], entry["remaining"]
    return (f"ρ {_dec(spent)} of {label} {_dec(cap)}{tail} used (ε {spent['epsilon']:g} of "
            f"{cap['epsilon']:g} at δ {cap['delta']:g}); ρ {_dec(left)} left.")


def _dec(view: dict) -> str:
    return f"{view['rho_decimal']:.6f}".rstrip("0").rstrip(".") or "0"


def in_words(doc: dict) -> list[str]:
    """The budget document in plain sentences, decimals only (the structured form stays
    beside it for programs)."""
    year = doc["dataset"]
    lines = []
    if "allowance" in doc:
        lines.append(_used("your", doc["allowance"], f" for {year}"))
    if "researcher" in doc.get("pools", {}):
        lines.append("Researchers together: " + _used("their pool of", doc["pools"]["researcher"]))
    if "global" in doc:
        lines.append(f"School year {year} as a whole: " + _used("its cap of", doc["global"]))
    life = doc.get("lifetime") or {}
    if "cap" in life:
        lines.append(
            f"Across a school career ({life['window_years']} school years): ρ "
            f"{_dec(life['spent_worst_window'])} of {_dec(life['cap'])} used in the worst "
            f"window that holds {year} (ε {life['spent_worst_window']['epsilon']:g} of "
            f"{life['cap']['epsilon']:g} at δ {life['cap']['delta']:g}); ρ "
            f"{_dec(life['remaining'])} left.")
    return lines
