"""Start-up errors of the command line, run as a real subprocess: each is one line that says
what is wrong and how to fix it, exit code 2, and no traceback (service/cli_startup.py). The
demo database served outside demo mode is in tests/system/test_cli.py (it needs `aanwezig demo`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from support.paths import ROOT


def run(*args: str, cwd: Path, **settings: str) -> tuple[int, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env.update(PYTHONPATH=str(ROOT), **{"COLUMNS": "100", **settings})
    done = subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    return done.returncode, (done.stdout + done.stderr).strip().splitlines()


def assert_one_line(code: int, lines: list[str], *fragments: str) -> None:
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("refused: ") and "Traceback" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["keys", "list"],
                                     ["derive"]])
def test_missing_secrets_in_production_are_one_line_with_the_fix(tmp_path, command):
    code, lines = run(*command, "--db", str(tmp_path / "a.duckdb"), cwd=tmp_path)
    assert_one_line(code, lines, "AANWEZIG_HMAC_KEY", "AANWEZIG_ADMIN_KEY", "AANWEZIG_SIGNING_KEY",
                    "Fix: ", "AANWEZIG_MODE=dev")
    assert "pydantic" not in lines[0] and "validation error" not in lines[0]
    assert not (tmp_path / "a.duckdb.service.json").exists()


def test_a_short_secret_is_named_without_echoing_it(tmp_path):
    code, lines = run("serve", "--port", "0", "--db", str(tmp_path / "a.duckdb"), cwd=tmp_path,
                      AANWEZIG_HMAC_KEY="short-secret-value", AANWEZIG_ADMIN_KEY="x" * 30)
    assert_one_line(code, lines, "AANWEZIG_HMAC_KEY must be set to a secret of at least 32")
    assert "short-secret-value" not in lines[0] and "x" * 30 not in lines[0]


def test_a_malformed_setting_is_named_with_what_it_takes(tmp_path):
    code, lines = run("serve", "--port", "0", "--db", str(tmp_path / "a.duckdb"), cwd=tmp_path,
                      AANWEZIG_MODE="dev", AANWEZIG_CORS_ORIGINS="example.nl")
    assert_one_line(code, lines, "AANWEZIG_CORS_ORIGINS: must be *, empty, or origins")
    code, lines = run("serve", "--port", "0", "--db", str(tmp_path / "a.duckdb"), cwd=tmp_path,
                      AANWEZIG_MODE="dev", AANWEZIG_MAX_UPLOAD_ROWS="0")
    assert_one_line(code, lines, "AANWEZIG_MAX_UPLOAD_ROWS")


def test_serve_refuses_a_busy_database_a_taken_port_and_a_missing_folder(tmp_path):
    db = tmp_path / "busy.duckdb"
    holder = duckdb.connect(str(db))  # this process holds the file, as another service would
    try:
        code, lines = run("serve", "--port", "0", "--db", str(db), cwd=tmp_path, AANWEZIG_MODE="dev")
        assert_one_line(code, lines, f"in use by process {os.getpid()}", "Fix: stop that process")
    finally:
        holder.close()
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        code, lines = run("serve", "--port", str(port), "--db", str(tmp_path / "free.duckdb"),
                          cwd=tmp_path, AANWEZIG_MODE="dev")
    assert_one_line(code, lines, f"cannot listen on 127.0.0.1:{port}", "--port")
    assert not (tmp_path / "free.duckdb").exists()  # nothing created before refusing
    code, lines = run("serve", "--port", "0", "--db", str(tmp_path / "none" / "x.duckdb"),
                      cwd=tmp_path, AANWEZIG_MODE="dev")
    assert_one_line(code, lines, f"no folder {tmp_path / 'none'}", "Fix: create the folder")
    assert not list(tmp_path.glob("*.service.json"))


@pytest.mark.parametrize("columns", ["40", "200"])
def test_a_refusal_is_one_line_whatever_the_width_and_the_path(tmp_path, columns):
    """Output to a pipe or a log is never hard-wrapped: a 150-character path in a 40-column
    terminal still gives one `refused:` line that holds the whole path (Rich once wrapped it)."""
    deep = tmp_path / ("d" * 70) / ("e" * 70)
    deep.mkdir(parents=True)
    db = deep / "missing.duckdb"
    assert len(str(db)) >= 150
    code, lines = run("evaluate", "--db", str(db), cwd=tmp_path, AANWEZIG_MODE="dev",
                      COLUMNS=columns)
    assert code == 1 and len(lines) == 1, lines
    assert lines[0] == f"refused: no database at {db}"
