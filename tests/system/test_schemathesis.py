"""The whole API against its own OpenAPI document with schemathesis 4, as a careless or hostile
client would run it: `schemathesis run --checks all` (positive data acceptance, negative data
rejection, allowed methods, auth, schema conformance ...) through its examples, coverage,
fuzzing and stateful phases, on real uvicorn on a free loopback port, once with the admin key
and once with a school key. Bounded (a few examples per operation, fixed seed) so it stays
within about a minute per principal."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from service.api.app import uvicorn_config
from support.live_server import free_port

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


@pytest.mark.slow
@pytest.mark.parametrize("principal", ["admin", "school"])
def test_schemathesis_all_checks_and_stateful_phase_pass(settings, keys, principal, tmp_path):
    port = free_port()
    server = uvicorn.Server(uvicorn_config(settings, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run",
             f"http://127.0.0.1:{port}/v1/openapi.json", "--checks", "all",
             "--phases", "examples,coverage,fuzzing,stateful",
             "-H", f"X-API-Key: {getattr(keys, principal)}", "--max-examples", "5",
             "--seed", "14", "--generation-database", "none", "--no-color",
             "--request-timeout", "30", "--max-failures", "20"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    start = run.stdout.find("FAILURES")
    summary = run.stdout[start:start + 6000] if start >= 0 else run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert re.search(r"✅\s+Stateful", run.stdout), summary  # the stateful phase ran and passed
