"""Large upload batches and a register of many schools, for measuring the memory of
concurrent uploads against a real server (tests/system/test_upload_memory_budget.py,
bench/upload_memory.py --concurrent).

The batch is read, parsed and validated in full and then refused by its very last absence
row (a reason that is no reason), so every upload costs the whole of parsing and validation
and nothing is stored (no derive runs behind the measurement).
"""

from __future__ import annotations

import concurrent.futures
import time
from pathlib import Path

import httpx

from support.tiny_register import load_tiny_register, school_days, valid_bsn
from service.db import connect
from service.settings import Settings

PAD = " " * 24


def big_batch(pupils: int) -> tuple[bytes, bytes]:
    """Enrolments (CSV) of `pupils` pupils and one absence each, values padded with spaces
    (spaces around a value are allowed): about 110 bytes per pupil, the last row invalid."""
    days = [d.isoformat() for d in school_days()]
    number = valid_bsn(1)
    numbers = []
    n = int(number)
    while len(numbers) < pupils:          # 9-digit numbers passing the 11-test, in order
        digits = [int(c) for c in f"{n:09d}"]
        if (sum(w * d for w, d in zip(range(9, 1, -1), digits[:8])) - digits[8]) % 11 == 0:
            numbers.append(f"{n:09d}")
        n += 1
    enrol = ["pupil_number,birth_year,grade,residence_municipality,enrolled_from,enrolled_to"]
    enrol += [f"{p},{PAD}2017,3,GM0363,2025-09-01," for p in numbers]
    absent = ["pupil_number,date,hours,reason"]
    absent += [f"{p},{days[i % len(days)]},1,{PAD}sick" for i, p in enumerate(numbers)]
    absent[-1] = absent[-1].replace("sick", "gone")
    return ("\n".join(enrol) + "\n").encode(), ("\n".join(absent) + "\n").encode()


def school_ids(n: int) -> list[str]:
    return [f"{i:02d}ZZ00" for i in range(n)]


def many_schools_db(db: Path, n: int) -> str:
    """The tiny register with `n` more PO schools; returns the admin key (dev mode)."""
    con = connect(db)
    load_tiny_register(con)
    for school in school_ids(n):
        con.execute("INSERT INTO school VALUES (?, 'Load test school', 'PO', 'GM0363', 'PV27', "
                    "'MC21', 'PO2701', 'noord')", [school])
    con.close()
    return Settings(mode="dev", db=db).admin_key


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def upload_all(base: str, admin: str, enrol: bytes, absent: bytes, schools: list[str],
               timeout: float = 900) -> list[tuple[int, dict[str, str], float]]:
    """The batch uploaded for every school at once; (status, headers, seconds) of each."""
    def one(school: str) -> tuple[int, dict[str, str], float]:
        started = time.monotonic()
        r = httpx.post(base + "/v1/uploads", headers={"X-API-Key": admin},
                       data={"school": school},
                       files=[("files", ("enrolments.csv", enrol, "text/csv")),
                              ("files", ("absences.csv", absent, "text/csv"))],
                       timeout=timeout)
        return r.status_code, dict(r.headers), time.monotonic() - started
    with concurrent.futures.ThreadPoolExecutor(len(schools)) as pool:
        return list(pool.map(one, schools))
