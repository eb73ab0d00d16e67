"""Rho: exact arithmetic, rounding of spending, and its (ε, δ) display."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from privacy.budget import (
    DEFAULT_DELTA,
    BudgetError,
    BudgetValueError,
    NegativeBudgetError,
    Rho,
)


def test_float_goes_through_its_decimal_text():
    assert Rho.of(0.1).value == Fraction(1, 10)
    assert Rho.of("0.05").value == Fraction(1, 20)
    assert Rho.of("1/3").value == Fraction(1, 3)
    assert Rho.of(2).value == 2


def test_arithmetic_is_exact():
    total = Rho.zero()
    for _ in range(10):
        total = total + Rho.of(0.1)
    assert total == Rho.of(1)  # 0.1 summed ten times as floats is 0.9999999999999999
    assert Rho.of("0.3") - Rho.of("0.1") == Rho.of("0.2")
    assert Rho.of("0.1") * 3 == Rho.of("0.3")
    assert Fraction(1, 3) * Rho.of(1) == Rho(Fraction(1, 3))
    assert Rho.of(1) / 4 == Rho.of("0.25")
    assert Rho.of("0.2") > Rho.of("0.1") and Rho.of("0.1") <= Rho.of(0.1)
    assert hash(Rho.of("0.1")) == hash(Rho.of(0.1))
    assert float(Rho.of("0.25")) == 0.25


def test_subtraction_never_goes_negative():
    with pytest.raises(NegativeBudgetError) as info:
        Rho.of("0.1") - Rho.of("0.2")
    assert isinstance(info.value, BudgetError)
    assert info.value.minuend == Fraction(1, 10) and info.value.subtrahend == Fraction(1, 5)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -0.1, "-1", "abc", True, None, "1/0"])
def test_invalid_values_are_refused(bad):
    with pytest.raises(BudgetValueError):
        Rho.of(bad)


def test_micro_units():
    assert Rho(Fraction(1, 3)).to_micro_ceil() == 333_334
    assert Rho(Fraction(1, 3)).to_micro_floor() == 333_333
    assert Rho(Fraction(1, 10**9)).to_micro_ceil() == 1
    assert Rho.of("0.05").to_micro_ceil() == 50_000
    assert Rho.from_micro(50_000) == Rho.of("0.05")
    with pytest.raises(BudgetValueError):
        Rho.from_micro(-1)


@settings(deadline=None)  # the property is exact; only timing could fail it
@given(st.fractions(min_value=0, max_value=1000))
def test_to_micro_ceil_rounds_up_by_less_than_one_micro(x):
    micro = Rho(x).to_micro_ceil()
    assert Fraction(micro, 10**6) >= x
    assert Fraction(micro, 10**6) - x < Fraction(1, 10**6)


def _gaussian_epsilon(rho: float, delta: float) -> float:
    """Exact ε(δ) of the continuous Gaussian mechanism that is exactly ρ-zCDP (Balle & Wang
    2018): δ(ε) = Φ(μ/2 - ε/μ) - e^ε Φ(-μ/2 - ε/μ) with μ = sqrt(2ρ). Any sound conversion
    of ρ-zCDP must give at least this ε."""
    mu = math.sqrt(2 * rho)

    def d(eps):
        return norm.cdf(mu / 2 - eps / mu) - math.exp(eps) * norm.cdf(-mu / 2 - eps / mu)

    lo, hi = 0.0, 100.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if d(mid) > delta else (lo, mid)
    return hi


@pytest.mark.parametrize("rho", ["0.01", "0.05", "0.5", "1", "4"])
@pytest.mark.parametrize("delta", [1e-5, 1e-8, 1e-10])
def test_epsilon_lies_between_the_gaussian_and_the_classic_bound(rho, delta):
    r = Rho.of(rho)
    eps = r.epsilon(delta)
    classic = float(r) + 2 * math.sqrt(float(r) * math.log(1 / delta))  # Bun & Steinke Prop 1.3
    assert eps <= classic
    assert eps >= _gaussian_epsilon(float(r), delta) - 1e-9


def test_epsilon_known_example_and_monotone():
    # seen with OpenDP 0.16 (shared/OPENDP.md): rho = 0.5 gives epsilon 5.22 at delta 1e-6
    assert Rho.of("0.5").epsilon(1e-6) == pytest.approx(5.2215, abs=1e-3)
    assert Rho.of("0.5").epsilon(1e-8) > Rho.of("0.5").epsilon(1e-6)
    assert Rho.of("1").epsilon() > Rho.of("0.5").epsilon()
    assert Rho.zero().epsilon() == 0.0
    with pytest.raises(BudgetValueError):
        Rho.of(1).epsilon(0.0)


def test_default_delta_is_far_below_one_over_the_number_of_pupils():
    assert DEFAULT_DELTA < 1 / 2_500_000 / 10
