"""What a query will cost before it is asked — and, the same facts, why it was refused.

For a researcher's query this says: whether its answer is already stored on the current data
(then it is free, and which release), or new and what it costs; what is left of every scope it
pays from after it (the allowance, the researchers' pool, the school year's cap, the cap
across school years); whether it fits; and if not, the most accurate request that does. The
data version is part of a request's identity, so once a school's upload has been derived the
same question is a new release and costs again: this is where the caller is told.

Reads only (`service.releases.publish.stored_release`, `service.releases.budget.room`).
"""

from __future__ import annotations

import duckdb

from privacy.budget import Rho
from service.db import Database
from service.releases.budget import SCOPE_WORDS, budget_view, room
from service.releases.publish import stored_release
from service.releases.query_accuracy import best_within, describe
from service.settings import Settings


def rho_words(micro: int) -> str:
    """A budget as a short decimal: 10100 micro-ρ → '0.0101'."""
    return f"{micro / 1_000_000:.6f}".rstrip("0").rstrip(".") or "0"


def cost_facts(con: duckdb.DuckDBPyConnection, settings: Settings | None, release, *,
               database: Database | None = None, max_rho: Rho, min_rho: Rho) -> dict:
    """The cost, the room left after it and whether it fits, for a `QueryRelease`."""
    plan = release.plan
    stored = stored_release(con, release, database)
    asked = plan.rho.to_micro_ceil()
    cost = 0 if stored is not None else asked
    left = room(con, release.dataset, release.principal, release.pool, settings)
    fits = all(cost <= v for v in left.values())
    out: dict = {
        "stored": ({"release_id": stored.release_id,
                    "created_at": stored.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
                   if stored is not None else None),
        "cost": {**budget_view(cost), "of_request": budget_view(asked)},
        "left_now": {scope: budget_view(v) for scope, v in left.items()},
        "left_after": {scope: budget_view(max(v - cost, 0)) for scope, v in left.items()},
        "fits": fits,
    }
    if plan.target is not None:
        out["accuracy"] = describe(plan.spec, plan.target, plan.rho)
    if not fits:
        out["most_accurate_that_fits"] = most_accurate(plan, left, max_rho, min_rho)
    out["summary"] = _summary(stored, cost, asked, left, fits, release.dataset,
                              out.get("most_accurate_that_fits"))
    return out


def most_accurate(plan, left: dict[str, int], max_rho: Rho, min_rho: Rho) -> dict | None:
    """The largest budget every scope can still pay (within the per-query cap) and the
    half-width it buys; None if not even the smallest budget fits."""
    micro = min(min(left.values()), max_rho.to_micro_floor())
    if micro < min_rho.to_micro_ceil() or micro < len(plan.rho_per_total):
        return None
    rho = Rho.from_micro(micro)
    return {"budget": {"rho": rho_words(micro)}, "expected": best_within(plan.spec, plan.target, rho)}


def _summary(stored, cost: int, asked: int, left: dict[str, int], fits: bool, dataset: str,
             better: dict | None) -> str:
    """The facts in one or two plain sentences."""
    allowance = left.get("principal")
    if stored is not None:
        head = (f"Already answered on the current data (release {stored.release_id}): free. ")
    else:
        head = f"New on the current data: costs ρ {rho_words(asked)}. "
    if allowance is not None:
        head += (f"Your allowance for {dataset} has ρ {rho_words(allowance)} left; "
                 f"ρ {rho_words(max(allowance - cost, 0))} after this. ")
    if fits:
        return head + "It fits."
    short = [SCOPE_WORDS[s] for s, v in left.items() if v < cost]
    text = head + f"It does not fit: {' and '.join(short)} cannot pay for it."
    if better is None:
        return text + " Nothing this query could ask fits what is left."
    exp = better["expected"]
    width = (f"± {exp['half_width']:g} {exp['unit'].replace('_', ' ')}"
             if exp["half_width"] is not None else "no useful interval")
    return text + (f" The most accurate request that fits: budget ρ {better['budget']['rho']}, "
                   f"{width}" + (f" for groups of {exp['for_groups_of_at_least']:,} pupils"
                                 if "for_groups_of_at_least" in exp else "") + ".")
