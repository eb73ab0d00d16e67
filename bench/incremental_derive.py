"""Benchmark: the incremental derive at national scale (issue 13 item 2), as ratios in one run.

    python bench/incremental_derive.py --pupils 2500000 --work /tmp/nl --schools 5

On the synthetic Netherlands (`aanwezig synth --seed 1`, written once into <work>/uploads and
reused), each step in a fresh subprocess (peak memory = its largest resident set):

1. baseline: ONE bulk DuckDB `read_csv` of every enrolments.csv and every absences.csv into
   two tables (no validation, no pseudonymisation, no derive);
2. the service: `ingest_directory` (validate, pseudonymise, one transaction per batch) and
   `derive.rebuild` (the full derive) into a fresh database, kept as <work>/service.duckdb
   (`--skip-ingest` reuses it and times only the full derive again);
3. on that database, for `--schools` schools of median size in turn: a re-upload of the
   school's own files with one pupil left out, one absence row dropped and one pupil of
   another school of its sector enrolled from mid-year (a mover), through `ingest_files`, then
   `derive.rederive` — what the service's writer thread does after an upload (`--check-full`:
   then a full derive of the same database, timed, and the check that its row counts agree).

Prints JSON and writes bench/out/incremental_derive.json: seconds, peak GiB, the ratios
(service ingest + derive / bulk read_csv; re-upload derive / full derive) and each
incremental derive's seconds per SQL file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

YEAR = "2025-2026"

BASELINE = r"""
import resource, sys, time, duckdb
root, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
t = time.perf_counter()
con.execute(f"CREATE TABLE enrolment_raw AS SELECT * FROM read_csv('{root}/*/enrolments.csv', all_varchar = true)")
con.execute(f"CREATE TABLE absence_raw AS SELECT * FROM read_csv('{root}/*/absences.csv', all_varchar = true)")
con.execute("CHECKPOINT")
rows = con.execute("SELECT (SELECT count(*) FROM enrolment_raw) + (SELECT count(*) FROM absence_raw)").fetchone()[0]
print(time.perf_counter() - t, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

SERVICE = r"""
import json, resource, sys, time
from pathlib import Path
from service.db import connect
from service.ingest import derive
from service.ingest.directory import ingest_directory
from service.register.source import load_register
from service.settings import Settings
root, db, skip_ingest = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
con = connect(db)
t = time.perf_counter()
if not skip_ingest:
    load_register(con)
    report = ingest_directory(con, Settings(mode="dev", db=db), root)
    assert not report.refused, list(report.refused.items())[:3]
t_ingest = time.perf_counter() - t
summary = derive.rebuild(con, "2025-2026")
con.execute("CHECKPOINT")
total = time.perf_counter() - t
print(json.dumps({"seconds": total, "ingest_seconds": t_ingest, "derive_seconds": total - t_ingest,
                  "pupils": summary.pupils, "pupil_weeks": summary.pupil_weeks,
                  "pupil_months": summary.pupil_months, "steps": summary.seconds,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

REUPLOAD = r"""
import csv, io, json, resource, sys, time
from pathlib import Path
from service.db import connect
from service.ingest import derive
from service.ingest.batches import UploadFile, ingest_files
from service.settings import Settings
root, db, schools = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
con = connect(db)
settings = Settings(mode="dev", db=db)

def rows(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))

def text(table):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table)
    return out.getvalue().encode()

results = []
for school, other in schools:
    enrol, absent = rows(root / school / "enrolments.csv"), rows(root / school / "absences.csv")
    header, body = enrol[0], enrol[1:]
    gone = body[-1][0]                                   # one pupil leaves the school
    body = [r for r in body if r[0] != gone]
    mover = rows(root / other / "enrolments.csv")[1]     # one pupil of another school moves in
    mover = list(mover)
    mover[header.index("enrolled_from")] = "2026-02-02"
    mover[header.index("enrolled_to")] = ""
    absences = [r for r in absent[1:] if r[0] != gone][:-1]   # one absence row corrected away
    files = [UploadFile("enrolments.csv", text([header, *body, mover])),
             UploadFile("absences.csv", text([absent[0], *absences]))]
    t = time.perf_counter()
    report = ingest_files(con, settings, school, files, "2025-2026")
    t_upload = time.perf_counter() - t
    t = time.perf_counter()
    summary = derive.rederive(con, "2025-2026")
    t_derive = time.perf_counter() - t
    results.append({"school": school, "status": report.status, "upload_seconds": t_upload,
                    "derive_seconds": t_derive, "scope": summary.scope,
                    "steps": summary.seconds})
out = {"reuploads": results}
if sys.argv[4] == "1":
    incremental = derive.rederive(con, "2025-2026")   # nothing pending: the counts as they are
    t = time.perf_counter()
    full = derive.rebuild(con, "2025-2026")
    out["full_rederive_seconds"] = time.perf_counter() - t
    out["counts_equal"] = (incremental.pupils, incremental.pupil_weeks, incremental.pupil_months) \
        == (full.pupils, full.pupil_weeks, full.pupil_months)
out["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def run(code: str, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return proc.stdout.strip().splitlines()[-1]


def median_schools(root: Path, n: int) -> list[tuple[str, str]]:
    """`n` schools of median size (by enrolment file), each with another school of the same
    sector whose first pupil moves in (the register's sector of each school)."""
    from service.db import connect
    from service.register.source import load_register

    reg = connect(":memory:")
    load_register(reg)
    sector = dict(reg.execute("SELECT school_id, sector FROM school").fetchall())
    sizes = sorted((p.stat().st_size, p.parent.name) for p in root.glob("*/enrolments.csv"))
    middle = len(sizes) // 2
    picked = [name for _, name in sizes[middle - n // 2: middle - n // 2 + n]]
    out = []
    for name in picked:
        other = next(s for _, s in sizes[middle + n:] if sector[s] == sector[name])
        out.append((name, other))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=2_500_000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--schools", type=int, default=5)
    parser.add_argument("--skip-ingest", action="store_true",
                        help="reuse <work>/service.duckdb: time the full derive only")
    parser.add_argument("--check-full", action="store_true",
                        help="after the re-uploads, derive the year in full again and compare "
                             "row counts")
    args = parser.parse_args()
    uploads = args.work / "uploads"
    if not (uploads / ".complete").exists():
        from service.synth.uploads import write_synthetic

        t = time.perf_counter()
        write_synthetic(uploads, pupils=args.pupils, seed=1)
        (uploads / ".complete").write_text(str(time.perf_counter() - t))
    db = args.work / "service.duckdb"
    result: dict = {"pupils": args.pupils}
    if not args.skip_ingest:
        base_db = args.work / "baseline.duckdb"
        base_db.unlink(missing_ok=True)
        seconds, rows, peak = run(BASELINE, str(uploads), str(base_db)).split()
        base_db.unlink()
        result["baseline_read_csv"] = {"seconds": float(seconds), "rows": int(rows),
                                       "peak_gib": int(peak) / 2**20}
        db.unlink(missing_ok=True)
        shutil.rmtree(db.with_suffix(".duckdb.wal"), ignore_errors=True)
    service = json.loads(run(SERVICE, str(uploads), str(db), "1" if args.skip_ingest else "0"))
    service["peak_gib"] = service.pop("peak_kib") / 2**20
    result["service_ingest_and_full_derive"] = service
    schools = median_schools(uploads, args.schools)
    reuploads = json.loads(run(REUPLOAD, str(uploads), str(db), json.dumps(schools),
                               "1" if args.check_full else "0"))
    reuploads["peak_gib"] = reuploads.pop("peak_kib") / 2**20
    result["reupload"] = reuploads
    derive_seconds = [r["derive_seconds"] for r in reuploads["reuploads"]]
    result["ratios"] = {
        "reupload_derive_median_seconds": statistics.median(derive_seconds),
        "reupload_derive_over_full_derive": statistics.median(derive_seconds) / service["derive_seconds"],
    }
    if "baseline_read_csv" in result:
        result["ratios"]["ingest_and_derive_over_read_csv"] = (
            service["seconds"] / result["baseline_read_csv"]["seconds"])
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "incremental_derive.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
