"""Peak memory of receiving a 67 kB Parquet file that holds 5,000,000 identical absence rows,
with the row limit on (the default, 500,000: refused from the footer) and off (the limit
raised above the file's rows, as before issue 14).

    nice -n 10 python bench/upload_memory.py

Each run is a fresh process serving the real app through its HTTP interface (TestClient);
the figure is its peak resident size (VmHWM), before and after the request.
The "off" run needs about 6 GB of memory.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_upload_limits import measure, write_five_million  # noqa: E402


def main() -> None:
    folder = write_five_million(Path(tempfile.mkdtemp()))
    size = (folder / "absences.parquet").stat().st_size
    for label, max_rows in (("limit on (500,000 rows)", 500_000), ("limit off", 10_000_000)):
        r = measure(folder, max_rows)
        print(f"{label}: {size} B file -> HTTP {r['status']}, stored {r['stored']}, "
              f"peak {r['peak'] / 2**20:.0f} MiB (after start-up {r['before'] / 2**20:.0f} MiB, "
              f"+{(r['peak'] - r['before']) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
