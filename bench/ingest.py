"""Benchmark: ingest + derive at national scale against a bare DuckDB COPY of the same files.

    python bench/ingest.py --pupils 2500000 --repeat 3

Generates the synthetic Netherlands once (timed), then runs, side by side and alternating,
(a) the baseline: a bare DuckDB `COPY` of every upload file into tables of the same columns,
    one COPY per file, no validation, no pseudonymisation, no derivation;
(b) this service: `ingest_directory` (validate, pseudonymise; one transaction per chunk of
    batches since issue 24, bench/bulk_ingest.py) and
    `derive.rebuild` (per-pupil tables),
each in a fresh subprocess on a fresh database file, and reports medians, the ratio, rows per
second and peak memory (max RSS of the subprocess). Results go to bench/out/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BASELINE = r"""
import sys, time, duckdb
from pathlib import Path
root, db = Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db)
con.execute("CREATE TABLE enrolment_raw (pupil_number VARCHAR, birth_year VARCHAR, grade VARCHAR, "
            "residence_municipality VARCHAR, enrolled_from VARCHAR, enrolled_to VARCHAR)")
con.execute("CREATE TABLE absence_raw (pupil_number VARCHAR, date VARCHAR, hours VARCHAR, reason VARCHAR)")
t = time.perf_counter()
for folder in sorted(p for p in root.iterdir() if p.is_dir()):
    con.execute(f"COPY enrolment_raw FROM '{folder / 'enrolments.csv'}' (HEADER)")
    con.execute(f"COPY absence_raw FROM '{folder / 'absences.csv'}' (HEADER)")
con.execute("CHECKPOINT")
print(time.perf_counter() - t)
"""

SERVICE = r"""
import sys, time
from pathlib import Path
from service.db import connect
from service.ingest.derive import rebuild
from service.ingest.directory import ingest_directory
from service.register.source import load_register
from service.settings import Settings
root, db = Path(sys.argv[1]), sys.argv[2]
con = connect(db)
load_register(con)
t = time.perf_counter()
report = ingest_directory(con, Settings(mode="dev", db=db), root)
t_ingest = time.perf_counter() - t
rebuild(con, "2025-2026")
con.execute("CHECKPOINT")
total = time.perf_counter() - t
assert not report.refused, list(report.refused.items())[:3]
import resource
print(total, t_ingest, report.enrolment_rows, report.absence_rows,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code: str, root: Path) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-c", code, str(root), str(Path(tmp) / "b.duckdb")],
                              capture_output=True, text=True, check=True)
    return [float(x) for x in proc.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path("bench/out/uploads"))
    args = parser.parse_args()
    if not (args.data / ".complete").exists():
        from service.synth.uploads import write_synthetic
        summary = write_synthetic(args.data, pupils=args.pupils, seed=1, schools="sample")  # as recorded
        (args.data / ".complete").write_text(json.dumps(summary.__dict__, default=str))
    synth = json.loads((args.data / ".complete").read_text())
    base, ours = [], []
    for _ in range(args.repeat):
        base.append(run(BASELINE, args.data)[0])
        ours.append(run(SERVICE, args.data))
    rows = ours[0][2] + ours[0][3]
    result = {
        "pupils": synth["pupils"], "schools": synth["schools"], "rows": rows,
        "generate_seconds": synth["seconds"],
        "baseline_copy_seconds": base, "service_seconds": [o[0] for o in ours],
        "service_ingest_seconds": [o[1] for o in ours],
        "median_ratio": statistics.median(o[0] for o in ours) / statistics.median(base),
        "rows_per_second": rows / statistics.median(o[0] for o in ours),
        "peak_rss_gib_max_over_runs": max(o[4] for o in ours) / 1024 / 1024,
    }
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
