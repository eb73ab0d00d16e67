"""Build the databases of bench/weekly_pipeline_evidence.py: a synthetic Netherlands through the
real ingest and derive, once without and once with a planted local rise (service.synth.uploads
`planted_rise`). Cached under bench/out/weekly_pipeline/ by their parameters.

Run on its own: python bench/weekly_pipeline_build.py --pupils 250000
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from service.db import connect
from service.ingest.derive import rebuild
from service.ingest.directory import ingest_directory
from service.register.source import load_register
from service.settings import Settings
from service.synth.uploads import PlantedRise, write_synthetic

YEAR = "2025-2026"
OUT = Path(__file__).resolve().parent / "out" / "weekly_pipeline"


def build(db: Path, pupils: int, seed: int, rise: PlantedRise | None) -> dict:
    """Synthesise, ingest and derive into `db` (skipped when `db` exists with these params)."""
    meta = db.with_suffix(".json")
    params = {"pupils": pupils, "seed": seed, "rise": None if rise is None else list(rise)}
    if db.exists() and meta.exists() and json.loads(meta.read_text()).get("params") == params:
        return json.loads(meta.read_text())
    db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (db, db.with_suffix(".duckdb.wal"), meta):
        stale.unlink(missing_ok=True)
    folder = db.parent / f"{db.stem}-uploads"
    shutil.rmtree(folder, ignore_errors=True)
    times = {}
    t0 = time.perf_counter()
    summary = write_synthetic(folder, pupils=pupils, seed=seed, school_year=YEAR, planted_rise=rise,
                              schools="sample")  # the shape the recorded evidence used
    times["synth_s"] = time.perf_counter() - t0
    con = connect(db)
    load_register(con)
    t0 = time.perf_counter()
    report = ingest_directory(con, Settings(mode="dev", db=db), folder)
    times["ingest_s"] = time.perf_counter() - t0
    if report.refused:
        raise RuntimeError(f"refused batches: {dict(list(report.refused.items())[:3])}")
    t0 = time.perf_counter()
    rebuild(con, YEAR)
    times["derive_s"] = time.perf_counter() - t0
    con.execute("CHECKPOINT")
    con.close()
    shutil.rmtree(folder)
    out = {"params": params, "pupils": summary.pupils, "schools": summary.schools,
           **{k: round(v, 1) for k, v in times.items()}}
    meta.write_text(json.dumps(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pupils", type=int, default=250_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--planted", default="PO2701,12,0.03,0.02",
                    help="swv,from_week,extra_absence_rate,extra_long_term")
    args = ap.parse_args()
    swv, week, rate, lt = args.planted.split(",")
    rise = PlantedRise(swv, int(week), float(rate), float(lt))
    print(build(OUT / f"null-{args.pupils}-{args.seed}.duckdb", args.pupils, args.seed, None))
    print(build(OUT / f"planted-{args.pupils}-{args.seed}.duckdb", args.pupils, args.seed, rise))


if __name__ == "__main__":
    main()
