"""Load benchmark: latency percentiles with 50 concurrent clients against uvicorn on loopback.

    python bench/api_load.py --db aanwezig.duckdb --clients 50 --seconds 10 --runs 3

Needs `wrk` (Debian package `wrk`: a C load generator; a Python client on the same two cores
would measure itself more than the server). Copies the database (so the benchmark never
touches yours), starts `aanwezig serve` (one uvicorn worker, as in production) on a free
127.0.0.1 port, creates a researcher key and pays for one query, warms each request once
("with the standard release published"), then runs every scenario `runs` times, alternating,
and reports the median of each percentile. Scenarios, each next to a baseline:

- ``municipality_download`` — a region's download of a municipality's part of the standard
  release (`GET /v1/releases/{id}/areas/municipality/{code}`), for Amsterdam (the largest)
  and for the municipality with the median number of schools;
- ``catalog`` — `GET /v1/catalog` (72 KB);
- ``cached_query`` — a researcher repeating a paid `POST /v1/queries` (the stored release,
  nothing spent);
- ``*_during_derive`` (with ``--during-derive``): the cached reads above (Amsterdam download,
  catalogue, repeated query) again while the service re-derives the WHOLE school year in the
  background. An upload is derived incrementally (its pupils only: seconds), so each run
  first restarts the service on the copy with the year marked as derived by older derive code
  (`derived_version.derive_code`, as after a deploy that changes a bound); then an admin
  re-uploads one school's batch (`POST /v1/uploads`), which queues a derive on the writer
  thread that must rebuild the year in full, and the three wrk runs follow while that job is
  `running` (`derives_during` records its seconds, whether wrk finished inside it, and
  `full`: the derive rebuilt every pupil);
- baselines run the same way: ``health`` (`GET /v1/health`, the cheapest route through the
  whole application and the database) and ``*_uncached`` (the same download / catalogue with
  an `X-API-Key` header, which the in-process cache never answers, so every request goes
  through routing, dependencies and the route).

Results go to bench/out/api_load.json; docs/benchmarks.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, clients: int, seconds: float, headers: dict, body: str | None) -> dict:
    """One wrk run; latencies in ms."""
    script = None
    args = ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if body is not None:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                     'wrk.headers["Content-Type"] = "application/json"\n')
        script.close()
        args += ["-s", script.name]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    if script is not None:
        os.unlink(script.name)
    result = {}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        result[f"p{pct}_ms"] = round(float(m.group(1)) * UNITS[m.group(2)], 2)
    result["requests_per_second"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = errors.group(1) if errors else ""
    return result


def median_of(runs: list[dict]) -> dict:
    keys = ("p50_ms", "p90_ms", "p99_ms", "requests_per_second")
    out = {k: round(statistics.median(r[k] for r in runs), 2) for k in keys}
    out["runs"] = runs
    return out


def median_municipality(db: Path) -> tuple[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT municipality_code, count(*) FROM school GROUP BY 1 "
                       "ORDER BY 2, 1").fetchall()
    con.close()
    return rows[len(rows) // 2]


def start_derive(base: str, admin: dict, db: Path, run: int) -> int:
    """Re-upload one school's batch as the admin (a different absence each time, so it is a
    new batch) and wait until the writer thread is deriving; the job id."""
    schools = httpx.get(base + "/v1/schools", params={"municipality": "GM0363", "sector": "PO",
                                                      "pageSize": 1}).json()
    school = schools["data"][0]["school_id"]
    enrol = ("pupil_number,birth_year,grade,residence_municipality,enrolled_from,enrolled_to\n"
             "100000009,2015,5,GM0363,2025-09-01,\n")
    absent = f"pupil_number,date,hours,reason\n100000009,2025-09-02,{1 + run * 0.25:.2f},sick\n"
    r = httpx.post(base + "/v1/uploads", headers=admin, timeout=120, data={"school": school},
                   files=[("files", ("enrolments.csv", enrol)), ("files", ("absences.csv", absent))])
    assert r.status_code == 201, r.text[:300]
    job = r.json()["job_id"]
    while httpx.get(f"{base}/v1/jobs/{job}", headers=admin).json()["state"] == "queued":
        time.sleep(0.05)
    return job


def mark_derived_by_older_code(db: Path) -> None:
    """The next derive of the copy must rebuild the year in full (service.ingest.derive falls
    back to a full rebuild for rows written by other derive code)."""
    from service.db import run_file

    con = duckdb.connect(str(db))
    run_file(con, "derived_tables_upgrade")     # a copy made before derive_code existed
    con.execute("UPDATE derived_version SET derive_code = 'bench: older derive code'")
    con.close()


def derived_by_older_code(db: Path) -> bool:
    con = duckdb.connect(str(db), read_only=True)
    code = con.execute("SELECT derive_code FROM derived_version").fetchone()[0]
    con.close()
    return code == "bench: older derive code"


def start_server(db: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "AANWEZIG_MODE": "demo", "AANWEZIG_DB": str(db)}
    server = subprocess.Popen([sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the service did not start")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=120)


def finish_derive(base: str, admin: dict, job: int) -> dict:
    """Wait for the derive to finish; whether wrk ran entirely inside it."""
    while (state := httpx.get(f"{base}/v1/jobs/{job}", headers=admin).json())["state"] in ("queued", "running"):
        time.sleep(0.2)
    return {"job_id": job, "state": state["state"], "seconds": state["seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True, help="a database after `aanwezig demo`")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--during-derive", action="store_true",
                        help="also measure the cached reads while a full re-derive runs")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="aanwezig-load-"))
    db = work / "load.duckdb"
    shutil.copy(args.db, db)
    median_code, median_schools = median_municipality(db)
    port = free_port()
    server = start_server(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        from service.settings import Settings
        release_id = httpx.get(base + "/v1/releases", params={"kind": "standard"}).json()["data"][0]["release_id"]
        admin = {"X-API-Key": Settings(mode="demo").admin_key}
        key = httpx.post(base + "/v1/keys", headers=admin,
                         json={"role": "researcher", "scope": "bench", "label": "load"}).json()
        researcher = {"X-API-Key": key["secret"]}
        query = {"measure": "chronic_share", "group_by": ["province"], "budget": {"rho": "0.001"}}
        assert httpx.post(base + "/v1/queries", headers=researcher, json=query,
                          timeout=120).status_code in (200, 201)
        bypass = {"X-API-Key": "bench-bypasses-the-cache"}  # public routes ignore it
        amsterdam = f"/v1/releases/{release_id}/areas/municipality/GM0363"
        median = f"/v1/releases/{release_id}/areas/municipality/{median_code}"
        plans = {
            "download_amsterdam": (amsterdam, {}, None),
            "download_amsterdam_uncached": (amsterdam, bypass, None),
            "download_median_municipality": (median, {}, None),
            "download_median_municipality_uncached": (median, bypass, None),
            "catalog": ("/v1/catalog", {}, None),
            "catalog_uncached": ("/v1/catalog", bypass, None),
            "cached_query": ("/v1/queries", researcher, json.dumps(query)),
            "health": ("/v1/health", {}, None),
        }
        sizes = {}
        for name, (path, headers, body) in plans.items():  # warm once, record the size
            extra = {"Content-Type": "application/json"} if body else {}
            r = httpx.request("POST" if body else "GET", base + path, headers={**headers, **extra},
                              content=body, timeout=120)
            assert r.status_code == 200, (name, r.status_code, r.text[:200])
            sizes[name] = len(r.content)
        results: dict[str, list[dict]] = {name: [] for name in plans}
        for _ in range(args.runs):
            for name, (path, headers, body) in plans.items():
                results[name].append(wrk(base + path, args.clients, args.seconds, headers, body))
        derives: list[dict] = []
        if args.during_derive:
            cached = ("download_amsterdam", "catalog", "cached_query")
            for name in cached:
                results[f"{name}_during_derive"] = []
            for run in range(args.runs):
                stop_server(server)
                mark_derived_by_older_code(db)
                server = start_server(db, port)
                for name in cached:                 # a fresh process: warm its caches again
                    path, headers, body = plans[name]
                    extra = {"Content-Type": "application/json"} if body else {}
                    httpx.request("POST" if body else "GET", base + path, timeout=120,
                                  headers={**headers, **extra}, content=body)
                job = start_derive(base, admin, db, run + 1)   # one derive per run, all three inside
                for name in cached:
                    path, headers, body = plans[name]
                    results[f"{name}_during_derive"].append(
                        wrk(base + path, args.clients, args.seconds, headers, body))
                inside = httpx.get(f"{base}/v1/jobs/{job}", headers=admin).json()["state"] == "running"
                derives.append({**finish_derive(base, admin, job), "wrk_inside_derive": inside})
                stop_server(server)                 # the derive wrote the current code: it was full
                derives[-1]["full"] = not derived_by_older_code(db)
                server = start_server(db, port)
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)
    out = {"tool": "wrk -t2 (C, HdrHistogram latencies), server: aanwezig serve, one uvicorn "
                   "worker with uvloop and httptools, on the same 2 cores",
           "clients": args.clients, "seconds_per_run": args.seconds, "runs": args.runs,
           "median_municipality": {"code": median_code, "schools": median_schools},
           "bytes": sizes, "derives_during": derives,
           "scenarios": {name: median_of(runs) for name, runs in results.items()}}
    Path("bench/out").mkdir(parents=True, exist_ok=True)
    Path("bench/out/api_load.json").write_text(json.dumps(out, indent=2))
    summary = {n: {k: v for k, v in s.items() if k != "runs"} for n, s in out["scenarios"].items()}
    print(json.dumps({**{k: v for k, v in out.items() if k != "scenarios"}, "medians": summary},
                     indent=2))


if __name__ == "__main__":
    main()
