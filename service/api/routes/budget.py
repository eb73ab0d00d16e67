"""GET /v1/budget: what is left of the privacy budget — globally, per pool, and (for a
researcher) of the caller's own allowance. Shown as exact ρ, decimal ρ and ε at δ."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api import PREFIX, roles
from service.api.budget_views import budget_document
from service.api.auth import Role
from service.api.deps import CurrentKey, DbDep
from service.api.params import SCHOOL_YEAR_PATTERN
from service.api.problems import NotFound
from service.register import lookup

router = APIRouter(prefix=PREFIX, tags=["budget"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/budget", roles.allow(Role.researcher, Role.policy, Role.admin)),
)


@router.get("/budget", summary="Privacy budget: global cap, pools, your allowance")
def get_budget(db: DbDep, key: CurrentKey, request: Request,
               dataset: Annotated[str, Query(pattern=SCHOOL_YEAR_PATTERN,
                                             description="school year, e.g. 2025-2026")] = "2025-2026"):
    if not lookup.school_year_exists(db, dataset):
        raise NotFound("no such school year", errors=[{"in": "query", "field": "dataset",
                                                       "message": f"no school year {dataset!r}"}])
    principal = key.scope if key.role is Role.researcher else None
    return budget_document(db, dataset, principal, request.app.state.database,
                           request.app.state.settings)
