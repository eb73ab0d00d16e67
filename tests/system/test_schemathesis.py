"""The whole API against its own OpenAPI document with schemathesis 4, as a careless or hostile
client would run it: `schemathesis run --checks all` (positive data acceptance, negative data
rejection, allowed methods, auth, schema conformance ...) through its examples, coverage,
fuzzing and stateful phases, on real uvicorn on a free loopback port, once with the admin key,
once with a school key and once with a researcher key. The database holds the real register
and a standard release, so that compare and the charts answer from real cells and a request
the document calls valid meets every rule the code has (issue 25: at 50 examples the document
did not state them all). 50 examples per operation, fixed seed: a few minutes per principal."""

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
from service.api.auth import create_key
from service.db import connect
from service.settings import Settings
from support.compare_data import make_database
from support.live_server import free_port

CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"
EXAMPLES = 50


@pytest.fixture
def served(tmp_path):
    """The real register and a standard release; one key per principal."""
    make_database(tmp_path / "api.duckdb")
    settings = Settings(mode="dev", db=tmp_path / "api.duckdb", max_upload_bytes=20_000)
    con = connect(settings.db)
    keys = {"admin": settings.admin_key,
            "school": create_key(con, settings, "school", "00AA00", "schemathesis")[1],
            "researcher": create_key(con, settings, "researcher", "r-1", "schemathesis")[1]}
    con.close()
    return settings, keys


@pytest.mark.system                 # the system tier, though slow (explicit: slow alone means statistical)
@pytest.mark.slow
@pytest.mark.parametrize("principal", ["admin", "school", "researcher"])
def test_schemathesis_all_checks_and_stateful_phase_pass(served, principal, tmp_path):
    settings, keys = served
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
             "-H", f"X-API-Key: {keys[principal]}", "--max-examples", str(EXAMPLES),
             "--seed", "14", "--generation-database", "none", "--no-color",
             "--request-timeout", "30", "--max-failures", "20"],
            capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    start = run.stdout.find("FAILURES")
    summary = run.stdout[start:start + 6000] if start >= 0 else run.stdout[-3000:]
    assert run.returncode == 0, summary
    assert re.search(r"✅\s+Stateful", run.stdout), summary  # the stateful phase ran and passed
