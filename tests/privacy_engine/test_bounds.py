"""Sensitivity from bound specs, including on simulated neighbouring datasets."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.bounds import BoundSpec, BoundSpecError, Sensitivity, sensitivity, sqrt_ceil


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
