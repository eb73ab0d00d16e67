"""The budget as a caller sees it (global cap, pools, own allowance), shared by `GET /v1/budget`,
the query route and the repeated-query shortcut; kept in memory in
`service.api.read_cache.BUDGET_VIEWS` until the next charge or cap change."""

from __future__ import annotations

import copy

from service.api.read_cache import BUDGET_VIEWS
from service.releases import budget as releases


def budget_document(db, dataset: str, principal: str | None, db_path: str | None = None,
                    settings=None) -> dict:
    """The budget of `dataset` as shown to `principal` (with `settings`: also the cap across
    school years); with `db_path` (the server's database) kept in memory until the next
    charge or cap change (service/api/read_cache.py)."""
    if db_path is None:
        return _budget_document(db, dataset, principal, settings)
    return copy.deepcopy(BUDGET_VIEWS.get((db_path, dataset, principal),
                                        lambda: _budget_document(db, dataset, principal, settings)))


def kept_budget_document(db_path: str, dataset: str, principal: str | None) -> dict | None:
    """The budget view if it is in memory and still current, else None (never reads)."""
    found = BUDGET_VIEWS.peek((db_path, dataset, principal))
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
    return out
