"""The slim client installs and works on its own: built from clients/python into a fresh
venv (no system site-packages; pip fetches only its dependencies — httpx, pandas,
cryptography — from the package index), with none of the server's packages there, it asks a
query of a real `aanwezig serve` on a loopback port and verifies the release's download
offline (Ed25519 + sha256)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx

from service.api.auth import create_key
from service.db import connect
from service.settings import Settings
from support.api_client import upload_files
from support.live_server import Server, wait_job
from support.slim_client import CLIENT_ROOT
from support.tiny_register import SCHOOL_PO, load_tiny_register

SERVER_PACKAGES = ("opendp", "duckdb", "fastapi", "pyarrow", "scipy", "vl_convert", "uvicorn",
                   "service", "privacy")
SCRIPT = """
import json, sys
from aanwezig_client import Aanwezig
aw = Aanwezig(sys.argv[1], api_key=sys.argv[2], school_year="2025-2026")
plan = aw.dry_run("absence_rate", group_by=["sector"], rho="0.01")
frame = aw.query("absence_rate", group_by=["sector"], rho="0.01")
again = aw.query("absence_rate", group_by=["sector"], rho="0.01")
names = aw.verify(aw.download(frame.attrs["release_id"]))
print(json.dumps({"fits": plan.attrs["fits"], "rows": len(frame), "columns": list(frame.columns),
                  "charged": [frame.attrs["charged"], again.attrs["charged"]],
                  "verified": names, "type": type(frame).__name__}))
"""


def _alone() -> dict[str, str]:
    """This environment without PYTHONPATH (which would hand the venv this checkout)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def test_the_client_installs_alone_and_queries_a_live_server(tmp_path):
    db = tmp_path / "live.duckdb"
    settings = Settings(mode="dev", db=db)
    con = connect(db)
    load_tiny_register(con)
    school = create_key(con, settings, "school", SCHOOL_PO, "school")[1]
    researcher = create_key(con, settings, "researcher", "r-venv", "venv")[1]
    con.close()

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300,
                   env=_alone())
    python = str(venv / "bin" / "python")
    install = subprocess.run([python, "-m", "pip", "install", "--quiet", str(CLIENT_ROOT)],
                             capture_output=True, text=True, timeout=900, cwd=tmp_path,
                             env=_alone())
    assert install.returncode == 0, install.stdout + install.stderr
    present = subprocess.run(
        [python, "-c", "import importlib.util as u, sys; print([m for m in sys.argv[1:] "
                       "if u.find_spec(m)])", *SERVER_PACKAGES],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=_alone())
    assert present.stdout.strip() == "[]", present.stdout + present.stderr

    server = Server(db)
    try:
        r = httpx.post(server.base + "/v1/uploads", files=upload_files(),
                       headers={"X-API-Key": school}, timeout=60)
        assert r.status_code in (200, 201, 202), r.text
        link = r.json().get("links", {}).get("status")
        if link:
            assert wait_job(server.base, link, {"X-API-Key": school})["state"] == "derived"
        run = subprocess.run([python, "-c", SCRIPT, server.base, researcher],
                             capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env=_alone())
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        server.stop()
    answer = json.loads(run.stdout)
    assert answer["type"] == "DataFrame" and answer["fits"] is True
    assert answer["rows"] == 5 and {"estimate", "lower", "upper"} <= set(answer["columns"])
    assert answer["charged"] == [True, False]
    assert answer["verified"][0] == "datapackage.json"
