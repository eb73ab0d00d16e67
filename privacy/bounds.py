"""Per-pupil bounds and the sensitivity derived from them: the ONLY place sensitivity is computed.

Unit of privacy: one pupil in one school year. Two datasets are neighbours when one holds all
records of one pupil and the other does not (add/remove). SQL clamps every value a pupil adds
to a cell of a table to ``[lower, upper]`` and lets one pupil touch at most ``max_cells``
cells of that table (for instance 1 for "pupils per school", 12 for a table by calendar
month: one cell per month).

Per-cell bound. Adding or removing one pupil changes at most ``max_cells`` cells, each by at
most ``m = max(|lower|, |upper|)``:

* L1 sensitivity  ``Δ1 = max_cells · m``            (sum of the changes)
* L2 sensitivity  ``Δ2 = sqrt(max_cells) · m``      (Euclidean norm of the changes)

Both are tight for the add/remove relation: a pupil with value ``m`` in ``max_cells`` cells
attains them.

Non-negative parts with a common cap (``total_cap = C``). Often one pupil's cells are parts
of one total: a pupil's minutes by reason add up to its absent minutes, its minutes by month
to its year. SQL then also clamps the SUM of the pupil's cells to ``C`` (and each cell to
``[0, m]``), so the change ``x`` one pupil makes lies in the polytope

    P = { x in R^k : 0 <= x_i <= m,  Σ x_i <= C }          (k = max_cells).

* ``Δ1 = max Σ x_i = min(k·m, C)``.
* ``Δ2² = max ||x||²`` over ``P``. ``||x||²`` is convex, so its maximum over the polytope is
  attained at a vertex. At a vertex ``k`` linearly independent constraints are active; at most
  one of them is the sum constraint, so at least ``k − 1`` coordinates sit at 0 or ``m`` and at
  most one, ``r``, lies strictly between (fixed by ``Σ x_i = C``). A vertex with ``a`` cells at
  ``m`` and one at ``r < m`` has ``||x||² = a·m² + r²`` with ``a·m + r <= C``, so
  ``a <= q := min(k, ⌊C/m⌋)``. If ``a < q`` then ``a·m² + r² < (a+1)·m² <= q·m²``; if
  ``a = q`` then ``r <= C − q·m``. Hence

      Δ2² = q·m² + r²,   q = min(k, ⌊C/m⌋),   r = C − q·m if q < k else 0,

  attained (tight) by the pupil with ``q`` cells at ``m`` and one cell at ``r``: an integer
  point, so a real pupil when ``m`` and ``C`` are whole minutes. Without the cap (or with
  ``C >= k·m``) this is the per-cell bound above. Examples: five reasons, each in
  ``[0, 73 800]`` with their sum ``<= 73 800``: ``q = 1, r = 0``, ``Δ2 = 73 800`` — one
  table's sensitivity, not ``sqrt(5)`` times it; twelve months of at most 8 280 minutes with a
  year of at most 73 800: ``q = 8, r = 7 560``, ``Δ2 = sqrt(8·8 280² + 7 560²) ≈ 24 609``
  instead of ``sqrt(12)·8 280 ≈ 28 683``. The same argument bounds each height of the weekly
  tree (`privacy.continual.tree_l2_squared` calls :func:`l2_squared`).

``Δ2`` is generally irrational, so it is rounded UP to the next representable float; an
overstated sensitivity only adds noise, an understated one would break the proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

#: Aggregates and bounds must stay far from the i64 limits, where OpenDP saturates.
MAX_ABS_BOUND = 2**40


class BoundSpecError(ValueError):
    """A bound spec that cannot describe what one pupil contributes."""

    def __init__(self, lower: object, upper: object, max_cells: object, reason: str,
                 total_cap: object = None) -> None:
        self.lower, self.upper, self.max_cells, self.reason = lower, upper, max_cells, reason
        self.total_cap = total_cap
        cap = "" if total_cap is None else f" total_cap={total_cap}"
        super().__init__(f"invalid bound spec lower={lower} upper={upper} max_cells={max_cells}"
                         f"{cap}: {reason}")


@dataclass(frozen=True)
class BoundSpec:
    """What ONE pupil can contribute to ONE table (a vector of cells).

    ``lower``/``upper``: the clamp range of the value one pupil adds to a cell (integers; time
    is in whole minutes, counts are 0/1). ``max_cells``: how many cells one pupil can touch.
    ``total_cap`` (optional): the cells are non-negative parts of one per-pupil total, and SQL
    clamps their sum to at most ``total_cap`` (needs ``lower == 0``); see the module docstring.
    """

    lower: int
    upper: int
    max_cells: int = 1
    #: left out of a request's canonical form when None (`privacy.request.OMIT_IF_DEFAULT`;
    #: this module cannot import it): requests made before caps existed keep their hashes
    total_cap: int | None = field(default=None, metadata={"canonical_omit_if_default": True})

    def __post_init__(self) -> None:
        def fail(reason: str) -> None:
            raise BoundSpecError(self.lower, self.upper, self.max_cells, reason, self.total_cap)

        names = ("lower", "upper", "max_cells") + (() if self.total_cap is None else ("total_cap",))
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                fail(f"{name} must be an int")
        if self.lower > self.upper:
            fail("lower > upper")
        if self.max_cells < 1:
            fail("max_cells < 1")
        if max(abs(self.lower), abs(self.upper)) > MAX_ABS_BOUND or self.max_cells > MAX_ABS_BOUND:
            fail("too large for i64 aggregates")
        if self.lower == self.upper == 0:
            fail("a pupil must be able to contribute")
        if self.total_cap is not None:
            if self.lower != 0:
                fail("a total cap bounds non-negative parts: lower must be 0")
            if not 1 <= self.total_cap <= MAX_ABS_BOUND:
                fail("total_cap must lie in [1, 2**40]")


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


def extreme_contribution(spec: BoundSpec) -> tuple[int, ...]:
    """The change of one pupil that attains the bound: ``q`` cells at ``m`` and, under a cap
    that binds, one cell at the remainder ``r`` (see the module docstring).

    >>> extreme_contribution(BoundSpec(0, 8_280, max_cells=12, total_cap=73_800))
    (8280, 8280, 8280, 8280, 8280, 8280, 8280, 8280, 7560)
    >>> extreme_contribution(BoundSpec(0, 73_800, max_cells=5, total_cap=73_800))
    (73800,)
    >>> extreme_contribution(BoundSpec(-5, 3, max_cells=2))
    (5, 5)
    """
    m = max(abs(spec.lower), abs(spec.upper))
    if spec.total_cap is None or spec.total_cap >= spec.max_cells * m:
        return (m,) * spec.max_cells
    q = spec.total_cap // m                     # < max_cells here
    r = spec.total_cap - q * m
    return (m,) * q + ((r,) if r else ())


def l2_squared(spec: BoundSpec) -> int:
    """The exact squared L2 sensitivity ``Δ2²`` (an integer) of a table with this spec.

    >>> l2_squared(BoundSpec(0, 8_280, max_cells=12, total_cap=73_800))
    605620800
    """
    return sum(x * x for x in extreme_contribution(spec))


def sensitivity(spec: BoundSpec) -> Sensitivity:
    """Sensitivity of a table under add/remove of one pupil, from its bound spec.

    ``l1 = max_cells * m`` and ``l2 = sqrt(max_cells) * m`` rounded up to a float, where
    ``m = max(|lower|, |upper|)``; with a total cap ``C``, ``l1 = min(max_cells * m, C)`` and
    ``l2 = sqrt(q*m² + r²)`` (the vertex of the module docstring). See the module docstring for
    the argument.

    >>> sensitivity(BoundSpec(lower=0, upper=1))
    Sensitivity(l1=1, l2=1.0)
    >>> sensitivity(BoundSpec(lower=0, upper=30, max_cells=3))
    Sensitivity(l1=90, l2=51.96152422706632)
    >>> sensitivity(BoundSpec(0, 73_800, max_cells=5, total_cap=73_800))   # five reasons
    Sensitivity(l1=73800, l2=73800.0)
    >>> sensitivity(BoundSpec(0, 8_280, max_cells=12, total_cap=73_800))   # twelve months
    Sensitivity(l1=73800, l2=24609.364071426146)
    """
    return Sensitivity(l1=sum(extreme_contribution(spec)), l2=sqrt_ceil(l2_squared(spec)))
