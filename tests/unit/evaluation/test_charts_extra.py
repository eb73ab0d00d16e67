"""Chart export (vl-convert-python, an 84 MB embedded JavaScript runtime) is the `charts`
extra: the server's dependencies leave it out and the server imports without it, `aanwezig
evaluate` without it refuses in one line naming the extra, and the test extras keep it."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from typer.testing import CliRunner

from service.cli import app
from service.evaluation.figures import ChartsNotInstalled, require_charts
from support.paths import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _names(requirements) -> set[str]:
    return {Requirement(r).name for r in requirements}


def test_the_server_does_not_depend_on_chart_export_and_the_tests_do():
    assert "vl-convert-python" not in _names(PROJECT["dependencies"])
    assert "vl-convert-python" in _names(PROJECT["optional-dependencies"]["charts"])
    assert any("charts" in Requirement(r).extras
               for r in PROJECT["optional-dependencies"]["test"])
    assert "vl-convert" not in (ROOT / "requirements.lock").read_text()


def test_the_server_imports_and_starts_without_vl_convert():
    code = ("import sys; sys.modules['vl_convert'] = None\n"
            "from service.api.app import create_app; import service.cli\n"
            "from service.settings import Settings\n"
            "create_app(Settings(mode='dev', db=sys.argv[1])); print('ok')")
    run = subprocess.run([sys.executable, "-c", code, ":memory:"], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_evaluate_without_the_extra_says_which_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "vl_convert", None)          # as if not installed
    with pytest.raises(ChartsNotInstalled, match=r"pip install 'aanwezig\[charts\]'"):
        require_charts()
    monkeypatch.setenv("AANWEZIG_MODE", "demo")
    result = CliRunner().invoke(app, ["evaluate", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "refused: the evaluation report draws its charts with vl-convert-python, which the "
        "server's install leaves out. Fix: pip install 'aanwezig[charts]'"]
