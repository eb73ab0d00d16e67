"""Budget allocation across tables and levels, and the accuracy it buys, before spending.

Tables released together compose sequentially under zCDP: their ρ's add up. Given a total ρ
and the tables wanted (each with a weight saying how much its error matters and its bound
spec), :func:`split_budget` chooses one ρ per table.

``min_weighted_variance`` minimises ``Σ w_i · Var_i`` with ``Var_i ≈ σ_i² = Δ2_i² / (2ρ_i)``
subject to ``Σ ρ_i = ρ``. Lagrange: ``w_i Δ2_i² / (2ρ_i²) = λ`` for all i, so
``ρ_i ∝ sqrt(w_i) · Δ2_i`` (closed form, as in the "optimal allocation" of the TopDown and
Tumult planners). ``proportional`` gives ``ρ_i ∝ w_i``.

Exactness: every part is a whole number of micro-ρ rounded DOWN, so the parts sum to at most
the total exactly and each part is charged by the ledger without further rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from privacy.bounds import BoundSpec, sensitivity
from privacy.budget import MICRO, BudgetError, Rho
from privacy.mechanisms import plan_gaussian


class AllocationError(BudgetError):
    """The total is too small (or the demands invalid) to give every table a positive budget."""

    def __init__(self, reason: str, total: Rho | None = None, table: str | None = None) -> None:
        self.reason, self.total, self.table = reason, total, table
        super().__init__(reason)


@dataclass(frozen=True)
class LevelDemand:
    """One table (e.g. one area level of one measure): its name, weight and bound spec."""

    name: str
    weight: float
    spec: BoundSpec

    def __post_init__(self) -> None:
        if not (isinstance(self.weight, (int, float)) and math.isfinite(self.weight) and self.weight > 0):
            raise AllocationError(f"weight of {self.name!r} must be finite and > 0", table=self.name)


def _shares(demands: list[LevelDemand], how: str) -> list[Fraction]:
    if how == "proportional":
        return [Fraction(d.weight) for d in demands]
    if how == "min_weighted_variance":
        return [Fraction(math.sqrt(d.weight) * sensitivity(d.spec).l2) for d in demands]
    raise AllocationError(f"unknown allocation rule {how!r}")


def split_budget(
    demands: list[LevelDemand],
    total: Rho,
    how: Literal["proportional", "min_weighted_variance"] = "min_weighted_variance",
) -> dict[str, Rho]:
    """One ρ per table; the parts add up to at most ``total`` exactly (whole micro-ρ, floored).

    Raises :class:`AllocationError` if names repeat, there is nothing to split, or a table
    would get zero micro-ρ.
    """
    if not demands:
        raise AllocationError("no tables to allocate to", total=total)
    names = [d.name for d in demands]
    if len(set(names)) != len(names):
        raise AllocationError("table names must be unique", total=total)
    shares = _shares(demands, how)
    whole = sum(shares)
    out: dict[str, Rho] = {}
    for demand, share in zip(demands, shares):
        micro = math.floor(total.value * share / whole * MICRO)
        if micro < 1:
            raise AllocationError(
                f"total {total} leaves less than one micro-rho for {demand.name!r}",
                total=total,
                table=demand.name,
            )
        out[demand.name] = Rho.from_micro(micro)
    return out


def predict(
    demands: list[LevelDemand], allocation: dict[str, Rho], alpha: float = 0.05
) -> dict[str, float]:
    """Predicted ``(1 - alpha)`` half-width per table (discrete Gaussian), before spending."""
    return {
        d.name: plan_gaussian(d.spec, allocation[d.name]).half_width(alpha) for d in demands
    }


def expected_weighted_variance(demands: list[LevelDemand], allocation: dict[str, Rho]) -> float:
    """``Σ w_i · Var_i`` of an allocation (what ``min_weighted_variance`` minimises)."""
    return sum(
        d.weight * plan_gaussian(d.spec, allocation[d.name]).variance() for d in demands
    )
