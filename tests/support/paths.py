"""Where the checkout's parts are, wherever a test module lives under tests/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
DOCS = ROOT / "docs"
ASSETS = TESTS / "assets"
