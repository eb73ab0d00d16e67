"""The differencing attack on suppressed tables, and the audit that is the same computation.

The attacker knows every published cell, the relations between cells (margins, the totals of
every level, month 1 + month 2 = cumulative) and that counts are non-negative integers. For a
hidden cell the attacker's feasible interval is ``[min x_c, max x_c]`` over all tables that agree
with what was published: two LPs per hidden cell (:func:`feasible_intervals`, HiGHS). A width of
0 means the cell is recovered exactly. For the tables built here (2-D tables with margins, a
hierarchy, two stacked releases) the constraint matrices are network matrices, hence totally
unimodular: the LP bounds are attained by integer tables, so they equal the integer bounds; the
tests check this by brute-force enumeration on small tables.

At national scale, :func:`recovered_by_algebra` finds the cells that the published equations
alone determine (the unit vector of the cell lies in the row space of the relations restricted
to the hidden cells): a lower bound on what the LP attacker recovers, computed per connected
component of hidden cells.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy import sparse
from scipy.optimize import linprog

from service.evaluation.suppression import (LinearTable, Protection, Relation,
                                           SuppressionResult, complementary_suppression,
                                           hierarchy_table, naive_secondary, primary_mask,
                                           stacked)


def _hidden_system(table: LinearTable, hidden: np.ndarray):
    """A_H y = b: the relations over the hidden cells, the published cells moved to the right."""
    a = table.matrix()
    published = ~hidden
    b = -(a[:, published] @ table.values[published].astype(float))
    return a[:, hidden].tocsr(), b


def feasible_intervals(table: LinearTable, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's [lo, hi] for every hidden cell (NaN for published ones)."""
    hidden = np.asarray(hidden, bool)
    lo = np.full(table.size, np.nan)
    hi = np.full(table.size, np.nan)
    idx = np.flatnonzero(hidden)
    if idx.size == 0:
        return lo, hi
    a_h, b = _hidden_system(table, hidden)
    keep = np.asarray(abs(a_h).sum(axis=1)).ravel() > 0
    a_h, b = a_h[keep], b[keep]
    for k, cell in enumerate(idx):
        c = np.zeros(idx.size)
        for sign, out in ((1.0, lo), (-1.0, hi)):
            c[k] = sign
            res = linprog(c, A_eq=a_h if a_h.shape[0] else None, b_eq=b if a_h.shape[0] else None,
                          bounds=(0, None), method="highs")
            out[cell] = np.inf if res.status == 3 else sign * res.fun
    return lo, hi


def unprotected(table: LinearTable, hidden: np.ndarray, primary: np.ndarray,
                protection: Protection = Protection()) -> np.ndarray:
    """Primary cells whose feasible interval does not reach the protection rule."""
    lo, hi = feasible_intervals(table, hidden)
    out = np.zeros(table.size, bool)
    for p in np.flatnonzero(primary):
        x = int(table.values[p])
        out[p] = bool(hi[p] < x + protection.upper(x) - 1e-6 or lo[p] > x - protection.lower(x) + 1e-6)
    return out


def _components(a_h: sparse.csr_matrix) -> tuple[int, np.ndarray]:
    """Connected components of hidden cells that share a relation."""
    incidence = (abs(a_h) > 0).astype(np.int8)
    adjacency = (incidence.T @ incidence).tocsr()
    return sparse.csgraph.connected_components(adjacency, directed=False)


def recovered_by_algebra(table: LinearTable, hidden: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    """Hidden cells that the published equations determine exactly (mask over all cells)."""
    hidden = np.asarray(hidden, bool)
    out = np.zeros(table.size, bool)
    idx = np.flatnonzero(hidden)
    if idx.size == 0:
        return out
    a_h, _ = _hidden_system(table, hidden)
    n_comp, label = _components(a_h)
    for comp in range(n_comp):
        cols = np.flatnonzero(label == comp)
        sub = a_h[:, cols]
        rows = np.flatnonzero(np.asarray(abs(sub).sum(axis=1)).ravel() > 0)
        if rows.size == 0:
            continue
        dense = sub[rows].toarray()
        null = scipy.linalg.null_space(dense, rcond=tol)
        free = np.abs(null).max(axis=1) > 1e-7 if null.size else np.zeros(len(cols), bool)
        out[idx[cols[~free]]] = True
    return out


@dataclass(frozen=True)
class AttackResult:
    """What the differencing attack recovered: counts only (the evaluation's figures)."""

    scheme: str
    hidden_cells: int
    hidden_pupils: int
    recovered_cells: int
    recovered_pupils: int
    unprotected_cells: int | None = None
    #: recovered cells of 1-4 pupils: the disclosures the rule exists to prevent (a recovered
    #: secondary cell of 5 or more is exposed too, but is no small group)
    recovered_small_cells: int = 0
    recovered_small_pupils: int = 0


def attack(table: LinearTable, hidden: np.ndarray, scheme: str, exact_lp: bool = True,
           primary: np.ndarray | None = None) -> AttackResult:
    """Run the attack: LP intervals (small tables) or linear algebra (national tables)."""
    hidden = np.asarray(hidden, bool)
    if exact_lp:
        lo, hi = feasible_intervals(table, hidden)
        recovered = hidden & (np.nan_to_num(hi - lo, nan=np.inf) < 0.5)
    else:
        recovered = recovered_by_algebra(table, hidden)
    weak = None
    if exact_lp and primary is not None:
        weak = int(unprotected(table, hidden, primary).sum())
    values = table.values
    small = recovered & primary_mask(values)
    return AttackResult(scheme, int(hidden.sum()), int(values[hidden].sum()),
                        int(recovered.sum()), int(values[recovered].sum()), weak,
                        int(small.sum()), int(values[small].sum()))


def two_release_table(first: np.ndarray, second: np.ndarray,
                      levels: Mapping[str, tuple[np.ndarray, Sequence[str]]]) -> tuple[LinearTable, int]:
    """Release 1: month-1 counts per school with area totals. Release 2: month-2 counts and
    the cumulative counts (month 1 + 2), each with area totals. Linked cell by cell
    (cumulative = month 1 + month 2). Returns the table and the size of one release table."""
    t1 = hierarchy_table(first, levels)
    t2 = hierarchy_table(second, levels)
    tc = hierarchy_table(np.asarray(first) + np.asarray(second), levels)
    n = t1.size
    links = [Relation(2 * n + i, (i, n + i)) for i in range(n)]
    table, _ = stacked(t1, t2, tc, links=links)
    return table, n


def _part(table: LinearTable, start: int, stop: int) -> LinearTable:
    """The sub-table of cells [start, stop) with the relations wholly inside it."""
    inside = [r for r in table.relations
              if start <= r.total < stop and all(start <= p < stop for p in r.parts)]
    return LinearTable(table.values[start:stop], table.labels[start:stop],
                       tuple(Relation(r.total - start, tuple(p - start for p in r.parts))
                             for r in inside))


def suppress_two_releases(table: LinearTable, n: int, scheme: str) -> np.ndarray:
    """Hidden mask of the two releases under ``scheme``:

    * ``primary``: cells of 1–4 hidden in each table, nothing else;
    * ``naive``: each of the three tables gets the naive secondary suppression on its own;
    * ``separate``: each table gets complementary suppression on its own, as if published alone;
    * ``joint``: release 1 as in ``separate``; release 2 is suppressed knowing what release 1
      published (those cells are frozen: they are public now), protecting the small cells of
      both releases against everything published.
    """
    parts = [_part(table, k * n, (k + 1) * n) for k in range(3)]
    if scheme == "primary":
        return primary_mask(table.values)
    if scheme == "naive":
        return np.concatenate([naive_secondary(t, primary_mask(t.values)) for t in parts])
    separate = np.concatenate([complementary_suppression(t).hidden for t in parts])
    if scheme == "separate":
        return separate
    if scheme != "joint":
        raise ValueError(f"unknown scheme {scheme!r}")
    first = np.zeros(table.size, bool)
    first[:n] = True
    # every small cell of both releases is protected again, now against the union: release
    # 1's published cells are public (frozen); its hidden cells may carry flows
    return complementary_suppression(table, primary_mask(table.values), frozen=first & ~separate,
                                     already_hidden=separate & first).hidden


def audited_suppression(table: LinearTable, protection: Protection = Protection(),
                        max_rounds: int = 50) -> SuppressionResult:
    """Complementary suppression, then the LP audit; while a primary cell is unprotected, hide
    the smallest published cell sharing a relation with it, and audit again. Castro's flows
    protect by construction, so the loop normally runs once; it is the guarantee."""
    result = complementary_suppression(table, protection=protection)
    hidden = result.hidden.copy()
    for _ in range(max_rounds):
        weak = np.flatnonzero(unprotected(table, hidden, result.primary, protection))
        if weak.size == 0:
            return SuppressionResult(hidden, result.primary, result.lp_solved)
        for p in weak:
            near = sorted({c for r in table.relations if p == r.total or p in r.parts
                           for c in (*r.parts, r.total) if not hidden[c]},
                          key=lambda c: (table.values[c], c))
            if near:
                hidden[near[0]] = True
    raise ValueError("complementary suppression did not converge")


TWO_RELEASE_SCHEMES = ("primary", "naive", "separate", "joint")


def two_release_attacks(first: np.ndarray, second: np.ndarray,
                        levels: Mapping[str, tuple[np.ndarray, Sequence[str]]],
                        exact_lp: bool = False) -> list[AttackResult]:
    """The differencing attack on two consecutive releases (month 1; then month 2 and the
    cumulative count), for every scheme of :func:`suppress_two_releases`. Counts only."""
    table, n = two_release_table(first, second, levels)
    primary = primary_mask(table.values)
    return [attack(table, suppress_two_releases(table, n, scheme), scheme, exact_lp=exact_lp,
                   primary=primary if exact_lp else None)
            for scheme in TWO_RELEASE_SCHEMES]
