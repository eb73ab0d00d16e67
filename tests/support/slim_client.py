"""The slim client (clients/python, its own package) importable in the suite without
installing it: its folder goes on sys.path. The system tier installs it for real, in a fresh
venv without the server's dependencies (tests/system/test_slim_client_install.py)."""

from __future__ import annotations

import sys

from support.paths import ROOT

CLIENT_ROOT = ROOT / "clients" / "python"
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

import aanwezig_client  # noqa: E402

__all__ = ["CLIENT_ROOT", "aanwezig_client"]
