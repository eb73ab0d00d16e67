"""Benchmark (issue 24): ingest + full derive against its floor, one bulk `CREATE TABLE AS
read_csv(...)` of the same files, side by side in one run; and one school's re-upload derived.

    nice -n 10 python bench/bulk_ingest.py --pupils 100000 --repeat 3

Generates `--pupils` synthetic pupils in EVERY school of the register once (seed 3, as
issue 24 measured; `aanwezig synth` writes the same), then, alternating, each in a fresh
subprocess on a fresh database file:

(a) the floor: `CREATE TABLE … AS SELECT * FROM read_csv('<root>/*/enrolments.csv', all_varchar)`
    and the same for the absences (every file, text columns, no validation), then CHECKPOINT;
(b) this service: `ingest_directory` (bulk path: validate a chunk of batches in one pass,
    pseudonymise, one transaction per chunk) then `derive.rebuild` then CHECKPOINT; and, on
    that database, one school's re-upload (`ingest_files` of a changed batch + `rederive`)
    for 5 median-sized schools.

Prints wall and CPU seconds per step, medians and ratios to the floor; JSON to
bench/out/bulk_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

FLOOR = r"""
import sys, time, duckdb
root, db = sys.argv[1], sys.argv[2]
con = duckdb.connect(db)
con.execute("SET enable_progress_bar = false")
w, c = time.perf_counter(), time.process_time()
con.execute(f"CREATE TABLE enrolment_raw AS SELECT * FROM read_csv('{root}/*/enrolments.csv', all_varchar = true)")
con.execute(f"CREATE TABLE absence_raw AS SELECT * FROM read_csv('{root}/*/absences.csv', all_varchar = true)")
con.execute("CHECKPOINT")
print(time.perf_counter() - w, time.process_time() - c)
"""

SERVICE = r"""
import resource, statistics, sys, time
from pathlib import Path
from service.db import connect
from service.ingest.batches import UploadFile, ingest_files
from service.ingest.derive import rebuild, rederive
from service.ingest.directory import ingest_directory
from service.register.source import load_register
from service.settings import Settings
root, db = Path(sys.argv[1]), sys.argv[2]
settings = Settings(mode="dev", db=db)
con = connect(db)
load_register(con)
w, c = time.perf_counter(), time.process_time()
report = ingest_directory(con, settings, root)
w_ingest, c_ingest = time.perf_counter() - w, time.process_time() - c
assert not report.refused, list(report.refused.items())[:3]
rebuild(con, "2025-2026")
con.execute("CHECKPOINT")
w_total, c_total = time.perf_counter() - w, time.process_time() - c
# one school's re-upload: 5 median-sized schools, each with its last absence row dropped
folders = sorted((p for p in root.iterdir() if p.is_dir()),
                 key=lambda p: (p / "enrolments.csv").stat().st_size)
middle = len(folders) // 2
reupload = []
for folder in folders[middle - 2: middle + 3]:
    enrol = (folder / "enrolments.csv").read_bytes()
    lines = (folder / "absences.csv").read_bytes().splitlines(keepends=True)
    files = [UploadFile("enrolments.csv", enrol), UploadFile("absences.csv", b"".join(lines[:-1]))]
    t = time.perf_counter()
    ingest_files(con, settings, folder.name, files)
    summary = rederive(con, "2025-2026")
    reupload.append(time.perf_counter() - t)
    assert summary.scope == "pupils"
print(w_total, c_total, w_ingest, c_ingest, statistics.median(reupload),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(code: str, root: Path) -> list[float]:
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        proc = subprocess.run([sys.executable, "-c", code, str(root), str(Path(tmp) / "b.duckdb")],
                              capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    return [float(x) for x in proc.stdout.strip().splitlines()[-1].split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()
    data = args.data or Path(f"bench/out/uploads-every-{args.pupils}")
    if not (data / ".complete").exists():
        from service.synth.uploads import write_synthetic
        summary = write_synthetic(data, pupils=args.pupils, seed=3, schools="every")
        (data / ".complete").write_text(json.dumps(summary.__dict__, default=str))
    synth = json.loads((data / ".complete").read_text())
    floor, ours = [], []
    for i in range(args.repeat):
        floor.append(run(FLOOR, data.resolve()))
        ours.append(run(SERVICE, data.resolve()))
        print(f"run {i + 1}: floor {floor[-1][0]:.1f} s, ingest {ours[-1][2]:.1f} s, "
              f"ingest + derive {ours[-1][0]:.1f} s, re-upload {ours[-1][4]:.2f} s", flush=True)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    f_wall, f_cpu = med([f[0] for f in floor]), med([f[1] for f in floor])
    result = {
        "pupils": args.pupils, "schools": synth["schools"], "repeat": args.repeat,
        "floor_wall": [f[0] for f in floor], "floor_cpu": [f[1] for f in floor],
        "ingest_wall": [o[2] for o in ours], "ingest_cpu": [o[3] for o in ours],
        "ingest_derive_wall": [o[0] for o in ours], "ingest_derive_cpu": [o[1] for o in ours],
        "reupload_median_of_5": [o[4] for o in ours],
        "ratio_wall": med([o[0] for o in ours]) / f_wall,
        "ratio_cpu": med([o[1] for o in ours]) / f_cpu,
        "peak_rss_gib": max(o[5] for o in ours) / 1024 / 1024,
    }
    rows = [("floor: read_csv of every file", f_wall, f_cpu),
            ("ingest (bulk)", med(result["ingest_wall"]), med(result["ingest_cpu"])),
            ("derive (full)", med(result["ingest_derive_wall"]) - med(result["ingest_wall"]),
             med(result["ingest_derive_cpu"]) - med(result["ingest_cpu"])),
            ("ingest + derive", med(result["ingest_derive_wall"]), med(result["ingest_derive_cpu"]))]
    print(f"\n{args.pupils:,} pupils in {synth['schools']:,} schools, medians of {args.repeat}")
    print("| step | wall s | CPU s | ratio to the floor (wall) |\n| --- | ---: | ---: | ---: |")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {wall / f_wall:.2f}× |")
    print(f"| one school's re-upload + incremental derive (median of 5) | "
          f"{med(result['reupload_median_of_5']):.2f} | | |")
    print(f"peak RSS {result['peak_rss_gib']:.2f} GiB")
    out = Path("bench/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "bulk_ingest.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
