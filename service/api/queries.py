"""POST /v1/queries: a researcher's ad-hoc statistic — dry run (cost and expected intervals,
nothing spent) or release (charged to the researcher's allowance; the same canonical query
asked again returns the stored release at no cost)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from privacy.budget import Rho
from service import query as queries
from service.api import PREFIX
from service.api.budget import budget_document
from service.auth import Role
from service.deps import CurrentKey, DbDep, SettingsDep
from service.problems import InvalidInput
from service.read_cache import REGISTER, ReadCache

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


_PARSED: dict[str, bytes] = {}


def _parsed(record) -> bytes:
    """The answer's part taken from a stored release — spent, columns, rows, links — as JSON
    object members (no braces), built once per release (releases are immutable)."""
    if record.release_id not in _PARSED:
        if len(_PARSED) >= 256:
            _PARSED.pop(next(iter(_PARSED)))
        payload = json.loads(record.payload)
        part = json.dumps({"spent": payload["budget"], "columns": payload["columns"],
                           "rows": payload["rows"],
                           "links": {"self": f"{PREFIX}/releases/{record.release_id}"}},
                          separators=(",", ":"), ensure_ascii=False)
        _PARSED[record.release_id] = part[1:].encode("utf-8")
    return _PARSED[record.release_id]


def query_args(body: QueryCreate) -> dict:
    return dict(dataset=body.dataset, measure=body.measure, group_by=body.group_by,
                filters=body.filters, rho=_rho(body),
                half_width=body.accuracy.half_width if body.accuracy else None)


_SCHOOL_YEARS = ReadCache(REGISTER)


def known_dataset_kept(db_path: str, dataset: str) -> bool:
    """True if this school year is known from memory (False means: ask the database)."""
    return _SCHOOL_YEARS.peek((db_path, dataset)) is True


def _known_dataset(db, db_path: str, dataset: str) -> bool:
    """Whether the register has this school year; a yes is kept (school years are never
    removed), a no is asked again next time."""
    try:
        return _SCHOOL_YEARS.get((db_path, dataset), lambda: _school_year(db, dataset))
    except LookupError:
        return False


def _school_year(db, dataset: str) -> bool:
    if not db.execute("SELECT count(*) FROM school_year WHERE school_year = ?", [dataset]).fetchone()[0]:
        raise LookupError(dataset)  # not kept
    return True


@router.post("/queries", summary="Ask an ad-hoc statistic (dry run first)", status_code=200,
             responses={201: {"description": "released (charged)"}, 200: {"description": "dry run, or the stored release of the same query (free)"},
                        409: {"description": "budget exhausted"}})
async def create_query(body: QueryCreate, db: DbDep, settings: SettingsDep, key: CurrentKey,
                       request: Request):
    """Runs on the event loop while everything it needs is in memory (a repeated query: its
    stored release, the budget view, the school year); anything that reads pupil data or
    charges the budget goes to a worker thread."""
    db_path = request.app.state.db_path
    if not _known_dataset(db, db_path, body.dataset):
        raise InvalidInput("unknown dataset", errors=[{"in": "body", "field": "dataset",
                                                       "message": f"no school year {body.dataset!r}"}])
    args = query_args(body)
    if body.dry_run:
        return {"dry_run": True, **(await run_in_threadpool(lambda: queries.dry_run(db, **args)))}
    principal = principal_of(key)
    stored = queries.stored_query(db_path, **args) or await run_in_threadpool(
        lambda: queries.run_query(db, settings, principal=principal, db_path=db_path, **args))
    budget = budget_document(db, body.dataset, principal, db_path)
    return Response(answer(stored, budget), status_code=201 if stored.newly_charged else 200,
                    media_type="application/json")


def answer(stored, budget: dict) -> bytes:
    """The answer to a released query: its id, whether this request paid, what is left of
    the caller's allowance, and the stored release's budget, columns, rows and link (those
    serialised once per release: they never change)."""
    head = json.dumps({"release_id": stored.record.release_id, "charged": stored.newly_charged,
                       "budget_left": budget.get("allowance", {}).get("remaining")},
                      separators=(",", ":"))
    return head[:-1].encode() + b"," + _parsed(stored.record)


def principal_of(key) -> str:
    """Whose allowance pays: a researcher's own id; an admin key pays as itself."""
    return key.scope if key.role is Role.researcher else f"{key.role.value}:{key.key_id}"
