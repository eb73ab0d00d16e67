"""What "fewer than five" hides of the small complex groups the release now shows (issue 26):
special education per samenwerkingsverband and municipality, and pupils by municipality of
residence.

    nice -n 10 python bench/suppression_groups.py --db evidence1m.duckdb

Suppression as practised (`service.evaluation.suppression`): primary suppression of every count
below 5 (0 excepted) and complementary suppression over the table's own hierarchy, so that no
hidden cell can be recovered from its margins — schools → municipality × sector → municipality
→ country, schools → samenwerkingsverband × sector → samenwerkingsverband, and municipalities
of residence → country. Per group: the cells, the share of cells hidden and the share of the
group's pupils (of that count) in hidden cells. The release (DP) hides none of them; its
accuracy for the same cells is in docs/benchmarks.md ("Small complex groups"). Reads the true
totals: for synthetic databases only; only shares leave.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import markdown  # noqa: E402

from service.db import connect  # noqa: E402
from service.evaluation.report import _levels  # noqa: E402
from service.evaluation.suppression import complementary_suppression, hierarchy_table  # noqa: E402
from service.releases.aggregate import leaf_totals  # noqa: E402

COUNTS = ("chronic", "severe", "long_term")
SMALL = ("SBO", "SO", "VSO")


def crossed(region: np.ndarray, sector: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Group of each school in region × sector (-1 outside any region), and the groups."""
    keys = sorted({(int(r), s) for r, s in zip(region, sector) if r >= 0})
    index = {k: i for i, k in enumerate(keys)}
    return np.array([index.get((int(r), s), -1) for r, s in zip(region, sector)]), keys


def hidden_shares(values: np.ndarray, levels: dict, level: str, group_sector: list[str]) -> list[dict]:
    table = hierarchy_table(values, levels)
    hidden = complementary_suppression(table).hidden
    labels = [lab.split("|", 1)[0] for lab in table.labels]
    cells = np.array([lab == level for lab in labels])
    sector = np.array(group_sector)
    rows = []
    for name in (*SMALL, "all sectors"):
        keep = np.ones(cells.sum(), bool) if name == "all sectors" else sector == name
        v, h = table.values[cells][keep], hidden[cells][keep]
        rows.append({"sector": name, "cells": int(keep.sum()), "cells hidden": float(h.mean()),
                     "pupils in hidden cells": float(v[h].sum() / v.sum()) if v.sum() else 0.0})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    args = parser.parse_args()
    con = connect(args.db)
    leaf = leaf_totals(con, args.year)
    con.close()
    levels = _levels(leaf)
    sector = np.asarray(leaf.levels["sector"].codes, dtype=object)[leaf.levels["sector"].group_of_school]
    rows = []
    for region in ("municipality", "swv"):
        group, codes = levels[region]
        cross, keys = crossed(group, sector)
        hierarchy = {f"{region} × sector": (cross, [f"{codes[r]}:{s}" for r, s in keys]),
                     region: levels[region]}
        if region == "municipality":
            hierarchy["country"] = levels["country"]
        for total in COUNTS:
            for row in hidden_shares(leaf.totals[total].values, hierarchy, f"{region} × sector",
                                     [s for _, s in keys]):
                rows.append({"level": f"{region} × sector", "count": total, **row})
            print(f"{region} × sector, {total}: done", flush=True)
    if leaf.residence is not None:
        n = len(leaf.residence.keys)
        for total in (t for t in COUNTS if t in leaf.residence.totals):
            values = leaf.residence.totals[total].values
            table_levels = {"country": (np.zeros(n, dtype=np.int64), ["NL"])}
            table = hierarchy_table(values, table_levels)
            hidden = complementary_suppression(table).hidden[:n]
            v = np.asarray(values)
            rows.append({"level": "municipality of residence", "count": total, "sector": "all sectors",
                         "cells": n, "cells hidden": float(hidden.mean()),
                         "pupils in hidden cells": float(v[hidden].sum() / v.sum()) if v.sum() else 0.0})
    pupils = int(leaf.totals["enrolled"].values.sum())
    print(f"\n{pupils:,} pupils, {len(leaf.school_ids):,} schools, {args.year}\n")
    print(markdown(pd.DataFrame(rows), 3))


if __name__ == "__main__":
    main()
