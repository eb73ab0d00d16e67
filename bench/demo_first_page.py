"""Benchmark (issue 24): `aanwezig demo` from the command to the first 200 from `/`.

    python bench/demo_first_page.py --pupils 500000 --port 8765

Runs `aanwezig demo --pupils N --db bench/out/demo-N.duckdb --port P` under `nice -n 10` (a
fresh database: an existing one is removed first), polls `http://127.0.0.1:P/` every 2 s,
prints the seconds to the first 200, then stops the demo (SIGINT). The demo's own progress
lines go to bench/out/demo-N.log, each prefixed with the seconds since the command started,
so the log gives the time of each step (generate, ingest, derive, standard release, weekly
releases, serve).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=2_500_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"demo-{args.pupils}.duckdb"
    for old in out.glob(f"demo-{args.pupils}.duckdb*"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env["PYTHONPATH"] = str(ROOT)
    start = time.monotonic()
    with open(out / f"demo-{args.pupils}.log", "w") as log:
        proc = subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "service.cli", "demo",
                                 "--pupils", str(args.pupils), "--db", str(db),
                                 "--port", str(args.port)],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=out, text=True)
        copier = threading.Thread(target=_stamped, args=(proc.stdout, log, start), daemon=True)
        copier.start()
        try:
            while proc.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{args.port}/", timeout=5).status_code == 200:
                        print(f"first 200 from / after {time.monotonic() - start:.1f} s")
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(2)
            else:
                raise SystemExit(f"the demo ended with status {proc.returncode}; see the log")
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=60)
            copier.join(timeout=10)


def _stamped(lines, log, start: float) -> None:
    """Copy the demo's output to `log`, each line prefixed with the seconds since `start`."""
    for line in lines:
        log.write(f"{time.monotonic() - start:8.1f}  {line}")
        log.flush()


if __name__ == "__main__":
    main()
