"""What the query route and the repeated-query shortcut share: the request model, the domain
call's arguments, whose allowance pays, whether a school year is known, and the answer's bytes
(the release part serialised once per release in `service.api.read_cache`)."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from privacy.budget import Rho
from service.api import PREFIX
from service.api.auth import Role
from service.api.params import DimensionName, MeasureName
from service.api.problems import InvalidInput
from service.api.read_cache import query_answer_parts, school_years
from service.db import Database
from service.register import lookup
from service.releases.budget import budget_view
from service.releases.query_accuracy import DEFAULT_MIN_GROUP, AccuracyTarget
from service.releases.query_costs import rho_words


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rho: Annotated[str, Field(description="zCDP rho as a decimal or fraction, e.g. '0.01' or '1/100'",
                              pattern=r"^[0-9]+(\.[0-9]+)?(/[0-9]+)?$", max_length=32)]


class Accuracy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    half_width: Annotated[float, Field(gt=0, le=1e12, description=(
        "95% half-width of every published value, in `unit`: a rate or share in "
        "percentage_points (or as a fraction), a count in pupils. Without a unit: each "
        "total's 95% accuracy in its own unit (pupils or minutes; `minutes` and `hours` say "
        "so explicitly). A target the per-query cap cannot reach is a 400 naming the best "
        "within it."))]
    unit: Literal["percentage_points", "fraction", "pupils", "minutes", "hours"] | None = None
    min_group: Annotated[int, Field(ge=1, le=10_000_000, description=(
        "rates and shares: the target holds for groups of at least this many pupils "
        "(smaller groups get wider intervals)"))] = DEFAULT_MIN_GROUP


class QueryCreate(BaseModel):
    """An ad-hoc query: public dimensions only; a budget or a target accuracy (exactly one,
    which the document says with ``oneOf``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": [
        {"required": ["budget"], "properties": {"budget": {"type": "object"},
                                                "accuracy": {"type": "null"}}},
        {"required": ["accuracy"], "properties": {"accuracy": {"type": "object"},
                                                  "budget": {"type": "null"}}},
    ]})
    dataset: Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{4}$")] = "2025-2026"
    measure: MeasureName
    group_by: Annotated[list[DimensionName], Field(max_length=4, json_schema_extra={"uniqueItems": True})] = []
    filters: dict[DimensionName, Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")]],
                                           Field(min_length=1, max_length=1000)]] = {}
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


def _parsed(record, database: Database) -> bytes:
    """The answer's part taken from a stored release — spent, columns, rows, links — as JSON
    object members (no braces), built once per release (releases are immutable)."""
    def build() -> bytes:
        payload = json.loads(record.payload)
        part = json.dumps({"spent": payload["budget"], "columns": payload["columns"],
                           "rows": payload["rows"],
                           "links": {"self": f"{PREFIX}/releases/{record.release_id}"}},
                          separators=(",", ":"), ensure_ascii=False)
        return part[1:].encode("utf-8")
    return query_answer_parts(database).get(record.release_id, build)


def query_args(body: QueryCreate) -> dict:
    return dict(dataset=body.dataset, measure=body.measure, group_by=body.group_by,
                filters=body.filters, rho=_rho(body),
                half_width=(AccuracyTarget(body.accuracy.half_width, body.accuracy.unit,
                                           body.accuracy.min_group) if body.accuracy else None))


def known_dataset_kept(database: Database, dataset: str) -> bool:
    """True if this school year is known from memory (False means: ask the database)."""
    return school_years(database).peek(dataset) is True


def known_dataset(db, database: Database, dataset: str) -> bool:
    """Whether the register has this school year; a yes is kept (school years are never
    removed), a no is asked again next time."""
    try:
        return school_years(database).get(dataset, lambda: _school_year(db, dataset))
    except LookupError:
        return False


def _school_year(db, dataset: str) -> bool:
    if not lookup.school_year_exists(db, dataset):
        raise LookupError(dataset)  # not kept
    return True


def answer(stored, budget: dict, database: Database) -> bytes:
    """The answer to a released query: its id, whether this request paid and what (0 for a
    stored answer), what is left of every scope it pays from after it, in numbers and words,
    and the stored release's budget, columns, rows and link (those serialised once per
    release: they never change)."""
    micro = stored.record.micro if stored.newly_charged else 0
    left = {"principal": budget.get("allowance", {}).get("remaining"),
            "pool": budget.get("pools", {}).get("researcher", {}).get("remaining"),
            "global": budget.get("global", {}).get("remaining"),
            "lifetime": budget.get("lifetime", {}).get("remaining")}
    left = {k: v for k, v in left.items() if v}
    if stored.newly_charged:
        text = f"Charged ρ {rho_words(micro)} (new on the current data)."
    else:
        text = f"Already answered on the current data (release {stored.record.release_id}): free."
    if "principal" in left:
        text += (f" Your allowance for {stored.record.dataset} has ρ "
                 f"{rho_words(round(left['principal']['rho_decimal'] * 1_000_000))} left.")
    head = json.dumps({"release_id": stored.record.release_id, "charged": stored.newly_charged,
                       "stored": not stored.newly_charged, "cost": budget_view(micro),
                       "budget_left": left.get("principal"), "left_after": left, "fits": True,
                       "summary": text},
                      separators=(",", ":"), ensure_ascii=False)
    return head[:-1].encode() + b"," + _parsed(stored.record, database)


def principal_of(key) -> str:
    """Whose allowance pays: a researcher's own id; an admin key pays as itself."""
    return key.scope if key.role is Role.researcher else f"{key.role.value}:{key.key_id}"
