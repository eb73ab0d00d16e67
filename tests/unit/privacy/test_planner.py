"""Budget split across tables and the accuracy predicted before spending."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec
from privacy.budget import BudgetError, Rho
from privacy.mechanisms import plan_gaussian
from privacy.planner import (
    AllocationError,
    LevelDemand,
    expected_weighted_variance,
    predict,
    split_budget,
)

DEMANDS = [
    LevelDemand("pupils@school", 1.0, BoundSpec(0, 1)),
    LevelDemand("pupils@country", 4.0, BoundSpec(0, 1)),
    LevelDemand("absent@school", 1.0, BoundSpec(0, 300, max_cells=1)),
]


def test_proportional_split():
    split = split_budget(DEMANDS, Rho.of(1), "proportional")
    assert split == {
        "pupils@school": Rho.of("0.166666"),
        "pupils@country": Rho.of("0.666666"),
        "absent@school": Rho.of("0.166666"),
    }


def test_min_weighted_variance_is_the_closed_form():
    split = split_budget(DEMANDS, Rho.of(1))
    shares = [math.sqrt(1.0) * 1, math.sqrt(4.0) * 1, math.sqrt(1.0) * 300]  # sqrt(w) * Δ2
    for demand, share in zip(DEMANDS, shares):
        expected = share / sum(shares)
        assert float(split[demand.name]) == pytest.approx(expected, abs=1e-6)
        assert split[demand.name].to_micro_ceil() == split[demand.name].to_micro_floor()


def test_min_weighted_variance_beats_proportional_and_perturbations():
    total = Rho.of(1)
    best = expected_weighted_variance(DEMANDS, split_budget(DEMANDS, total))
    assert best < expected_weighted_variance(DEMANDS, split_budget(DEMANDS, total, "proportional"))
    split = split_budget(DEMANDS, total)
    for i, j in [(0, 1), (1, 2), (2, 0)]:
        moved = dict(split)
        step = Rho.of("0.001")
        a, b = DEMANDS[i].name, DEMANDS[j].name
        moved[a], moved[b] = moved[a] - step, moved[b] + step
        assert expected_weighted_variance(DEMANDS, moved) > best


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.01, 100.0), st.integers(1, 3000), st.integers(1, 5)),
        min_size=1,
        max_size=8,
    ),
    st.fractions(min_value=Fraction(1, 1000), max_value=10),
    st.sampled_from(["proportional", "min_weighted_variance"]),
)
def test_split_never_exceeds_the_total(tables, total, how):
    demands = [LevelDemand(f"t{i}", w, BoundSpec(0, u, k)) for i, (w, u, k) in enumerate(tables)]
    try:
        split = split_budget(demands, Rho(total), how)
    except AllocationError as exc:  # legitimate only if some exact share is below one micro-rho
        shares = [Fraction(w) if how == "proportional" else Fraction(math.sqrt(w) * u * math.sqrt(k))
                  for w, u, k in tables]
        assert min(shares) / sum(shares) * total < Fraction(1, 10**6) * (1 + Fraction(1, 10**6))
        assert exc.table is not None
        return
    assert set(split) == {d.name for d in demands}
    assert sum((r.value for r in split.values()), Fraction(0)) <= total
    assert sum(r.to_micro_ceil() for r in split.values()) <= Rho(total).to_micro_ceil()
    assert all(r.value > 0 for r in split.values())


def test_predict_gives_the_planned_half_widths():
    split = split_budget(DEMANDS, Rho.of(1))
    predicted = predict(DEMANDS, split)
    for d in DEMANDS:
        assert predicted[d.name] == plan_gaussian(d.spec, split[d.name]).half_width(0.05)
    assert predicted["pupils@country"] < predicted["pupils@school"]


def test_allocation_errors():
    with pytest.raises(AllocationError):
        split_budget([], Rho.of(1))
    with pytest.raises(AllocationError):
        split_budget([DEMANDS[0], DEMANDS[0]], Rho.of(1))
    with pytest.raises(AllocationError) as info:
        split_budget(DEMANDS, Rho.from_micro(2))
    assert isinstance(info.value, BudgetError) and info.value.table is not None
    with pytest.raises(AllocationError):
        split_budget(DEMANDS, Rho.of(1), "equal")
    with pytest.raises(AllocationError):
        LevelDemand("x", 0.0, BoundSpec(0, 1))
    with pytest.raises(AllocationError):
        LevelDemand("x", float("inf"), BoundSpec(0, 1))
