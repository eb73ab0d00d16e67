"""The house's layers (pyproject.toml's import-linter contracts, docs/architecture.md) hold,
and the check is not empty: an upward import planted in a copy of the code breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def lint(where: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run([str(LINT), "--no-cache", "--config", str(where / "pyproject.toml")],
                          cwd=where, env=env, capture_output=True, text=True, timeout=120)


def test_every_contract_is_kept():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout and " kept" in done.stdout


def test_no_contract_is_ignored_or_excepted():
    text = (ROOT / "pyproject.toml").read_text()
    assert "ignore_imports" not in text and "allow_indirect_imports" not in text


@pytest.mark.parametrize(("module", "planted", "contract"), [
    # register sits below releases: area levels belong to it
    ("service/register/areas.py", "from service.releases import standard", "layered"),
    # storage announces a write by a counter; it never reaches into the HTTP caches
    ("service/releases/ledger_store.py", "from service.api import read_cache", "layered"),
    # middleware calls domain functions, never a route module
    ("service/api/middleware/query_shortcut.py", "from service.api.routes import queries",
     "never a route"),
    # route modules share through service.api, never through each other
    ("service/api/routes/jobs.py", "from service.api.routes import weekly", "independent"),
    # the privacy engine takes plain values
    ("privacy/budget.py", "import duckdb", "privacy engine"),
    # the release maths works on arrays
    ("privacy/release.py", "import pandas", "arrays in, arrays out"),
    ("sql/__init__.py", "import service.db", "sql/"),
    ("service/releases/publish.py", "from service.synth import uploads", "test data"),
])
def test_a_planted_import_breaks_its_contract(tmp_path, module, planted, contract):
    for part in ("service", "privacy", "sql"):
        shutil.copytree(ROOT / part, tmp_path / part,
                        ignore=shutil.ignore_patterns("__pycache__", "static", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{planted}  # planted\n")
    done = lint(tmp_path)
    assert done.returncode != 0
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, done.stdout
