"""Shared fixtures: a clean environment and real DuckDB files in tmp_path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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
