"""Benchmark: the Spark engine (local mode) against DuckDB for derive and for the aggregation
that feeds a standard release, at several sizes of the synthetic Netherlands.

    flock /tmp/aanwezig-bench.lock python bench/spark.py --root /tmp/spark-bench \
        --pupils 250000 500000 1000000 2500000 [--repeat 3] [--engines duckdb spark]

For each size, `<root>/<pupils>/db.duckdb` must hold the ingested uploads (e.g. `aanwezig
synth` + `aanwezig ingest --dir`); the lake is written from it once (`lake.write_all`, not
timed). Then, alternating engines, each run in a fresh subprocess:
- derive: `derive.rebuild` of the school year (DuckDB: into the database; Spark: from the
  lake into `<lake>/derived/`), wall time and CPU time;
- aggregate: `aggregate.leaf_totals` (the one scan of `pupil_year` a standard release
  needs), the median of 3 in the same process after derive, wall and CPU time;
- CPU time: user + system seconds of the subprocess and every descendant (the Spark JVM),
  from /proc: what the work costs whatever else runs on the machine (per-core throughput);
- peak memory: the largest resident set of the subprocess and all its children (the Spark
  JVM included), sampled every 0.2 s from /proc; the load average before and after.
Results (each run, and medians over `--repeat` runs) go to `--out` (default
`<root>/spark.json`), merged with what the file already holds for other sizes or engines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

RUN = r"""
import os, sys, time, statistics
from pathlib import Path
from service.db import connect
from service import engines
from service.ingest.derive import rebuild
from service.releases import aggregate
engine_name, db, lake, memory = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
TICK = os.sysconf("SC_CLK_TCK")

def cpu():
    # CPU seconds (user + system) of this process and every descendant alive (the JVM)
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        except (OSError, IndexError, ValueError):
            continue
    family, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in family:
                family.add(pid)
                frontier.append(pid)
    return sum(stats[p][1] for p in family if p in stats) / TICK

con = connect(db)
engine = engines.open_engine(engine_name, con, lake=lake, master="local[2]", driver_memory=memory)
t, c = time.perf_counter(), cpu()
summary = rebuild(con, "2025-2026", engine=engine)
t_derive, c_derive = time.perf_counter() - t, cpu() - c
runs = []
for _ in range(3):
    t, c = time.perf_counter(), cpu()
    aggregate.leaf_totals(con, "2025-2026", engine=engine)
    runs.append((time.perf_counter() - t, cpu() - c))
runs.sort()
print(t_derive, c_derive, runs[1][0], runs[1][1], summary.pupils, summary.pupil_weeks,
      summary.pupil_months)
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and its descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in family:
                family.add(child)
                frontier.append(child)
    total = 0
    for p in family:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run(engine: str, db: Path, lake: Path, memory: str) -> dict:
    load = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, "-c", RUN, engine, str(db), str(lake), memory],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise RuntimeError(f"{engine} failed: {err[-2000:]}")
    values = out.split()[-7:]
    derive, derive_cpu, aggregate, aggregate_cpu = (float(x) for x in values[:4])
    pupils, weeks, months = (int(x) for x in values[4:])
    return {"derive_s": derive, "derive_cpu_s": derive_cpu, "aggregate_s": aggregate,
            "aggregate_cpu_s": aggregate_cpu, "peak_gib": peak[0] / 2**30,
            "pupil_years": pupils, "pupil_weeks": weeks, "pupil_months": months,
            "load_before": load, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--pupils", type=int, nargs="+", default=[250_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"],
                        choices=["duckdb", "spark"])
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--out", type=Path, help="results file (default: <root>/spark.json)")
    args = parser.parse_args()
    out = args.out or args.root / "spark.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    for pupils in args.pupils:
        folder = args.root / str(pupils)
        db, lake = folder / "db.duckdb", folder / "lake"
        if not (lake / "enrolment").exists():
            from service.db import connect
            from service.ingest.lake import write_all

            con = connect(db)
            write_all(con, lake)
            con.close()
        runs: dict[str, list[dict]] = {engine: [] for engine in args.engines}
        for _ in range(args.repeat):
            for engine in args.engines:
                runs[engine].append(run(engine, db, lake, args.driver_memory))
                print(pupils, engine, runs[engine][-1], flush=True)
        results.setdefault(str(pupils), {}).update({
            engine: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            | {"runs": len(rs), "each": rs} for engine, rs in runs.items()})
        out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
