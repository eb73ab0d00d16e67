"""The page's 'Wekelijks signaal' section draws the weekly series (a line with its 95% band)
in headless Chromium with no console errors (the chart's spec: tests/api/test_weekly_chart.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import ARGS, CHROMIUM
from support.live_server import serve_in_thread

YEAR = "2025-2026"


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium")
def test_page_draws_the_weekly_series(synthetic_weeks):
    from playwright.sync_api import sync_playwright

    con, settings = synthetic_weeks
    from service.releases.standard import publish_standard
    publish_standard(con, settings, YEAR)
    server, thread, base = serve_in_thread(settings)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            errors = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(base + "/")
            page.wait_for_selector("#series svg path", timeout=20000)
            assert page.locator("#series svg path").count() >= 2   # band and line
            page.select_option("#series-measure", "chronic_share_4wk")
            page.wait_for_timeout(500)
            assert page.locator("#series svg").count() == 1
            browser.close()
        assert not errors, errors
    finally:
        server.should_exit = True
        thread.join(timeout=10)
