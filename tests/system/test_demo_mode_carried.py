"""A database made by `aanwezig demo` carries its mode: in a new shell without any
AANWEZIG_* setting, `aanwezig keys create` (the README's next step) works on it and says in
one line on stderr that it used demo mode; with AANWEZIG_MODE=production set explicitly it is
refused in one line that gives the exact command to use (AANWEZIG_MODE=demo, not dev)."""

from __future__ import annotations

import os
import subprocess
import sys

from support.paths import ROOT


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


def _cli(args, tmp_path, **extra):
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=_env(**extra),
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)


def test_keys_create_works_on_a_demo_database_in_a_new_shell(tmp_path):
    db = tmp_path / "demo.duckdb"
    made = _cli(["demo", "--pupils", "300", "--schools", "sample", "--weeks", "0",
                 "--no-serve", "--db", str(db)], tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr

    created = _cli(["keys", "create", "--role", "researcher", "--scope", "r-9", "--db", str(db)],
                   tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "aw_" in created.stdout
    assert created.stderr.strip().splitlines() == [
        f"note: {db} holds synthetic data from `aanwezig demo`: using AANWEZIG_MODE=demo"]

    refused = _cli(["keys", "create", "--role", "researcher", "--scope", "r-9", "--db", str(db)],
                   tmp_path, AANWEZIG_MODE="production")
    lines = (refused.stdout + refused.stderr).strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, lines
    assert (f"Fix: AANWEZIG_MODE=demo aanwezig keys create --role researcher --scope r-9 "
            f"--db {db}") in lines[0]
