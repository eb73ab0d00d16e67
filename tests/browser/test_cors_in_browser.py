"""CORS in a real browser: a page on another origin (a plain static server on 127.0.0.1 and on
localhost) reads the public statistics of two served apps, one open to any origin and one with
an allow-list, and never a keyed route (the HTTP side of CORS is tests/api/test_cors.py)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import pytest

from service.settings import Settings
from support.api_client import admin_database
from support.browser import ARGS, CHROMIUM
from support.live_server import serve_in_thread


def _app_settings(folder, cors_origins: str | None = None) -> tuple[Settings, str]:
    return admin_database(folder, **({} if cors_origins is None else {"cors_origins": cors_origins}))



PAGE = b"""<!doctype html><html lang="en"><title>other origin</title><body>
<script>
async function read(url, headers) {
  try { const r = await fetch(url, {headers: headers || {}}); return r.status; }
  catch (e) { return "blocked"; }
}
</script></body></html>"""


@pytest.fixture(scope="module")
def page_server(tmp_path_factory):
    """A plain static server for the other origin's page (two origins: 127.0.0.1 and
    localhost on its port)."""
    folder = tmp_path_factory.mktemp("origin")
    (folder / "index.html").write_bytes(PAGE)
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - no access log in the test output
        pass


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")
def test_a_page_on_another_origin_reads_public_statistics_and_never_a_keyed_route(
        tmp_path, page_server):
    pytest.importorskip("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    allowed_page = f"http://127.0.0.1:{page_server}"
    stranger_page = f"http://localhost:{page_server}"
    open_settings, admin = _app_settings(tmp_path / "open")
    listed_settings, _ = _app_settings(tmp_path / "listed", allowed_page)
    servers = [serve_in_thread(open_settings), serve_in_thread(listed_settings)]
    try:
        (_, _, open_api), (_, _, listed_api) = servers
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                results = {}
                for origin in (allowed_page, stranger_page):
                    page = browser.new_page()
                    page.goto(origin + "/index.html")
                    for name, url, headers in [
                            ("open", open_api + "/v1/catalog", None),
                            ("open-etag", open_api + "/v1/catalog", {"If-None-Match": '"x"'}),
                            ("open-keyed", open_api + "/v1/me", {"X-API-Key": admin}),
                            ("listed", listed_api + "/v1/catalog", None)]:
                        results[(origin, name)] = page.evaluate(
                            "([url, headers]) => read(url, headers)", [url, headers])
                    page.close()
            finally:
                browser.close()
    finally:
        for server, thread, _ in servers:
            server.should_exit = True
            thread.join(timeout=10)
    assert results == {
        (allowed_page, "open"): 200, (allowed_page, "open-etag"): 200,
        (allowed_page, "open-keyed"): "blocked", (allowed_page, "listed"): 200,
        (stranger_page, "open"): 200, (stranger_page, "open-etag"): 200,
        (stranger_page, "open-keyed"): "blocked", (stranger_page, "listed"): "blocked",
    }
