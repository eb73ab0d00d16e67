"""The image's lock (`requirements.lock`): every runtime dependency of pyproject.toml and the
build backend pinned inside its range with sha256 hashes, the dependencies of every locked
package locked too, and the Dockerfile installing from it with --require-hashes. Adding a
dependency (or narrowing a range) without relocking fails here."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from support.dockerfile import instructions
from support.paths import ROOT

LOCK = ROOT / "requirements.lock"
#: The image: CPython 3.11 on Debian 12, linux x86_64 (Dockerfile's FROM).
IMAGE = {"python_version": "3.11", "python_full_version": "3.11.16", "sys_platform": "linux",
         "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
         "implementation_name": "cpython", "platform_python_implementation": "CPython",
         "extra": ""}
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def locked(text: str) -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, hashes) from a pip requirements file with hashes; raises
    AssertionError on any line that is not `name==version` followed by sha256 hashes."""
    found = {}
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split(" --")
        requirement = Requirement(spec.strip())
        pins = list(requirement.specifier)
        assert len(pins) == 1 and pins[0].operator == "==", f"not pinned exactly: {line}"
        hashes = ["--" + o.strip() for o in options]
        assert hashes and all(HASH.fullmatch(h) for h in hashes), f"no sha256 hash: {spec}"
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{name} is locked twice"
        found[name] = (Version(pins[0].version), hashes)
    return found


def needed(requirements: list[str]) -> list[Requirement]:
    """The requirements that apply in the image (markers evaluated for it, no extras)."""
    parsed = [Requirement(r) for r in requirements]
    return [r for r in parsed if r.marker is None or r.marker.evaluate(IMAGE)]


def unmet(requirements: list[Requirement], lock: dict) -> list[str]:
    """Requirements the lock does not satisfy: missing, or pinned outside the range."""
    problems = []
    for requirement in requirements:
        entry = lock.get(canonicalize_name(requirement.name))
        if entry is None:
            problems.append(f"{requirement} is not in requirements.lock")
        elif not requirement.specifier.contains(entry[0], prereleases=True):
            problems.append(f"{requirement}: requirements.lock pins {entry[0]}")
    return problems


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_line_of_the_lock_is_pinned_with_hashes():
    lock = locked(LOCK.read_text())
    assert len(lock) >= len(project()["project"]["dependencies"])
    assert all(len(hashes) >= 1 for _, hashes in lock.values())


def test_the_lock_covers_every_runtime_dependency_and_the_build_backend():
    lock = locked(LOCK.read_text())
    pyproject = project()
    runtime = needed(pyproject["project"]["dependencies"])
    build = needed(pyproject["build-system"]["requires"])
    assert unmet(runtime + build, lock) == []
    # the check itself: a dependency added without relocking, or a range that no longer
    # holds the locked version, is reported
    assert unmet(needed(["leftpad-nonexistent>=1"]), lock) == [
        "leftpad-nonexistent>=1 is not in requirements.lock"]
    duckdb = lock["duckdb"][0]
    assert unmet(needed([f"duckdb>{duckdb}"]), lock) == [
        f"duckdb>{duckdb}: requirements.lock pins {duckdb}"]
    assert unmet(needed(["pywin32>=300; sys_platform == 'win32'"]), lock) == []


def test_the_lock_holds_the_dependencies_of_what_it_locks():
    """The image installs with --no-deps, so the lock must be closed under dependencies.
    Checked from the metadata of every locked package installed here at the locked version
    (the lock is made from the environment the tests run in: README.md, "Container")."""
    lock = locked(LOCK.read_text())
    checked, problems = 0, []
    for name, (version, _) in lock.items():
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        if Version(dist.version) != version:
            continue
        checked += 1
        problems += [f"{name} {version} needs {p}" for p in unmet(needed(dist.requires or []), lock)]
    assert problems == []
    assert checked >= len(project()["project"]["dependencies"]), checked


def test_the_dockerfile_installs_only_from_the_lock_with_hashes():
    steps = instructions()
    runs = [args for word, args in steps if word == "RUN" and "pip install" in args]
    assert runs[0] == "pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock"
    assert runs[1].startswith("pip install --no-cache-dir --no-deps --no-build-isolation . ")
    assert "pip check" in runs[1]
    assert len(runs) == 2
    copies = [args for word, args in steps if word == "COPY"]
    assert copies.index("requirements.lock ./") < copies.index("pyproject.toml README.md ./")
