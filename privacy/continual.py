"""Continual release of a weekly series under ONE yearly pupil-level guarantee (tree mechanism).

Method. The binary-tree / hierarchical-counting mechanism (Dwork, Naor, Pitassi & Rothblum,
"Differential privacy under continual observation", STOC 2010; Chan, Shi & Song, "Private and
continual release of statistics", ACM TISSEC 14(3), 2011). The school year has ``T`` weeks,
fixed before the first week is released. A *node* of height ``h`` is the dyadic interval of
weeks ``[k·2^h + 1, (k+1)·2^h]``; only nodes that end by week ``T`` and have ``h <= height``
exist. A node is noised once, in the week it completes (its last week), with the discrete
Gaussian ``N_Z(0, σ²)`` from OpenDP, and is never changed afterwards. Any range of weeks
``[a, b]`` (one week, a rolling 4-week window, year to date ``[1, t]``) is the sum of a few
disjoint nodes (:meth:`TreeShape.cover`; a prefix ``[1, t]`` needs ``⌊t/2^H⌋`` nodes of the top
height ``H`` and at most one of each lower height — at most ``H + 1`` for the full tree), so its noise has the exact variance ``|cover|·Var(N_Z(0, σ²))`` and its error grows
with the number of nodes — logarithmically — not with the number of weeks. ``height = 0`` is
the degenerate tree of single weeks (the "split the budget over the weeks" baseline, but with
pupil-level accounting).

Unit of privacy: ONE PUPIL OVER THE WHOLE SCHOOL YEAR. Unlike the event-level setting of
DNPR10/CSS11, a pupil appears in every week, so the bound must cover all of a pupil's weeks.
:class:`StreamBound`: SQL clamps each pupil's value in each week to ``[0, c]`` (``c`` from a
:class:`~privacy.bounds.BoundSpec` through :func:`privacy.bounds.sensitivity`, one cell per
week), and, optionally, the pupil's total over the year to ``B`` (``B = c`` for "the week a
pupil FIRST reaches four consecutive weeks of absence", which happens at most once a year;
``B = T·c`` when nothing more is known). A pupil lies in ONE cell of a table for the whole
year (the main school of the year fixes the area and sector), so a table's cell vector adds
nothing to the bound below.

Sensitivity (:func:`tree_l2_squared`), proof sketch. Let ``x ∈ [0, c]^T`` with ``Σ x_t <= B``
be one pupil's contributions and ``n_v = Σ_{t∈v} x_t`` the pupil's part of node ``v``.
Removing the pupil changes the node vector by exactly ``(n_v)_v``. Fix a height ``h``; its
``N_h(t) = ⌊t/2^h⌋`` nodes completed by week ``t`` are disjoint, so

    0 <= n_v <= m_h := min(2^h·c, B)       and       Σ_v n_v <= B   (L1 per height <= min(T·c, B)).

``Σ_v n_v²`` is convex, so its maximum over this polytope is at a vertex: fill as many nodes
as possible to ``m_h`` and put the rest in one node, i.e.
``L_h² = f·m_h² + r²`` with ``f = min(N_h, ⌊B/m_h⌋)``, ``r = min(B − f·m_h, m_h)`` if
``f < N_h`` (else 0) — the bound of "non-negative parts with a common cap" of
:mod:`privacy.bounds` (:func:`~privacy.bounds.l2_squared` of ``BoundSpec(0, m_h, N_h, total_cap=B)``). Summing the per-height maxima bounds the whole vector:
``||n||₂² <= Δ(t)² := Σ_h L_h²(t)`` (exact integer arithmetic; tight both for ``B = T·c``,
attained by a pupil absent ``c`` every week, and for ``B = c``, attained by one event in week 1).

Privacy and the weekly charge. The nodes released up to and including week ``t`` form one
Gaussian mechanism on a vector of L2 sensitivity ``Δ(t)``; by the discrete Gaussian's zCDP
bound (Canonne, Kamath & Steinke 2020) it is ``ρ(t) = Δ(t)²/(2σ²)``-zCDP, as read from
OpenDP's privacy map. ``σ`` is chosen up front (:func:`plan_tree`) as the smallest scale with
``ρ(T) <= ρ`` for the year. The release of week ``t`` is charged ``ρ(t) − ρ(t−1)`` (whole
micro-ρ, cumulative rounded up), so after any week the ledger holds at least the true loss of
everything released so far, the year costs at most the planned ρ, and a later week never
changes what an earlier week spent. Noise is drawn in the week a node completes, independently
of all other nodes, so the weekly outputs are a non-adaptive release of this one mechanism.

Choosing the height (:func:`choose_height`). The best height is a public function of
``(T, c, B)`` and the workload (weekly, rolling, year-to-date): for ``B = T·c`` a node of
``2^h`` weeks has sensitivity ``2^h·c``, every node of the tree carries the whole year's
sensitivity ``≈ sqrt(2)·T·c`` and the single-week tree (height 0, ``Δ = sqrt(T)·c``) is
better for EVERY range (year to date at week ``T`` has sensitivity ``T·c`` itself, which
height 0 attains); for ``B = c`` the full tree wins for year-to-date values. The planner
compares exact planned variances and takes the smallest; docs/weekly.md shows the numbers.

Frozen weeks (docs/weekly.md): each node is computed once, from the data as they stand in the
week it completes; for a stream with ``B < T·c`` the proof needs a pupil's events never to be
moved into a later node by a correction, so the service fixes the week of the once-a-year
event when it is first released and never counts that pupil again.

Nothing here reads a database or draws noise outside OpenDP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from privacy.bounds import BoundSpec, l2_squared, sensitivity, sqrt_ceil
from privacy.budget import MICRO, Rho
from privacy.mechanisms import MAX_ABS_AGGREGATE, NoisePlan, make_measurement

__all__ = [
    "ContinualError",
    "Node",
    "StreamBound",
    "TreePlan",
    "TreeShape",
    "choose_height",
    "noise_nodes",
    "plan_tree",
    "range_estimate",
    "tree_l2_squared",
]


class ContinualError(ValueError):
    """Arguments that cannot define a continual release (bad horizon, week, height, bound)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True, order=True)
class Node:
    """The dyadic interval of weeks ``[start, end]`` (1-based, inclusive) at ``height``."""

    end: int
    height: int
    start: int

    @property
    def key(self) -> str:
        return f"{self.start}-{self.end}"


@dataclass(frozen=True)
class StreamBound:
    """Per-pupil bound of one weekly stream: ``[0, c]`` per week, at most ``year_total`` a year."""

    per_week: BoundSpec
    weeks: int
    year_total: int | None = None

    def __post_init__(self) -> None:
        if self.per_week.lower != 0 or self.per_week.max_cells != 1:
            raise ContinualError("a weekly stream is clamped to [0, c] in one cell per week")
        if isinstance(self.weeks, bool) or not isinstance(self.weeks, int) or not 1 <= self.weeks <= 128:
            raise ContinualError(f"weeks must be an int in 1..128, got {self.weeks!r}")
        if self.year_total is not None and not self.c <= self.year_total <= self.weeks * self.c:
            raise ContinualError("year_total must lie between c and weeks·c")

    @property
    def c(self) -> int:
        return sensitivity(self.per_week).l1

    @property
    def total(self) -> int:
        """``B``: the most one pupil adds over the whole year."""
        return self.year_total if self.year_total is not None else self.weeks * self.c


@dataclass(frozen=True)
class TreeShape:
    """The nodes of a tree over ``weeks`` weeks with heights ``0..height``."""

    weeks: int
    height: int

    def __post_init__(self) -> None:
        if not 1 <= self.weeks <= 128:
            raise ContinualError(f"weeks must be in 1..128, got {self.weeks}")
        if not 0 <= self.height <= max_height(self.weeks):
            raise ContinualError(f"height must be in 0..{max_height(self.weeks)}, got {self.height}")

    @cached_property
    def nodes(self) -> tuple[Node, ...]:
        out = [Node(k * 2**h + 2**h, h, k * 2**h + 1)
               for h in range(self.height + 1) for k in range(self.weeks // 2**h)]
        return tuple(sorted(out))

    def completing(self, week: int) -> tuple[Node, ...]:
        """The nodes noised in ``week`` (those ending there), lowest first."""
        self._check_week(week)
        return tuple(n for n in self.nodes if n.end == week)

    def cover(self, first: int, last: int) -> tuple[Node, ...]:
        """Disjoint nodes whose union is weeks ``[first, last]`` (greedy dyadic decomposition)."""
        self._check_week(first)
        self._check_week(last)
        if first > last:
            raise ContinualError(f"empty range {first}..{last}")
        out, i = [], first
        while i <= last:
            h = self.height
            while h > 0 and ((i - 1) % 2**h or i + 2**h - 1 > last):
                h -= 1
            out.append(Node(i + 2**h - 1, h, i))
            i += 2**h
        return tuple(out)

    def _check_week(self, week: int) -> None:
        if isinstance(week, bool) or not isinstance(week, int) or not 1 <= week <= self.weeks:
            raise ContinualError(f"week must be in 1..{self.weeks}, got {week!r}")


def max_height(weeks: int) -> int:
    """``⌊log2 T⌋``: the highest height with a node that completes within the year."""
    return int(weeks).bit_length() - 1


def tree_l2_squared(shape: TreeShape, bound: StreamBound, upto: int | None = None) -> int:
    """``Δ(t)²``: exact squared L2 sensitivity of the nodes completed by week ``upto`` (default
    the whole year) under add/remove of one pupil. See the module docstring for the proof."""
    if bound.weeks != shape.weeks:
        raise ContinualError("bound and shape disagree on the number of weeks")
    t = shape.weeks if upto is None else upto
    if t == 0:
        return 0
    shape._check_week(t)
    c, b = bound.c, bound.total
    total = 0
    for h in range(shape.height + 1):
        count = t // 2**h
        if count == 0:
            continue
        # the `count` nodes of height h: parts in [0, min(2^h·c, B)] with their sum <= B
        total += l2_squared(BoundSpec(0, min(2**h * c, b), max_cells=count, total_cap=b))
    return total


@dataclass(frozen=True)
class TreePlan:
    """A tree, its bound, the node noise scale σ and the cumulative charge per week (micro-ρ)."""

    shape: TreeShape
    bound: StreamBound
    scale: float
    rho: Rho
    cumulative_micro: tuple[int, ...]  # index t: micro-ρ spent by the end of week t (t=0: 0)

    def week_micro(self, week: int) -> int:
        """What releasing ``week`` costs (its newly completed nodes), in micro-ρ."""
        self.shape._check_week(week)
        return self.cumulative_micro[week] - self.cumulative_micro[week - 1]

    @cached_property
    def node_variance(self) -> float:
        """Exact variance of the discrete Gaussian on one node (same σ for every node)."""
        return NoisePlan("discrete_gaussian", self.scale, self.bound.per_week, rho=self.rho).variance()

    def range_variance(self, first: int, last: int) -> float:
        return len(self.shape.cover(first, last)) * self.node_variance

    def describe(self) -> dict:
        return {"weeks": self.shape.weeks, "height": self.shape.height, "c": self.bound.c,
                "year_total": self.bound.total, "scale": self.scale, "rho": str(self.rho.value),
                "l2_sensitivity": sqrt_ceil(tree_l2_squared(self.shape, self.bound)),
                "node_variance": self.node_variance}


def _cost(scale: float, l2_squared: int) -> Fraction:
    if l2_squared == 0:
        return Fraction(0)
    meas = make_measurement("discrete_gaussian", scale)
    return Fraction(float(meas.map(sqrt_ceil(l2_squared))))


def plan_tree(shape: TreeShape, bound: StreamBound, rho: Rho) -> TreePlan:
    """Smallest σ with OpenDP's zCDP map at ``Δ(T)`` at most ``rho``, and the weekly charges."""
    if not isinstance(rho, Rho) or rho.value <= 0:
        raise ContinualError(f"a tree needs a positive Rho, got {rho!r}")
    full = tree_l2_squared(shape, bound)
    start = sqrt_ceil(full) / math.sqrt(2 * float(rho.value))
    scale, step = start, 1
    while _cost(scale, full) > rho.value:  # closed form may sit a few ulps low
        scale = start + step * math.ulp(start)
        step *= 2
    for _ in range(64):
        candidate = math.nextafter(scale, 0.0)
        if candidate <= 0 or _cost(candidate, full) > rho.value:
            break
        scale = candidate
    cumulative = [0] + [math.ceil(_cost(scale, tree_l2_squared(shape, bound, t)) * MICRO)
                        for t in range(1, shape.weeks + 1)]
    for t in range(1, len(cumulative)):  # monotone by construction; keep it so if the map rounds
        cumulative[t] = max(cumulative[t], cumulative[t - 1])
    return TreePlan(shape, bound, scale, rho, tuple(cumulative))


def noise_nodes(values: dict[Node, np.ndarray], plan: TreePlan) -> dict[Node, np.ndarray]:
    """Noise the true values of the nodes completing in one week (each a vector over the
    table's cells) with OpenDP's discrete Gaussian at the plan's σ, after re-checking that σ
    gives at most the plan's ρ at the tree's sensitivity. True values are not kept."""
    if _cost(plan.scale, tree_l2_squared(plan.shape, plan.bound)) > plan.rho.value:
        raise ContinualError("the plan's scale does not deliver its stated budget")
    meas = make_measurement("discrete_gaussian", plan.scale)
    out: dict[Node, np.ndarray] = {}
    for node, vector in values.items():
        if node not in plan.shape.nodes:
            raise ContinualError(f"{node} is not a node of this tree")
        arr = np.asarray(vector)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ContinualError("node values must be a 1-d integer vector")
        if arr.size and int(np.abs(arr).max()) > MAX_ABS_AGGREGATE:
            raise ContinualError("node values must satisfy |v| <= 2**53")
        out[node] = (np.asarray(meas(arr.astype(np.int64).tolist()), dtype=np.int64)
                     if arr.size else np.zeros(0, dtype=np.int64))
    return out


def range_estimate(noisy: dict[Node, np.ndarray], plan: TreePlan, first: int,
                   last: int) -> tuple[np.ndarray, float]:
    """Noisy total over weeks ``[first, last]`` from released nodes, and its exact variance
    (post-processing: only noisy nodes are read)."""
    nodes = plan.shape.cover(first, last)
    missing = [n.key for n in nodes if n not in noisy]
    if missing:
        raise ContinualError(f"nodes not released yet: {', '.join(missing)}")
    total = np.sum([noisy[n] for n in nodes], axis=0).astype(np.int64)
    return total, len(nodes) * plan.node_variance


def workload_cost(shape: TreeShape, bound: StreamBound, weights: dict[str, float]) -> int | float:
    """Mean over weeks of ``Σ_w weight_w · |cover_w(t)|`` times ``Δ²`` (∝ the planned variance at
    a fixed ρ). Workloads: ``week`` [t, t], ``rolling4`` [t−3, t], ``ytd`` [1, t]."""
    total = 0.0
    for t in range(1, shape.weeks + 1):
        ranges = {"week": (t, t), "rolling4": (max(1, t - 3), t), "ytd": (1, t)}
        total += sum(w * len(shape.cover(*ranges[name])) for name, w in weights.items())
    return total / shape.weeks * tree_l2_squared(shape, bound)


def choose_height(bound: StreamBound, weights: dict[str, float]) -> int:
    """The height with the smallest planned workload variance (a public function of the bound)."""
    unknown = set(weights) - {"week", "rolling4", "ytd"}
    if unknown or not weights or any(w < 0 for w in weights.values()):
        raise ContinualError(f"workload weights must be non-negative over week/rolling4/ytd: {weights}")
    costs = {h: workload_cost(TreeShape(bound.weeks, h), bound, weights)
             for h in range(max_height(bound.weeks) + 1)}
    return min(costs, key=lambda h: (costs[h], h))
