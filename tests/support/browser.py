"""Headless Chromium (Debian's package, driven by Playwright) for the browser tests; the app
is served with `support.live_server.serve_in_thread`."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")
