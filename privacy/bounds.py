"""Per-pupil bounds and the sensitivity derived from them: the ONLY place sensitivity is computed.

Unit of privacy: one pupil in one school year. Two datasets are neighbours when one holds all
records of one pupil and the other does not (add/remove). SQL clamps every value a pupil adds
to a cell of a table to ``[lower, upper]`` and lets one pupil touch at most ``max_cells``
cells of that table (for instance 1 for "pupils per school", 5 for a table over the five
absence bands if a pupil could in principle appear in all of them, which it cannot).

Adding or removing one pupil therefore changes at most ``max_cells`` cells, each by at most
``m = max(|lower|, |upper|)``:

* L1 sensitivity  ``Δ1 = max_cells · m``            (sum of the changes)
* L2 sensitivity  ``Δ2 = sqrt(max_cells) · m``      (Euclidean norm of the changes)

Both are tight for the add/remove relation: a pupil with value ``m`` in ``max_cells`` cells
attains them. ``Δ2`` is generally irrational, so it is rounded UP to the next representable
float; an overstated sensitivity only adds noise, an understated one would break the proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

#: Aggregates and bounds must stay far from the i64 limits, where OpenDP saturates.
MAX_ABS_BOUND = 2**40


class BoundSpecError(ValueError):
    """A bound spec that cannot describe what one pupil contributes."""

    def __init__(self, lower: object, upper: object, max_cells: object, reason: str) -> None:
        self.lower, self.upper, self.max_cells, self.reason = lower, upper, max_cells, reason
        super().__init__(f"invalid bound spec lower={lower} upper={upper} max_cells={max_cells}: {reason}")


@dataclass(frozen=True)
class BoundSpec:
    """What ONE pupil can contribute to ONE table (a vector of cells).

    ``lower``/``upper``: the clamp range of the value one pupil adds to a cell (integers; time
    is in whole minutes, counts are 0/1). ``max_cells``: how many cells one pupil can touch.
    """

    lower: int
    upper: int
    max_cells: int = 1

    def __post_init__(self) -> None:
        for name in ("lower", "upper", "max_cells"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise BoundSpecError(self.lower, self.upper, self.max_cells, f"{name} must be an int")
        if self.lower > self.upper:
            raise BoundSpecError(self.lower, self.upper, self.max_cells, "lower > upper")
        if self.max_cells < 1:
            raise BoundSpecError(self.lower, self.upper, self.max_cells, "max_cells < 1")
        if max(abs(self.lower), abs(self.upper)) > MAX_ABS_BOUND or self.max_cells > MAX_ABS_BOUND:
            raise BoundSpecError(self.lower, self.upper, self.max_cells, "too large for i64 aggregates")
        if self.lower == self.upper == 0:
            raise BoundSpecError(self.lower, self.upper, self.max_cells, "a pupil must be able to contribute")


@dataclass(frozen=True)
class Sensitivity:
    """L1 (exact integer) and L2 (float, rounded up) sensitivity of one table."""

    l1: int
    l2: float


def sqrt_ceil(x: int | Fraction) -> float:
    """The smallest float ``f`` with ``f*f >= x`` exactly (``x >= 0``)."""
    x = Fraction(x)
    if x < 0:
        raise ValueError(f"sqrt_ceil of a negative number: {x}")
    f = math.sqrt(x)
    while Fraction(f) ** 2 < x:
        f = math.nextafter(f, math.inf)
    while f > 0 and Fraction(math.nextafter(f, 0.0)) ** 2 >= x:
        f = math.nextafter(f, 0.0)
    return f


def sensitivity(spec: BoundSpec) -> Sensitivity:
    """Sensitivity of a table under add/remove of one pupil, from its bound spec.

    ``l1 = max_cells * m`` and ``l2 = sqrt(max_cells) * m`` rounded up to a float, where
    ``m = max(|lower|, |upper|)``. See the module docstring for the argument.

    >>> sensitivity(BoundSpec(lower=0, upper=1))
    Sensitivity(l1=1, l2=1.0)
    >>> sensitivity(BoundSpec(lower=0, upper=30, max_cells=3))
    Sensitivity(l1=90, l2=51.96152422706632)
    """
    m = max(abs(spec.lower), abs(spec.upper))
    return Sensitivity(l1=spec.max_cells * m, l2=sqrt_ceil(spec.max_cells * m * m))
