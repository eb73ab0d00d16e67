"""Shared fixtures and the test tiers.

Every test carries exactly one tier marker (declared in pyproject.toml), given by the folder it
lives in: tests/unit/ -> unit, tests/integration/ -> integration, tests/api/ -> api,
tests/system/ -> system, tests/browser/ -> browser, tests/spark/ -> spark,
tests/statistical/ -> statistical. A test marked with another tier by hand (a statistical
check beside the unit tests of its module) keeps that tier instead. The fast loop for
development is `pytest -m "unit or integration or api"`; plain `pytest` runs every tier.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))                 # `support` is importable from every test module
sys.path.insert(0, str(TESTS.parent))          # the checkout's own code first, in any worktree


# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "ci" (what .ci/run sets) runs each
# property with Hypothesis' default 100 examples, as the suite always did; "dev" (the default for
# a developer's loop) with 20. A test that fixes its own max_examples keeps it in both.
hypothesis_settings.register_profile("ci", max_examples=100)
hypothesis_settings.register_profile("dev", max_examples=20)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

TIERS = ("unit", "integration", "api", "system", "browser", "spark", "statistical")


def tier_of(item: pytest.Item) -> str:
    """The tier a test belongs to: an explicit tier marker, else its folder under tests/."""
    explicit = [m.name for m in item.iter_markers() if m.name in TIERS]
    if explicit:
        return explicit[0]
    if item.get_closest_marker("slow"):
        return "statistical"
    folder = Path(str(item.path)).resolve().relative_to(TESTS).parts[0]
    if folder not in TIERS:
        raise pytest.UsageError(f"{item.nodeid}: a test module lives in one of the tier folders "
                                f"{', '.join(TIERS)} (tests/{folder}/ is none)")
    return folder


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = tier_of(item)
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """No test sees the developer's AANWEZIG_* settings."""
    for name in list(os.environ):
        if name.startswith("AANWEZIG_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def synthetic_nl(tmp_path_factory):
    """A database with 4,000 synthetic pupils ingested and derived, built once per run and
    shared (tests that spend budget use their own pool or principal). A sample of schools at
    national size: 4,000 pupils spread over all 8,420 schools would leave most of them with
    none or one."""
    from service.db import connect
    from service.ingest.derive import rebuild
    from service.ingest.directory import ingest_directory
    from service.register.source import load_register
    from service.settings import Settings
    from service.synth.uploads import write_synthetic

    root = tmp_path_factory.mktemp("nl")
    write_synthetic(root / "uploads", pupils=4_000, seed=7, schools="sample")
    settings = Settings(mode="dev", db=root / "nl.duckdb")
    con = connect(settings.db)
    load_register(con)
    report = ingest_directory(con, settings, root / "uploads")
    assert not report.refused
    rebuild(con, "2025-2026")
    yield con, settings
    con.close()


@pytest.fixture(scope="session")
def synthetic_weeks(synthetic_nl):
    """`synthetic_nl` with weeks 1-3 of its weekly series released (a repeat is free)."""
    from service.weekly import series as weekly

    con, settings = synthetic_nl
    for week in (1, 2, 3):
        weekly.release_week(con, settings, "2025-2026", week)
    return con, settings
