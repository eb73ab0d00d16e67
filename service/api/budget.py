"""GET /v1/budget: what is left of the privacy budget — globally, per pool, and (for a
researcher) of the caller's own allowance. Shown as exact ρ, decimal ρ and ε at δ."""

from __future__ import annotations

import copy
from typing import Annotated

from fastapi import APIRouter, Query, Request

from service import release as releases
from service.api import PREFIX
from service.auth import Role
from service.deps import CurrentKey, DbDep
from service.read_cache import BUDGET, ReadCache

router = APIRouter(prefix=PREFIX, tags=["budget"])


_DOCUMENTS = ReadCache(BUDGET)


def budget_document(db, dataset: str, principal: str | None, db_path: str | None = None) -> dict:
    """The budget of `dataset` as shown to `principal`; with `db_path` (the server's database)
    kept in memory until the next charge or cap change (service/read_cache.py)."""
    if db_path is None:
        return _budget_document(db, dataset, principal)
    return copy.deepcopy(_DOCUMENTS.get((db_path, dataset, principal),
                                        lambda: _budget_document(db, dataset, principal)))


def kept_budget_document(db_path: str, dataset: str, principal: str | None) -> dict | None:
    """The budget view if it is in memory and still current, else None (never reads)."""
    found = _DOCUMENTS.peek((db_path, dataset, principal))
    return copy.deepcopy(found) if found is not None else None


def _budget_document(db, dataset: str, principal: str | None) -> dict:
    releases.ensure_budget(db, dataset)
    if principal:
        releases.ensure_allowance(db, dataset, principal)
    rows = db.execute("SELECT scope, pool, principal, cap_micro, spent_micro FROM budget_cap "
                      "WHERE dataset = ? AND (scope <> 'principal' OR principal = ?) "
                      "ORDER BY scope, pool", [dataset, principal or ""]).fetchall()
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
    return out


@router.get("/budget", summary="Privacy budget: global cap, pools, your allowance")
def get_budget(db: DbDep, key: CurrentKey, request: Request,
               dataset: Annotated[str, Query(description="school year, e.g. 2025-2026")] = "2025-2026"):
    known = db.execute("SELECT count(*) FROM school_year WHERE school_year = ?", [dataset]).fetchone()[0]
    if not known:
        from service.problems import InvalidInput
        raise InvalidInput("unknown dataset", errors=[{"in": "query", "field": "dataset",
                                                       "message": f"no school year {dataset!r}"}])
    principal = key.scope if key.role is Role.researcher else None
    return budget_document(db, dataset, principal, request.app.state.db_path)
