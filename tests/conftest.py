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
