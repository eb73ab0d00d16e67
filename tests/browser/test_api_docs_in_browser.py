"""The interactive API docs (/v1/docs) in real headless Chromium against the app under
uvicorn on a loopback port: Swagger UI renders the service's operations, every request the
page makes goes to the server's own origin, and nothing is refused by the
Content-Security-Policy or fails on the console. Skipped only when /usr/bin/chromium is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.db import connect
from service.settings import Settings
from support.browser import CHROMIUM
from support.live_server import serve_in_thread
from support.tiny_register import load_tiny_register

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


def test_swagger_ui_renders_from_this_server_only(tmp_path, browser):
    settings = Settings(mode="dev", db=tmp_path / "docs.duckdb")
    con = connect(settings.db)
    load_tiny_register(con)
    con.close()
    server, thread, base = serve_in_thread(settings)
    try:
        page = browser.new_page()
        requests, console = [], []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: console.append((m.type, m.text)))
        page.on("pageerror", lambda e: console.append(("error", str(e))))
        page.goto(base + "/v1/docs")
        page.wait_for_selector('[data-path="/v1/queries"]', timeout=20000)
        assert page.locator(".opblock").count() > 20          # the operations, rendered
        assert requests and all(url.startswith(base + "/") for url in requests), requests
        assert not [c for c in console if c[0] == "error"], console
        page.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
