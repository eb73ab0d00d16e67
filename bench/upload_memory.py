"""Peak memory of a server receiving hostile or heavy uploads.

    nice -n 10 python bench/upload_memory.py                  # five million rows in 67 kB
    nice -n 10 python bench/upload_memory.py --footer-lies    # 1 GiB value, footer says 1 kB
    nice -n 10 python bench/upload_memory.py --concurrent 20  # 20 x 56 MB at once
    nice -n 10 python bench/upload_memory.py --concurrent 20 --budget 0   # no budget

Five million rows: a fresh process serving the real app through its HTTP interface
(TestClient) receives a 67 kB Parquet file of 5,000,000 identical absence rows, with the row
limit on (the default, 500,000: refused from the footer) and off (as before issue 14; needs
about 6 GB).

Footer lies and concurrency: a real server (`aanwezig serve`, uvicorn on a loopback port);
the figures are its VmRSS before, VmHWM (peak) and VmRSS after, from /proc. `--footer-lies`
sends one absence file holding a 1 GiB value whose footer claims 1,000 bytes, then three of
them at once, then a valid 13,266-row file whose footer says 100 rows. `--concurrent N`
sends N batches of 56 MB at once (500,000 pupils, CSV, parsed and validated in full, refused
by their last row so that nothing is stored) under AANWEZIG_UPLOAD_MEMORY = `--budget` MiB
(default: the setting's default, 1 GiB; 0 = no budget, as before issue 25).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "system")]

MB = 1024 * 1024


def five_million() -> None:
    from test_upload_limits import measure, write_five_million
    folder = write_five_million(Path(tempfile.mkdtemp()))
    size = (folder / "absences.parquet").stat().st_size
    for label, max_rows in (("limit on (500,000 rows)", 500_000), ("limit off", 10_000_000)):
        r = measure(folder, max_rows)
        print(f"{label}: {size} B file -> HTTP {r['status']}, stored {r['stored']}, "
              f"peak {r['peak'] / 2**20:.0f} MiB (after start-up {r['before'] / 2**20:.0f} MiB, "
              f"+{(r['peak'] - r['before']) / 2**20:.0f} MiB)")


def _server(db: Path, **env: str):
    from support.live_server import free_port, start_server
    port = free_port()
    return start_server(db, port, **env), f"http://127.0.0.1:{port}"


def footer_lies(value_mib: int) -> None:
    import httpx
    from test_parquet_footer_lies import many_rows, one_huge_value
    from support.parquet_lies import lie_about_rows, lie_about_sizes
    from support.upload_load import many_schools_db, status
    from support.tiny_register import SCHOOL_PO
    db = Path(tempfile.mkdtemp()) / "lies.duckdb"
    admin = many_schools_db(db, 0)
    lying = lie_about_sizes(one_huge_value(value_mib * MB), 1000)
    enrol_many, honest_many = many_rows()
    from test_parquet_footer_lies import ENROL_ONE
    proc, base = _server(db)

    def post(absences: bytes, enrol: bytes = ENROL_ONE) -> httpx.Response:
        return httpx.post(base + "/v1/uploads", headers={"X-API-Key": admin},
                          data={"school": SCHOOL_PO}, timeout=600,
                          files=[("files", ("enrolments.csv", enrol, "text/csv")),
                                 ("files", ("absences.parquet", absences, "application/octet-stream"))])
    try:
        post(lie_about_rows(honest_many, 100), enrol_many)      # warm the Parquet path
        before = status(proc.pid)
        t = time.monotonic()
        one = post(lying)
        seconds = time.monotonic() - t
        mid = status(proc.pid)
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            three = [r.status_code for r in pool.map(lambda _: post(lying), range(3))]
        after = status(proc.pid)
        rows = post(lie_about_rows(honest_many, 100), enrol_many)
        stored = httpx.get(base + "/v1/uploads/status", headers={"X-API-Key": admin},
                           timeout=30).json()["schools"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"{value_mib} MiB value in a {len(lying)} B file, footer claiming 1000 B: HTTP "
          f"{one.status_code} in {seconds:.2f} s ({one.json()['errors'][0]['message']}, field "
          f"{one.json()['errors'][0]['field']}); server RSS before {before['VmRSS'] / MB:.0f} MiB,"
          f" peak {mid['VmHWM'] / MB:.0f} MiB, after {mid['VmRSS'] / MB:.0f} MiB")
    print(f"three at once: HTTP {three}; peak {after['VmHWM'] / MB:.0f} MiB, after "
          f"{after['VmRSS'] / MB:.0f} MiB ({(after['VmRSS'] / before['VmRSS'] - 1) * 100:+.1f}% "
          "of before)")
    print(f"13,266 rows, footer says 100: HTTP {rows.status_code} "
          f"({rows.json()['errors'][0]['field']}: {rows.json()['errors'][0]['message']}); "
          f"schools with stored data: {len(stored)}")


def concurrent_uploads(n: int, budget_mib: int | None, pupils: int) -> None:
    from support.upload_load import big_batch, many_schools_db, school_ids, status, upload_all
    db = Path(tempfile.mkdtemp()) / "load.duckdb"
    admin = many_schools_db(db, n)
    enrol, absent = big_batch(pupils)
    env = {}                       # the defaults: 1 GiB, 300 s
    if budget_mib is not None:
        env = {"AANWEZIG_UPLOAD_MEMORY": str((budget_mib or 1 << 20) * MB),
               "AANWEZIG_UPLOAD_WAIT_SECONDS": "600"}
    proc, base = _server(db, **env)
    try:
        before = status(proc.pid)
        t = time.monotonic()
        answers = upload_all(base, admin, enrol, absent, school_ids(n))
        seconds = time.monotonic() - t
        after = status(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    codes = sorted(a[0] for a in answers)
    label = ("default budget (1024 MiB)" if budget_mib is None else
             "no budget" if budget_mib == 0 else f"budget {budget_mib} MiB")
    print(f"{n} x {(len(enrol) + len(absent)) / 1e6:.1f} MB at once, {label}: statuses "
          f"{ {c: codes.count(c) for c in set(codes)} }, 5xx {sum(c >= 500 for c in codes)}; "
          f"server RSS before {before['VmRSS'] / MB:.0f} MiB, peak {after['VmHWM'] / MB:.0f} MiB,"
          f" after {after['VmRSS'] / MB:.0f} MiB; {seconds:.0f} s for all, slowest answer "
          f"{max(a[2] for a in answers):.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--footer-lies", action="store_true")
    parser.add_argument("--value-mib", type=int, default=1024)
    parser.add_argument("--concurrent", type=int, default=0)
    parser.add_argument("--budget", type=int, default=None, help="MiB; 0 = none")
    parser.add_argument("--pupils", type=int, default=500_000)
    args = parser.parse_args()
    if args.footer_lies:
        footer_lies(args.value_mib)
    elif args.concurrent:
        concurrent_uploads(args.concurrent, args.budget, args.pupils)
    else:
        five_million()


if __name__ == "__main__":
    main()
