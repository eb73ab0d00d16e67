"""Sensitivity from bound specs, including on simulated neighbouring datasets."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import (
    BoundSpec,
    BoundSpecError,
    Sensitivity,
    extreme_contribution,
    l2_squared,
    sensitivity,
    sqrt_ceil,
)


@pytest.mark.parametrize(
    ("spec", "l1", "l2_exact_squared"),
    [
        (BoundSpec(0, 1), 1, 1),
        (BoundSpec(0, 1, max_cells=5), 5, 5),
        (BoundSpec(0, 30, max_cells=3), 90, 3 * 30**2),
        (BoundSpec(-5, 3, max_cells=4), 20, 4 * 25),
        (BoundSpec(0, 72_000, max_cells=2), 144_000, 2 * 72_000**2),
        (BoundSpec(7, 7), 7, 49),
    ],
)
def test_sensitivity_of_several_specs(spec, l1, l2_exact_squared):
    s = sensitivity(spec)
    assert s.l1 == l1
    # l2 is the smallest float at or above the exact square root
    assert Fraction(s.l2) ** 2 >= l2_exact_squared
    assert Fraction(math.nextafter(s.l2, 0.0)) ** 2 < l2_exact_squared
    assert s.l2 == pytest.approx(math.sqrt(l2_exact_squared), rel=1e-15)


def test_whole_square_roots_are_exact():
    assert sensitivity(BoundSpec(0, 1, max_cells=4)) == Sensitivity(l1=4, l2=2.0)
    assert sensitivity(BoundSpec(0, 360, max_cells=9)).l2 == 1080.0


@pytest.mark.parametrize(
    "args", [(2, 1, 1), (0, 1, 0), (0.0, 1, 1), (0, True, 1), (0, 0, 1), (0, 2**41, 1)]
)
def test_invalid_specs_are_refused(args):
    with pytest.raises(BoundSpecError):
        BoundSpec(*args)


@settings(deadline=None)  # the property is exact; only timing could fail it
@given(st.integers(0, 10**12))
def test_sqrt_ceil_is_the_smallest_float_above(x):
    f = sqrt_ceil(x)
    assert Fraction(f) ** 2 >= x
    assert f == 0 or Fraction(math.nextafter(f, 0.0)) ** 2 < x


@st.composite
def table_and_pupils(draw):
    lower = draw(st.integers(-50, 50))
    upper = draw(st.integers(lower, lower + 400))
    if lower == upper == 0:
        upper = 1
    max_cells = draw(st.integers(1, 4))
    n_cells = draw(st.integers(max_cells, 8))
    spec = BoundSpec(lower, upper, max_cells)
    pupils = draw(
        st.lists(
            st.dictionaries(st.integers(0, n_cells - 1), st.integers(-10_000, 10_000), min_size=0, max_size=max_cells),
            min_size=1,
            max_size=20,
        )
    )
    return spec, n_cells, pupils


def _table(spec: BoundSpec, n_cells: int, pupils: list[dict[int, int]]) -> np.ndarray:
    """What SQL computes: each pupil's raw values clamped to the spec, summed per cell."""
    out = np.zeros(n_cells, dtype=np.int64)
    for contrib in pupils:
        for cell, raw in contrib.items():
            out[cell] += min(max(raw, spec.lower), spec.upper)
    return out


@settings(deadline=None)  # the property is exact; only timing could fail it
@given(table_and_pupils(), st.data())
def test_removing_one_pupil_moves_the_table_by_at_most_the_sensitivity(case, data):
    spec, n_cells, pupils = case
    gone = data.draw(st.integers(0, len(pupils) - 1))
    full = _table(spec, n_cells, pupils)
    neighbour = _table(spec, n_cells, pupils[:gone] + pupils[gone + 1 :])
    diff = (full - neighbour).astype(np.float64)
    s = sensitivity(spec)
    assert np.abs(diff).sum() <= s.l1
    assert math.sqrt((diff * diff).sum()) <= s.l2


def test_the_bound_is_attained():
    spec = BoundSpec(0, 30, max_cells=3)
    extreme = [{0: 30, 1: 30, 2: 30}]
    diff = _table(spec, 3, extreme).astype(np.float64)
    assert diff.sum() == sensitivity(spec).l1
    assert math.sqrt((diff**2).sum()) == pytest.approx(sensitivity(spec).l2)


# ── non-negative parts with a common cap ────────────────────────────────────────────────────

def test_the_doctests_hold():
    """The worked examples in the docstrings (months, reasons) are checked, not just shown."""
    import doctest

    import privacy.bounds
    import privacy.continual

    for module in (privacy.bounds, privacy.continual):
        failed, tried = doctest.testmod(module)
        assert failed == 0 and (module is privacy.continual or tried >= 6), module.__name__


@pytest.mark.parametrize(
    ("spec", "l1", "l2_exact_squared"),
    [
        # five reasons, each within the year, together within the year: one table's bound
        (BoundSpec(0, 73_800, max_cells=5, total_cap=73_800), 73_800, 73_800**2),
        # twelve months of at most 8,280 minutes, a year of at most 73,800
        (BoundSpec(0, 8_280, max_cells=12, total_cap=73_800), 73_800, 8 * 8_280**2 + 7_560**2),
        # a cap that does not bind is the per-cell bound
        (BoundSpec(0, 8_280, max_cells=8, total_cap=73_800), 8 * 8_280, 8 * 8_280**2),
        (BoundSpec(0, 10, max_cells=3, total_cap=30), 30, 300),
        # a cap below one cell's bound: one cell at the cap
        (BoundSpec(0, 100, max_cells=4, total_cap=40), 40, 1_600),
        (BoundSpec(0, 10, max_cells=4, total_cap=25), 25, 2 * 100 + 25),
    ],
)
def test_sensitivity_of_capped_specs(spec, l1, l2_exact_squared):
    s = sensitivity(spec)
    assert s.l1 == l1 and l2_squared(spec) == l2_exact_squared
    assert Fraction(s.l2) ** 2 >= l2_exact_squared
    assert Fraction(math.nextafter(s.l2, 0.0)) ** 2 < l2_exact_squared


def test_the_months_example_of_the_issue():
    s = sensitivity(BoundSpec(0, 8_280, max_cells=12, total_cap=73_800))
    assert round(s.l2) == 24_609
    assert s.l2 < sensitivity(BoundSpec(0, 8_280, max_cells=12)).l2 == pytest.approx(28_683, abs=0.5)


@pytest.mark.parametrize(
    "kwargs",
    [dict(lower=-1, upper=10, max_cells=2, total_cap=5), dict(lower=1, upper=10, max_cells=2, total_cap=5),
     dict(lower=0, upper=10, max_cells=2, total_cap=0), dict(lower=0, upper=10, max_cells=2, total_cap=2.5),
     dict(lower=0, upper=10, max_cells=2, total_cap=True), dict(lower=0, upper=10, total_cap=2**41)],
)
def test_invalid_caps_are_refused(kwargs):
    with pytest.raises(BoundSpecError, match="total_cap"):
        BoundSpec(**kwargs)


def capped(raw: list[int], upper: int, cap: int) -> list[int]:
    """What SQL computes for one pupil: each part clamped to [0, upper], then in a fixed order
    to what the cap leaves (sick' = least(sick, cap), authorised' = least(authorised,
    cap - sick'), …)."""
    out, left = [], cap
    for value in raw:
        part = min(max(value, 0), upper, left)
        out.append(part)
        left -= part
    return out


@st.composite
def capped_case(draw):
    upper = draw(st.integers(1, 400))
    k = draw(st.integers(1, 12))
    cap = draw(st.integers(1, upper * k + 50))
    spec = BoundSpec(0, upper, max_cells=k, total_cap=cap)
    raw = draw(st.lists(st.integers(-100, upper + 200), min_size=k, max_size=k))
    return spec, capped(raw, upper, cap)


@settings(deadline=None)  # exact arithmetic; only timing could fail it
@given(capped_case())
def test_no_vector_within_the_cap_exceeds_the_sensitivity(case):
    spec, x = case
    assert all(0 <= v <= spec.upper for v in x) and sum(x) <= spec.total_cap
    s = sensitivity(spec)
    assert sum(x) <= s.l1
    assert sum(v * v for v in x) <= l2_squared(spec) <= Fraction(s.l2) ** 2


@settings(deadline=None)
@given(st.integers(1, 8), st.integers(1, 5), st.integers(1, 45))
def test_the_bound_is_the_maximum_over_every_integer_vector(upper, k, cap):
    """Exhaustive on small polytopes: the vertex formula is the maximum, and a pupil attains it."""
    import itertools

    spec = BoundSpec(0, upper, max_cells=k, total_cap=cap)
    best = max(sum(v * v for v in x) for x in itertools.product(range(upper + 1), repeat=k)
               if sum(x) <= cap)
    assert l2_squared(spec) == best
    extreme = extreme_contribution(spec)
    assert len(extreme) <= k and all(0 < v <= upper for v in extreme) and sum(extreme) <= cap
    assert sum(v * v for v in extreme) == best and sum(extreme) == sensitivity(spec).l1


def test_the_capped_bound_is_attained_by_a_pupil_in_a_table():
    """A table of several pupils: removing the extreme pupil moves it by exactly Δ1 and Δ2."""
    spec = BoundSpec(0, 8_280, max_cells=12, total_cap=73_800)
    others = [capped([1_000 * (i + j) for j in range(12)], 8_280, 73_800) for i in range(3)]
    pupil = capped([8_280] * 12, 8_280, 73_800)
    with_pupil = np.sum(others + [pupil], axis=0)
    diff = with_pupil - np.sum(others, axis=0)
    assert int(diff.sum()) == sensitivity(spec).l1
    assert int((diff * diff).sum()) == l2_squared(spec)
    assert math.sqrt(l2_squared(spec)) == pytest.approx(sensitivity(spec).l2, rel=1e-15)
