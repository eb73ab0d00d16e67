"""Peak memory of refusing the worst small upload: a 67 kB Parquet file holding 5,000,000
identical absence rows (it once drove the server to 5.6 GB before a 400). Measured in a fresh
process that serves the real app and receives the file over HTTP; its peak resident size
(VmHWM of /proc/self/status) must stay below 512 MB. With the row limit raised above the file's rows
(the bug planted back) the same process peaks at about 5.5 GB: `bench/upload_memory.py`
measures both (too heavy for the suite on a shared machine; docs/benchmarks.md)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support.paths import TESTS
from support.tiny_register import ABSENCE_HEADER, ENROL_HEADER, csv, valid_bsn

LIMIT_BYTES = 512 * 1024 * 1024

SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
from fastapi.testclient import TestClient
sys.path.insert(0, sys.argv[3])
from support.tiny_register import load_tiny_register, SCHOOL_PO
from service.api.app import create_app
from service.api.auth import create_key
from service.db import connect
from service.settings import Settings

def peak():
    # VmHWM: this process image's own high-water mark (ru_maxrss would carry the forking
    # parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

folder = Path(sys.argv[1])
settings = Settings(mode="dev", db=Path(tempfile.mkdtemp(dir=folder)) / "m.duckdb", max_upload_rows=int(sys.argv[2]),
                    max_decoded_bytes=1 << 40)
con = connect(settings.db); load_tiny_register(con)
secret = create_key(con, settings, "school", SCHOOL_PO, "m")[1]; con.close()
files = [("files", ("enrolments.csv", (folder / "enrolments.csv").read_bytes(), "text/csv")),
         ("files", ("absences.parquet", (folder / "absences.parquet").read_bytes(), "application/octet-stream"))]
with TestClient(create_app(settings)) as client:
    before = peak()
    response = client.post("/v1/uploads", files=files, headers={"X-API-Key": secret})
    after = peak()
    stored = client.app.state.con.cursor().execute("SELECT count(*) FROM absence").fetchone()[0]
print(json.dumps({"status": response.status_code, "before": before, "peak": after,
                  "stored": stored, "body": response.text[:300]}))
"""


@pytest.fixture(scope="module")
def five_million(tmp_path_factory) -> Path:
    return write_five_million(tmp_path_factory.mktemp("five-million"))


def write_five_million(folder: Path) -> Path:
    """One enrolment (CSV) and a 67 kB Parquet file of 5,000,000 identical absence rows."""
    a = valid_bsn(1)
    (folder / "enrolments.csv").write_bytes(csv([[a, 2017, 3, "GM0363", "2025-09-01", None]], ENROL_HEADER))
    one = pa.table({c: pa.array([v], pa.string()) for c, v in
                    zip(ABSENCE_HEADER, [a, "2025-09-02", "1.5", "sick"])})
    buf = io.BytesIO()
    pq.write_table(one.take(pa.array([0] * 5_000_000, pa.int32())), buf, compression="zstd")
    (folder / "absences.parquet").write_bytes(buf.getvalue())
    return folder


def measure(folder: Path, max_rows: int) -> dict:
    """Status, stored rows and peak RSS of a fresh process that receives the files over HTTP."""
    tests = TESTS
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(folder), str(max_rows), str(tests)],
                         capture_output=True, text=True, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_five_million_row_parquet_is_refused_from_its_footer_below_512_mb(five_million):
    size = (five_million / "absences.parquet").stat().st_size
    assert size < 100_000
    result = measure(five_million, 500_000)
    assert result["status"] == 400, result
    assert "5000000 rows" in result["body"] and result["stored"] == 0
    assert result["peak"] < LIMIT_BYTES, result
    assert result["peak"] - result["before"] < 64 * 1024 * 1024, result
    print(f"\n{size} B Parquet, 5,000,000 rows: 400; peak RSS {result['peak'] / 2**20:.0f} MiB "
          f"(after start-up {result['before'] / 2**20:.0f} MiB)")
