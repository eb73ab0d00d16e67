"""Benchmark (issue 24, lean derive): one full derive and five schools' re-uploads derived
incrementally, on a copy of an ingested database, with the seconds of each SQL step
(`DeriveSummary.seconds`). Prints one JSON line: timings only (no pupil data, no totals).

To compare two versions of the code side by side, ingest once, then alternate fresh copies:

    python bench/derive_steps.py --ingest --db /tmp/d/base.duckdb --data <folder>
    for i in 1 2 3; do for v in before after; do
      cp /tmp/d/base.duckdb /tmp/d/$v.duckdb
      (cd /tmp/$v && PYTHONPATH=$PWD nice -n 10 python bench/derive_steps.py \\
           --db /tmp/d/$v.duckdb --data <folder>)
    done; done

<folder>: uploads written by `aanwezig synth` or bench/bulk_ingest.py (one folder a school).
The re-uploads are those of bench/bulk_ingest.py: 5 median-sized schools, each with its last
absence row dropped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from service.db import connect
from service.ingest.batches import UploadFile, ingest_files
from service.ingest.derive import rebuild, rederive
from service.ingest.directory import ingest_directory
from service.register.source import load_register
from service.settings import Settings

YEAR = "2025-2026"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--ingest", action="store_true", help="only ingest --data into --db")
    args = parser.parse_args()
    settings = Settings(mode="dev", db=args.db)
    con = connect(args.db)
    if args.ingest:
        load_register(con)
        report = ingest_directory(con, settings, args.data)
        assert not report.refused, "a batch was refused"
        con.execute("CHECKPOINT")
        return
    wall, cpu = time.perf_counter(), time.process_time()
    summary = rebuild(con, YEAR)
    con.execute("CHECKPOINT")
    out = {"derive_wall": time.perf_counter() - wall, "derive_cpu": time.process_time() - cpu,
           "derive_steps": summary.seconds}
    folders = sorted((p for p in args.data.iterdir() if p.is_dir()),
                     key=lambda p: (p / "enrolments.csv").stat().st_size)
    middle, runs = len(folders) // 2, []
    for folder in folders[middle - 2: middle + 3]:
        lines = (folder / "absences.csv").read_bytes().splitlines(keepends=True)
        files = [UploadFile("enrolments.csv", (folder / "enrolments.csv").read_bytes()),
                 UploadFile("absences.csv", b"".join(lines[:-1]))]
        t0 = time.perf_counter()
        ingest_files(con, settings, folder.name, files)
        t1 = time.perf_counter()
        again = rederive(con, YEAR)
        runs.append((t1 - t0, time.perf_counter() - t1, again.seconds))
        assert again.scope == "pupils"
    out["reupload_ingest_median"] = statistics.median(r[0] for r in runs)
    out["rederive_median"] = statistics.median(r[1] for r in runs)
    out["rederive_steps_of_the_median_school"] = runs[2][2]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
