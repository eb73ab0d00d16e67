"""Exact privacy budgets under zero-concentrated DP (zCDP, Bun & Steinke 2016).

A budget is a :class:`Rho`, an immutable value holding an exact :class:`fractions.Fraction`.
Budgets compose by addition (sequential composition of zCDP), so the ledger can add and
compare them without rounding. Where a budget meets a unit of storage, spending rounds UP
(:meth:`Rho.to_micro_ceil`): the ledger may over-charge by less than one micro-ρ, never
under-charge. Floats appear only for display (:meth:`Rho.__float__`, :meth:`Rho.epsilon`).

Shown as (ε, δ): ρ-zCDP implies (ε(δ), δ)-DP for every δ > 0; :meth:`Rho.epsilon` asks OpenDP's
``make_zCDP_to_approxDP`` privacy profile for ε(δ), which is never larger than the classic
``ρ + 2·sqrt(ρ·ln(1/δ))`` (Bun & Steinke 2016, Prop. 1.3; Canonne, Kamath & Steinke 2020).

Exceptions::

    BudgetError                     base of every budget exception (the ledger subclasses it)
    ├── NegativeBudgetError         a subtraction would go below zero
    └── BudgetValueError            a value that is not a finite, non-negative number
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

from privacy.bounds import sqrt_ceil
from privacy.opendp_setup import opendp_prelude

#: δ used when ρ is shown as (ε, δ). There are about 2.5 million pupils in the Netherlands; a
#: δ well below 1/n keeps "a δ-probability failure exposes one pupil" meaningless in
#: expectation (n·δ = 0.025). Chosen once, stated with every ε the service shows.
DEFAULT_DELTA: float = 1e-8

MICRO = 1_000_000


class BudgetError(Exception):
    """Base of budget exceptions; the ledger subclasses it (e.g. for exhausted budgets)."""


class NegativeBudgetError(BudgetError):
    """``minuend - subtrahend`` would be negative: budgets never go below zero."""

    def __init__(self, minuend: Fraction, subtrahend: Fraction) -> None:
        self.minuend, self.subtrahend = minuend, subtrahend
        super().__init__(f"budget {minuend} minus {subtrahend} would be negative")


class BudgetValueError(BudgetError, ValueError):
    """A value that cannot be a budget (negative, NaN, infinite, not a number)."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(f"not a valid zCDP budget: {value!r}")


@total_ordering
@dataclass(frozen=True)
class Rho:
    """An exact, non-negative zCDP budget ρ.

    >>> Rho.of("0.05") + Rho.of("0.01") == Rho.of("0.06")
    True
    >>> Rho.of(0.1).value
    Fraction(1, 10)
    >>> Rho(Fraction(1, 3)).to_micro_ceil()
    333334
    """

    value: Fraction

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, Fraction)):
            raise BudgetValueError(self.value)
        if self.value < 0:
            raise BudgetValueError(self.value)
        object.__setattr__(self, "value", Fraction(self.value))

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, x: int | str | Fraction | float) -> Rho:
        """From an int, a decimal or fraction string, a Fraction, or a float (via ``str(x)``,
        so ``Rho.of(0.1)`` is exactly 1/10, not the binary float nearest to it)."""
        if isinstance(x, bool):
            raise BudgetValueError(x)
        if isinstance(x, float):
            if not math.isfinite(x):
                raise BudgetValueError(x)
            return cls(Fraction(str(x)))
        if isinstance(x, str):
            try:
                return cls(Fraction(x.strip()))
            except (ValueError, ZeroDivisionError) as exc:
                raise BudgetValueError(x) from exc
        if isinstance(x, (int, Fraction)):
            return cls(Fraction(x))
        raise BudgetValueError(x)

    @classmethod
    def from_micro(cls, micro: int) -> Rho:
        """From integer micro-units (1 micro = 1e-6 ρ)."""
        if isinstance(micro, bool) or not isinstance(micro, int) or micro < 0:
            raise BudgetValueError(micro)
        return cls(Fraction(micro, MICRO))

    @classmethod
    def zero(cls) -> Rho:
        return cls(Fraction(0))

    # -- conversion ---------------------------------------------------------------------------
    def to_micro_ceil(self) -> int:
        """Integer micro-units, rounded UP (what spending this budget costs in storage)."""
        return math.ceil(self.value * MICRO)

    def to_micro_floor(self) -> int:
        """Integer micro-units, rounded DOWN (what may be granted out of this budget)."""
        return math.floor(self.value * MICRO)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"ρ={float(self.value):.6g}"

    def epsilon(self, delta: float = DEFAULT_DELTA) -> float:
        """ε such that ρ-zCDP implies (ε, δ)-DP, from OpenDP's zCDP→approx-DP profile.

        Built on a unit-scale Gaussian measurement whose privacy map at ``d_in = sqrt(2ρ)``
        (rounded up) is at least ρ, so the ε returned is for a budget no smaller than this one.
        """
        if not (isinstance(delta, float) and 0.0 < delta < 1.0):
            raise BudgetValueError(delta)
        if self.value == 0:
            return 0.0
        dp = opendp_prelude()
        meas = dp.c.make_zCDP_to_approxDP(
            dp.m.make_gaussian(dp.atom_domain(T="i64"), dp.absolute_distance(T="f64"), scale=1.0)
        )
        d_in = sqrt_ceil(2 * self.value)
        profile = meas.map(d_in)
        return float(profile.epsilon(delta))

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Rho) -> Rho:
        if not isinstance(other, Rho):
            return NotImplemented
        return Rho(self.value + other.value)

    def __sub__(self, other: Rho) -> Rho:
        if not isinstance(other, Rho):
            return NotImplemented
        if other.value > self.value:
            raise NegativeBudgetError(self.value, other.value)
        return Rho(self.value - other.value)

    def __mul__(self, k: int | Fraction) -> Rho:
        if isinstance(k, bool) or not isinstance(k, (int, Fraction)):
            return NotImplemented
        if k < 0:
            raise BudgetValueError(k)
        return Rho(self.value * k)

    __rmul__ = __mul__

    def __truediv__(self, k: int | Fraction) -> Rho:
        if isinstance(k, bool) or not isinstance(k, (int, Fraction)):
            return NotImplemented
        if k <= 0:
            raise BudgetValueError(k)
        return Rho(self.value / k)

    def __lt__(self, other: Rho) -> bool:
        if not isinstance(other, Rho):
            return NotImplemented
        return self.value < other.value

    def __bool__(self) -> bool:
        return self.value != 0
