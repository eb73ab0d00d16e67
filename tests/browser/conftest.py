"""The browser tests' one Chromium (Debian's, headless, driven by Playwright) per module, and
the page served on the pipeline's own release with three weeks (`site`)."""

import pytest

from support.browser import ARGS, CHROMIUM
from support.live_server import serve_in_thread


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(synthetic_weeks):
    """The page of a live server (uvicorn in a thread) on `synthetic_weeks` with its standard
    release published (free when another module published it)."""
    from service.releases.standard import publish_standard
    con, settings = synthetic_weeks
    publish_standard(con, settings, "2025-2026")
    server, thread, base = serve_in_thread(settings)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
