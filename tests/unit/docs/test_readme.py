"""The README's two set-up commands, and CI runs the second exactly as written."""

from __future__ import annotations

import re

from support.paths import ROOT


def setup_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)\n```", section, re.S)


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert commands == ["pip install -e . && aanwezig demo", "pip install -e '.[test]' && pytest"]


def test_ci_runs_the_readme_test_command_exactly():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert setup_commands()[1] in [line.strip() for line in ci]
    assert ci[0].startswith("#!") and "set -euo pipefail" in ci


def test_the_demo_command_exists():
    from typer.testing import CliRunner

    from service.cli import app
    result = CliRunner().invoke(app, ["demo", "--help"], env={"COLUMNS": "200"})  # help wraps to it
    assert result.exit_code == 0 and "--no-serve" in result.output
