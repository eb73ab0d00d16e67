"""Benchmark: the standard release against the bare DuckDB SQL that feeds it, and an ad-hoc
query, on a derived database (e.g. one built by `aanwezig demo --pupils 2500000`).

    python bench/release.py --db aanwezig.duckdb --repeat 3

Side by side in one process, alternating, medians of `repeat` runs:
- sql_leaf: the bare aggregation SQL the release needs — one GROUP BY over pupil_year per
  school with every total, the same query `service.aggregate.leaf_totals` runs;
- floor: that GROUP BY plus OpenDP's sampling of every cell the release noises (every total
  of every table at the schools and every level, at the plan's scales: one call of the
  OpenDP measurement per vector, an int64 buffer in) and nothing else: no reconciliation,
  intervals, ranks or cells. A release cannot be cheaper than this;
- sql_derive: the SQL that bounds every pupil from the raw records (`derive.rebuild`), for
  reference (it runs once after ingest, not per release);
- release: the whole `compute_standard_release` (SQL + noise + consistency + cells);
- ad-hoc query: `compute_query` for chronic share by municipality × sector.
Results go to bench/out/release.json and a table is printed. Budget is not spent (no ledger
writes). Target (issue 24): the release ≤ 2× its floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from privacy import release as maths
from privacy.budget import Rho
from privacy.mechanisms import make_measurement, plan_gaussian
from service.releases import aggregate
from service.releases.catalogue import validate_query
from service.db import connect
from service.releases import standard
from service.releases.standard import compute_standard_release
from service.releases.queries import compute_query, plan_query


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sampling_floor(con, year: str, rho: Rho) -> int:
    """The GROUP BY and OpenDP's sampling of every cell of the standard release; the number
    of cells sampled. Noisy values are dropped."""
    leaf = aggregate.leaf_totals(con, year)
    areas = standard._areas(leaf.school_ids, leaf.school_names, leaf.levels)
    structure = standard._structure(areas)
    plan = maths.plan_tables(list(standard.TABLES), list(standard.LEVELS), rho)
    cells = 0
    for table in standard.TABLES:
        for total in table.totals:
            values = np.asarray(leaf.totals[total].values, dtype=np.int64)
            vectors = {"school": values}
            for name, level in structure.levels.items():
                vectors[name] = np.bincount(level.group_of_leaf, weights=values,
                                            minlength=level.n_groups).astype(np.int64)
            for name, vector in vectors.items():
                p = plan_gaussian(table.bound, plan[(table.name, name)])
                make_measurement(p.mechanism, p.scale)(vector)
                cells += vector.size
    return cells


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--derive", action="store_true", help="also time derive.rebuild")
    args = parser.parse_args()
    con = connect(args.db)
    pupils = con.execute("SELECT count(*) FROM pupil_year WHERE school_year = ?", [args.year]).fetchone()[0]
    runs: dict[str, list[float]] = {"sql_leaf": [], "floor": [], "release": [], "query": []}
    if args.derive:
        from service.ingest.derive import rebuild
        runs["sql_derive"] = [timed(lambda: rebuild(con, args.year))]
    spec = validate_query("chronic_share", ["municipality", "sector"], {})
    plan = plan_query(spec, Rho.of("0.01"))
    rho = Rho.of("0.6")
    compute_standard_release(con, args.year, rho)  # warm-up (imports, caches)
    cells = sampling_floor(con, args.year, rho)
    for _ in range(args.repeat):
        runs["sql_leaf"].append(timed(lambda: aggregate.leaf_totals(con, args.year)))
        runs["floor"].append(timed(lambda: sampling_floor(con, args.year, rho)))
        runs["release"].append(timed(lambda: compute_standard_release(con, args.year, rho)))
        runs["query"].append(timed(lambda: compute_query(con, args.year, plan)))
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "pupils": pupils, "cells_sampled": cells, "runs": runs, "median_seconds": med,
        "post_processing_seconds": med["release"] - med["sql_leaf"],
        "release_over_sql_leaf": med["release"] / med["sql_leaf"],
        "release_over_floor": med["release"] / med["floor"],
    }
    if "sql_derive" in med:
        sql_total = med["sql_derive"] + med["sql_leaf"]
        result["post_processing_share_of_all_sql"] = result["post_processing_seconds"] / sql_total
        result["release_incl_derive_over_all_sql"] = (med["sql_derive"] + med["release"]) / sql_total
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "release.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"\n| step ({pupils:,} pupils, {cells:,} cells; median of {args.repeat}) | seconds |")
    print("| --- | ---: |")
    for key, label in (("sql_leaf", "GROUP BY alone (`leaf_totals`)"),
                       ("floor", "floor: GROUP BY + OpenDP sampling of every cell"),
                       ("release", "standard release (`compute_standard_release`)"),
                       ("query", "ad-hoc query (chronic share, municipality × sector)")):
        print(f"| {label} | {med[key]:.2f} |")
    print(f"\nrelease / floor = {result['release_over_floor']:.2f}×; "
          f"release / GROUP BY = {result['release_over_sql_leaf']:.1f}×")


if __name__ == "__main__":
    main()
