"""POST /v1/queries: a researcher's ad-hoc statistic — dry run (cost and expected intervals,
nothing spent) or release (charged to the researcher's allowance; the same canonical query
asked again returns the stored release at no cost)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from privacy.budget import Rho
from service import query as queries
from service.api import PREFIX
from service.api.budget import budget_document
from service.auth import Role
from service.deps import CurrentKey, DbDep, SettingsDep
from service.problems import InvalidInput

router = APIRouter(prefix=PREFIX, tags=["queries"])


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rho: Annotated[str, Field(description="zCDP rho as a decimal or fraction, e.g. '0.01' or '1/100'",
                              pattern=r"^[0-9]+(\.[0-9]+)?(/[0-9]+)?$", max_length=32)]


class Accuracy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    half_width: Annotated[float, Field(ge=1, le=1e12, description="95% half-width of each total, in its own unit (pupils or minutes)")]


class QueryCreate(BaseModel):
    """An ad-hoc query: public dimensions only; a budget or a target accuracy."""

    model_config = ConfigDict(extra="forbid")
    dataset: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{4}$")] = "2025-2026"
    measure: Annotated[str, Field(max_length=64)]
    group_by: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=4)] = []
    filters: dict[Annotated[str, Field(max_length=32)], list[Annotated[str, Field(max_length=32)]]] = {}
    budget: Budget | None = None
    accuracy: Accuracy | None = None
    dry_run: bool = False


def _rho(body: QueryCreate) -> Rho | None:
    if body.budget is None:
        return None
    try:
        return Rho.of(body.budget.rho)
    except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
        raise InvalidInput("invalid budget", errors=[{"in": "body", "field": "budget.rho",
                                                      "message": "not a non-negative number"}]) from exc


_PARSED: dict[str, dict] = {}


def _parsed(record) -> dict:
    """A stored release's payload, parsed once (releases are immutable)."""
    if record.release_id not in _PARSED:
        if len(_PARSED) >= 256:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[record.release_id] = json.loads(record.payload)
    return _PARSED[record.release_id]


@router.post("/queries", summary="Ask an ad-hoc statistic (dry run first)", status_code=200,
             responses={201: {"description": "released (charged)"}, 200: {"description": "dry run, or the stored release of the same query (free)"},
                        409: {"description": "budget exhausted"}})
def create_query(body: QueryCreate, db: DbDep, settings: SettingsDep, key: CurrentKey, response: Response):
    known = db.execute("SELECT count(*) FROM school_year WHERE school_year = ?", [body.dataset]).fetchone()[0]
    if not known:
        raise InvalidInput("unknown dataset", errors=[{"in": "body", "field": "dataset",
                                                       "message": f"no school year {body.dataset!r}"}])
    args = dict(dataset=body.dataset, measure=body.measure, group_by=body.group_by,
                filters=body.filters, rho=_rho(body),
                half_width=body.accuracy.half_width if body.accuracy else None)
    if body.dry_run:
        return {"dry_run": True, **queries.dry_run(db, **args)}
    principal = key.scope if key.role is Role.researcher else f"{key.role.value}:{key.key_id}"
    stored = queries.run_query(db, settings, principal=principal, **args)
    response.status_code = 201 if stored.newly_charged else 200
    payload = _parsed(stored.record)
    budget = budget_document(db, body.dataset, principal)
    return {"release_id": stored.record.release_id, "charged": stored.newly_charged,
            "spent": payload["budget"], "columns": payload["columns"], "rows": payload["rows"],
            "budget_left": budget.get("allowance", {}).get("remaining"),
            "links": {"self": f"{PREFIX}/releases/{stored.record.release_id}"}}
