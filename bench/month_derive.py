"""Time each step of the derive (prepare, pupil_year, pupil_week, pupil_month) on a database,
the same statements as service.derive.rebuild, to show what the monthly table adds; and the
time of ad-hoc month aggregates. Prints timings only (no pupil data, no totals).

    python bench/month_derive.py --db /tmp/m/aanwezig.duckdb --runs 3
"""

from __future__ import annotations

import argparse
import time

import duckdb

from service.releases.aggregate import grouped_totals
from service.releases.catalogue import derive_parameters
from service.ingest.derive import _run, check_calendar, ensure_tables, statements

STEPS = ("derive_prepare", "derive_pupil_year", "derive_pupil_week", "derive_pupil_month")
TEMPS = ("d_month", "d_absday", "d_pupil", "d_enrol", "d_batch", "d_calendar", "d_region",
         "d_week", "d_day")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--year", default="2025-2026")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    con = duckdb.connect(args.db)
    params = {"school_year": args.year, **derive_parameters()}
    for run in range(args.runs):
        start = time.perf_counter()
        check_calendar(con, args.year)
        con.execute("BEGIN TRANSACTION")
        ensure_tables(con)
        steps = {}
        for name in STEPS:
            t = time.perf_counter()
            for statement in statements(name):
                _run(con, statement, params)
            steps[name] = time.perf_counter() - t
        for temp in TEMPS:
            con.execute(f"DROP TABLE IF EXISTS {temp}")
        con.execute("COMMIT")
        total = time.perf_counter() - start
        month = steps["derive_pupil_month"]
        print(f"run {run}: rebuild {total:.2f} s = " + ", ".join(
            f"{k.removeprefix('derive_')} {v:.2f}" for k, v in steps.items())
            + f"; pupil_month adds {month / (total - month):.0%} to the rest", flush=True)
    for group, filters in ((["month"], {}), (["municipality", "month"], {}),
                           (["school", "month"], {}), (["province"], {"month": "2025-10"})):
        grouped_totals(con, args.year, group, filters)            # warm
        t = time.perf_counter()
        g = grouped_totals(con, args.year, group, filters)
        print(f"query {'×'.join(group)} {filters or ''}: {len(g.keys)} cells, "
              f"{time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
