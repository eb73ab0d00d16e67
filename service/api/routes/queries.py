"""POST /v1/queries: a researcher's ad-hoc statistic — dry run (cost and expected intervals,
nothing spent) or release (charged to the researcher's allowance; the same canonical query
asked again returns the stored release at no cost)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from privacy.ledger import BudgetExhausted
from service import errors
from service.releases import queries
from service.api import PREFIX, roles
from service.api.auth import Role
from service.api import query_answers
from service.api.budget_views import budget_document, kept_budget_document
from service.api.query_answers import QueryCreate, answer, known_dataset, principal_of, query_args
from service.api.deps import CurrentKey, DbDep, SettingsDep
from service.api.problems import InvalidInput

router = APIRouter(prefix=PREFIX, tags=["queries"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("POST", "/v1/queries", roles.allow(Role.researcher, Role.admin),
                example={"json": {"measure": "enrolled", "group_by": ["province"],
                                  "budget": {"rho": "0.001"}, "dry_run": True}}),
)


@router.post("/queries", summary="Ask an ad-hoc statistic (dry run first)", status_code=200,
             responses={201: {"description": "released (charged)"}, 200: {"description": "dry run, or the stored release of the same query (free)"},
                        409: {"description": "budget exhausted"}})
async def create_query(body: QueryCreate, db: DbDep, settings: SettingsDep, key: CurrentKey,
                       request: Request):
    """Runs on the event loop only while everything it needs is in memory (a repeated query:
    its stored release, the budget view, the school year); anything that reads the database
    (DuckDB), draws noise (OpenDP) or charges the budget goes to a worker thread."""
    database = request.app.state.database
    dataset_known = (query_answers.known_dataset_kept(database, body.dataset)
                     or await run_in_threadpool(known_dataset, db, database, body.dataset))
    if not dataset_known:
        raise InvalidInput("unknown dataset", errors=[{"in": "body", "field": "dataset",
                                                       "message": f"no school year {body.dataset!r}"}])
    args = query_args(body)
    principal = principal_of(key)
    if body.dry_run:
        return {"dry_run": True, **(await run_in_threadpool(lambda: queries.dry_run(
            db, principal=principal, settings=settings, database=database, **args)))}
    try:
        stored = queries.stored_query(database, **args) or await run_in_threadpool(
            lambda: queries.run_query(db, settings, principal=principal, database=database, **args))
    except BudgetExhausted as exc:       # the 409 carries the dry run's facts
        facts = await run_in_threadpool(lambda: queries.refusal_facts(
            db, settings, principal=principal, database=database, **args))
        problem = errors.translate(exc)
        problem.extensions.update(facts)
        problem.detail = facts["summary"] + " Nothing was spent."
        raise problem from exc
    budget = (kept_budget_document(database, body.dataset, principal)
              or await run_in_threadpool(budget_document, db, body.dataset, principal, database,
                                         settings))
    return Response(answer(stored, budget, database), status_code=201 if stored.newly_charged else 200,
                    media_type="application/json")
