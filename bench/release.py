"""Benchmark: the standard release against the bare DuckDB SQL that feeds it, and an ad-hoc
query, on a derived database (e.g. one built by `aanwezig demo --pupils 2500000`).

    python bench/release.py --db aanwezig.duckdb --repeat 3

Side by side in one process, alternating, medians of `repeat` runs:
- sql_leaf: the bare aggregation SQL the release needs — one GROUP BY over pupil_year per
  school with every total, the same query `service.aggregate.leaf_totals` runs;
- sql_derive: the SQL that bounds every pupil from the raw records (`derive.rebuild`), for
  reference (it runs once after ingest, not per release);
- noise + consistency: OpenDP noise for every table × level and the reconciliation;
- release: the whole `compute_standard_release` (SQL + noise + consistency + cells);
- ad-hoc query: `compute_query` for chronic share by municipality × sector.
Results go to bench/out/release.json. Budget is not spent (no ledger writes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from privacy.budget import Rho
from service.releases import aggregate
from service.releases.catalogue import validate_query
from service.db import connect
from service.releases.standard import compute_standard_release
from service.releases.queries import compute_query, plan_query


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--derive", action="store_true", help="also time derive.rebuild")
    args = parser.parse_args()
    con = connect(args.db)
    pupils = con.execute("SELECT count(*) FROM pupil_year WHERE school_year = ?", [args.year]).fetchone()[0]
    runs: dict[str, list[float]] = {"sql_leaf": [], "release": [], "query": []}
    if args.derive:
        from service.ingest.derive import rebuild
        runs["sql_derive"] = [timed(lambda: rebuild(con, args.year))]
    spec = validate_query("chronic_share", ["municipality", "sector"], {})
    plan = plan_query(spec, Rho.of("0.01"))
    compute_standard_release(con, args.year, Rho.of("0.6"))  # warm-up (imports, caches)
    for _ in range(args.repeat):
        runs["sql_leaf"].append(timed(lambda: aggregate.leaf_totals(con, args.year)))
        runs["release"].append(timed(lambda: compute_standard_release(con, args.year, Rho.of("0.6"))))
        runs["query"].append(timed(lambda: compute_query(con, args.year, plan)))
    med = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "pupils": pupils, "runs": runs, "median_seconds": med,
        "post_processing_seconds": med["release"] - med["sql_leaf"],
        "release_over_sql_leaf": med["release"] / med["sql_leaf"],
    }
    if "sql_derive" in med:
        sql_total = med["sql_derive"] + med["sql_leaf"]
        result["post_processing_share_of_all_sql"] = result["post_processing_seconds"] / sql_total
        result["release_incl_derive_over_all_sql"] = (med["sql_derive"] + med["release"]) / sql_total
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "release.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
