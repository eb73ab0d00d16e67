"""Suppression as statistical offices practise it: "no data for groups of fewer than five".

A published table is a :class:`LinearTable`: integer cells (inner cells and totals alike) and
the linear relations between them (``total = sum(parts)``): the row and column margins of a
2-D table, the totals of every level of a hierarchy (schools → municipality → province →
country, and the overlapping samenwerkingsverband and RMC hierarchies), and the links between
two releases (month 1 + month 2 = cumulative). Everything the attacker knows is the published
cells, these relations and that counts are non-negative.

* **Primary suppression** (:func:`primary_mask`): cells with 1–4 pupils are hidden. Zero cells
  are published: a zero is no group of pupils, and it is what the rule's practitioners publish
  (hiding every zero would hide most school cells of rare measures while protecting nobody).
* **Naive secondary suppression** (:func:`naive_secondary`): the common rule "at least two hidden
  cells in every row and column" — in every relation with exactly one hidden cell, hide the
  smallest other cell; repeat until no relation has one hidden cell. It ignores capacity and
  the interplay of relations, which is what the differencing attack exploits.
* **Complementary suppression** (:func:`complementary_suppression`): the network-flow / LP
  heuristic of Castro (2007, "A shortest-paths heuristic for statistical data protection in
  positive tables", INFORMS J. Computing 19(4)), the "Network" method of τ-ARGUS, generalised
  from 2-D tables to any set of linear relations. For each primary cell ``p`` it solves two
  LPs: find a deviation ``y`` with ``A y = 0`` (all published relations still hold),
  ``y_p = +U`` (resp. ``-L``), ``x + y >= 0``, minimising the cost of the published cells
  it moves; every cell it moves is hidden. Fast path (the 1-D hypercube): if ``p`` has a twin
  ``q`` (a cell in exactly the same relations, total of none) with ``x_q >= U``, the cycle
  ``(+t on p, -t on q)`` protects ``p`` both ways and no LP is solved. ``x + y`` is then a table the attacker cannot tell
  from the truth, so the attacker's interval for ``p`` reaches ``x_p + U`` and ``x_p - L``:
  protection holds by construction, and :func:`service.evaluation.differencing.feasible_intervals`
  audits it.

Protection rule (:class:`Protection`): the attacker's interval for a hidden cell with value
``x`` must reach the threshold (``hi >= 5``: a small group can't be told from a publishable
one) and go at least one below ``x`` (``lo <= x - 1``: for a single pupil, the attacker can't
even tell that anybody is there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

#: The Dutch rule: no data for groups of fewer than five.
THRESHOLD = 5


@dataclass(frozen=True)
class Relation:
    """``cells[total] == sum(cells[parts])``, published as part of the table's structure."""

    total: int
    parts: tuple[int, ...]


@dataclass(frozen=True)
class LinearTable:
    """Integer cells and the relations between them. ``values`` are true counts: private."""

    values: np.ndarray = field(repr=False)
    labels: tuple[str, ...] = field(repr=False)
    relations: tuple[Relation, ...] = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.values)

    def matrix(self) -> sparse.csr_matrix:
        """Relations × cells: +1 on the parts, -1 on the total (so ``A @ values == 0``)."""
        rows, cols, vals = [], [], []
        for i, rel in enumerate(self.relations):
            rows += [i] * (len(rel.parts) + 1)
            cols += [*rel.parts, rel.total]
            vals += [1.0] * len(rel.parts) + [-1.0]
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(self.relations), self.size))


def table_with_margins(inner: np.ndarray, row_names: Sequence[str] | None = None,
                       col_names: Sequence[str] | None = None) -> LinearTable:
    """A 2-D table with its row totals, column totals and grand total (all published)."""
    inner = np.asarray(inner, dtype=np.int64)
    r, c = inner.shape
    rn = list(row_names or [f"r{i}" for i in range(r)])
    cn = list(col_names or [f"c{j}" for j in range(c)])
    full = np.zeros((r + 1, c + 1), dtype=np.int64)
    full[:r, :c] = inner
    full[:r, c] = inner.sum(axis=1)
    full[r, :c] = inner.sum(axis=0)
    full[r, c] = inner.sum()
    index = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    relations = [Relation(int(index[i, c]), tuple(int(k) for k in index[i, :c])) for i in range(r + 1)]
    relations += [Relation(int(index[r, j]), tuple(int(k) for k in index[:r, j])) for j in range(c)]
    labels = tuple(f"{(rn + ['total'])[i]}|{(cn + ['total'])[j]}"
                   for i in range(r + 1) for j in range(c + 1))
    return LinearTable(full.ravel(), labels, tuple(relations))


def _nests(finer: np.ndarray, coarser: np.ndarray) -> np.ndarray | None:
    """The coarser group of every finer group, if the finer level nests in the coarser one."""
    inside = finer >= 0
    if np.any(coarser[inside] < 0):
        return None
    parent = np.full(finer.max() + 1 if inside.any() else 0, -1, dtype=np.int64)
    for f, g in zip(finer[inside], coarser[inside]):
        if parent[f] not in (-1, g):
            return None
        parent[f] = g
    return parent


def hierarchy_table(leaf: np.ndarray, levels: Mapping[str, tuple[np.ndarray, Sequence[str]]],
                    leaf_names: Sequence[str] | None = None) -> LinearTable:
    """Leaf cells (schools) plus one total per group of every level (``group_of_leaf``, -1 if
    a leaf is in no group of that level). A level is related to the finest earlier level that
    nests in it (province = sum of municipalities), otherwise to the leaves (swv = sum of
    schools). Levels may overlap (several hierarchies over the same schools)."""
    leaf = np.asarray(leaf, dtype=np.int64)
    values, labels = [leaf], [f"school|{n}" for n in (leaf_names or range(len(leaf)))]
    relations: list[Relation] = []
    offsets: dict[str, int] = {}
    start = len(leaf)
    done: list[str] = []
    for name, (group, codes) in levels.items():
        group = np.asarray(group, dtype=np.int64)
        n_groups = len(codes)
        inside = group >= 0
        totals = np.bincount(group[inside], weights=leaf[inside], minlength=n_groups).round()
        values.append(totals.astype(np.int64))
        labels += [f"{name}|{c}" for c in codes]
        parent, below = None, None
        for d in reversed(done):
            parent = _nests(np.asarray(levels[d][0], dtype=np.int64), group)
            if parent is not None:
                below = d
                break
        members = group if below is None else parent
        first = 0 if below is None else offsets[below]
        order = np.argsort(members, kind="stable")
        bounds = np.searchsorted(members[order], np.arange(n_groups + 1))
        for g in range(n_groups):
            parts = first + order[bounds[g]:bounds[g + 1]]
            relations.append(Relation(start + g, tuple(int(p) for p in parts)))
        offsets[name] = start
        start += n_groups
        done.append(name)
    return LinearTable(np.concatenate(values), tuple(labels), tuple(relations))


def stacked(*tables: LinearTable, links: Sequence[Relation] = ()) -> tuple[LinearTable, list[int]]:
    """Several tables as one (e.g. two releases), with extra relations across them given in the
    combined numbering. Returns the table and the offset of each part."""
    offsets, start = [], 0
    values, labels, relations = [], [], []
    for k, t in enumerate(tables):
        offsets.append(start)
        values.append(t.values)
        labels += [f"{k}:{lab}" for lab in t.labels]
        relations += [Relation(r.total + start, tuple(p + start for p in r.parts)) for r in t.relations]
        start += t.size
    return LinearTable(np.concatenate(values), tuple(labels), tuple(relations) + tuple(links)), offsets


def primary_mask(values: np.ndarray, threshold: int = THRESHOLD) -> np.ndarray:
    """Cells with 1 … threshold-1 pupils (zeros are published)."""
    values = np.asarray(values)
    return (values > 0) & (values < threshold)


@dataclass(frozen=True)
class Protection:
    """How far the attacker's interval must reach around a hidden primary cell of value x."""

    threshold: int = THRESHOLD

    def upper(self, x: int) -> int:
        return max(self.threshold - int(x), 1)

    def lower(self, x: int) -> int:
        return min(1, int(x))


def naive_secondary(table: LinearTable, hidden: np.ndarray) -> np.ndarray:
    """Iterate "no relation with exactly one hidden cell": hide its smallest other cell."""
    hidden = np.asarray(hidden, dtype=bool).copy()
    changed = True
    while changed:
        changed = False
        for rel in table.relations:
            cells = np.array((*rel.parts, rel.total))
            if hidden[cells].sum() == 1:
                others = cells[~hidden[cells]]
                hidden[others[np.argmin(table.values[others])]] = True
                changed = True
    return hidden


@dataclass(frozen=True)
class SuppressionResult:
    hidden: np.ndarray = field(repr=False)
    primary: np.ndarray = field(repr=False)
    lp_solved: int = 0

    @property
    def secondary(self) -> np.ndarray:
        return self.hidden & ~self.primary


def _neighbourhood(table: LinearTable, cell_relations: list[list[int]], seed: int,
                   radius: int) -> np.ndarray:
    cells, frontier = {seed}, {seed}
    for _ in range(radius):
        nxt = set()
        for c in frontier:
            for r in cell_relations[c]:
                rel = table.relations[r]
                nxt.update(rel.parts)
                nxt.add(rel.total)
        frontier = nxt - cells
        cells |= nxt
    return np.array(sorted(cells))


def _flow(table, matrix, cells, p, shift, hidden, frozen, cost) -> np.ndarray | None:
    """Cheapest deviation y on `cells` (others 0) with A y = 0, y_p = shift, x + y >= 0.
    Returns the cells y moves, or None if there is none inside `cells`."""
    sub = matrix[:, cells]
    rows = np.flatnonzero(np.asarray(abs(sub).sum(axis=1)).ravel() > 0)
    sub = sub[rows]
    n = len(cells)
    weight = np.where(hidden[cells], 1e-4, cost[cells] / abs(shift))
    c = np.concatenate([weight, weight])               # y = y_plus - y_minus
    a_eq = sparse.hstack([sub, -sub]).tocsr()
    b_eq = np.zeros(len(rows))
    where_p = int(np.searchsorted(cells, p))
    unit = sparse.csr_matrix(([1.0, -1.0], ([0, 0], [where_p, n + where_p])), shape=(1, 2 * n))
    a_eq = sparse.vstack([a_eq, unit]).tocsr()
    b_eq = np.append(b_eq, float(shift))
    fixed = frozen[cells] & (np.arange(n) != where_p)
    upper_plus = np.where(fixed, 0.0, np.inf)
    upper_minus = np.where(fixed, 0.0, table.values[cells].astype(float))
    bounds = list(zip(np.zeros(2 * n), np.concatenate([upper_plus, upper_minus])))
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    y = res.x[:n] - res.x[n:]
    return cells[np.abs(y) > 1e-7]


def _twins(table: LinearTable, cell_relations: list[list[int]]) -> dict[int, list[int]]:
    """Cells that are a part of exactly the same relations and the total of none (schools in
    the same municipality, samenwerkingsverband and RMC region): moving +t on one and -t on
    the other keeps every published total."""
    is_total = np.zeros(table.size, bool)
    is_total[[r.total for r in table.relations]] = True
    groups: dict[tuple[int, ...], list[int]] = {}
    for c in np.flatnonzero(~is_total):
        groups.setdefault(tuple(sorted(cell_relations[c])), []).append(int(c))
    return {c: g for g in groups.values() if len(g) > 1 for c in g}


def _twin(group, p: int, up: int, values, hidden, frozen, cost) -> int | None:
    """The twin of p that can absorb +up (value >= up): a hidden one, else the cheapest."""
    fits = [q for q in group if q != p and values[q] >= up and not frozen[q]]
    if not fits:
        return None
    return min(fits, key=lambda q: (not hidden[q], cost[q], q))


def complementary_suppression(table: LinearTable, primary: np.ndarray | None = None,
                              frozen: np.ndarray | None = None,
                              already_hidden: np.ndarray | None = None,
                              protection: Protection = Protection(),
                              max_radius: int = 6) -> SuppressionResult:
    """Castro's flow heuristic (see module docstring). ``frozen`` cells are already published
    (e.g. by an earlier release) and may not be hidden now. Cost of hiding a cell: 1 + its
    value (cells and pupils lost). ``already_hidden`` cells (e.g. hidden by an earlier release)
stay hidden and are free to use. Raises ValueError if a primary cell can't be protected."""
    values = table.values
    primary = primary_mask(values, protection.threshold) if primary is None else np.asarray(primary, bool)
    frozen = np.zeros(table.size, bool) if frozen is None else np.asarray(frozen, bool)
    hidden = primary.copy()
    if already_hidden is not None:
        hidden |= np.asarray(already_hidden, bool)
    matrix = table.matrix()
    cell_relations: list[list[int]] = [[] for _ in range(table.size)]
    for i, rel in enumerate(table.relations):
        for cell in (*rel.parts, rel.total):
            cell_relations[cell].append(i)
    cost = 1.0 + values.astype(float)
    twins = _twins(table, cell_relations)
    solved = 0
    for p in np.flatnonzero(primary & ~frozen):
        q = _twin(twins.get(int(p), ()), int(p), protection.upper(values[p]), values, hidden,
                  frozen, cost)
        if q is not None:           # a two-cell cycle protects p both ways: no LP needed
            hidden[q] = True
            continue
        for shift in (protection.upper(values[p]), -protection.lower(values[p])):
            if shift == 0:
                continue
            moved = None
            for radius in range(2, max_radius + 1, 2):
                cells = _neighbourhood(table, cell_relations, int(p), radius)
                moved = _flow(table, matrix, cells, int(p), shift, hidden, frozen, cost)
                solved += 1
                if moved is not None:
                    break
            if moved is None:
                raise ValueError(f"cell {table.labels[p]} cannot be protected")
            hidden[moved] = True
    return SuppressionResult(hidden, primary, solved)
