"""`aanwezig demo` checks its port and its database before any work (a real subprocess): a
taken port is one `refused:` line and exit 2 within seconds, nothing generated or stored."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from support.paths import ROOT


def test_a_taken_port_is_refused_before_any_work(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env["PYTHONPATH"] = str(ROOT)
    db = tmp_path / "demo.duckdb"
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "service.cli", "demo", "--db", str(db),
                               "--port", str(port), "--pupils", "3000", "--schools", "sample"],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        seconds = time.monotonic() - start
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("refused: cannot listen on 127.0.0.1:") and "--port" in lines[0]
    assert not (tmp_path / "demo-uploads").exists()
    assert seconds < 60, seconds                    # no generation, ingest or derive first
