"""Brute force for the attack tests: every non-negative integer table that agrees with what a
suppressed table publishes (depth-first over the hidden cells; a relation with one unknown
cell left fixes it; partial sums may not pass a known total)."""

from __future__ import annotations

import numpy as np

from service.evaluation.suppression import LinearTable


def consistent_tables(table: LinearTable, hidden: np.ndarray, limit: int = 200_000) -> np.ndarray:
    """All assignments of the hidden cells (rows: solutions, columns: hidden cells in order)."""
    hidden = np.asarray(hidden, bool)
    order = [int(c) for c in np.flatnonzero(hidden)]
    value: dict[int, int] = {int(c): int(table.values[c]) for c in np.flatnonzero(~hidden)}
    rels = [(r.total, tuple(r.parts)) for r in table.relations]
    cap = int(table.values.max()) * len(table.values)
    found: list[list[int]] = []

    def consistent() -> bool:
        for total, parts in rels:
            known = [value[p] for p in parts if p in value]
            if total in value:
                if sum(known) > value[total] or (len(known) == len(parts) and sum(known) != value[total]):
                    return False
        return True

    def propagate(fixed: list[int]) -> bool:
        changed = True
        while changed:
            changed = False
            for total, parts in rels:
                cells = (*parts, total)
                open_ = [c for c in cells if c not in value]
                if len(open_) != 1:
                    continue
                c = open_[0]
                rest = sum(value[p] for p in parts if p != c)
                v = rest if c == total else value[total] - rest
                if v < 0:
                    return False
                value[c] = v
                fixed.append(c)
                changed = True
        return consistent()

    def visit() -> None:
        if len(found) > limit:
            raise RuntimeError("too many consistent tables for a brute force")
        fixed: list[int] = []
        if propagate(fixed):
            free = [c for c in order if c not in value]
            if not free:
                found.append([value[c] for c in order])
            else:
                cell = free[0]
                for v in range(cap + 1):
                    value[cell] = v
                    if not consistent():
                        break          # partial sums only grow with v
                    visit()
                del value[cell]
        for c in fixed:
            del value[c]

    visit()
    return np.array(found, dtype=np.int64).reshape(len(found), len(order))
