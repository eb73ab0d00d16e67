"""The compare page in real headless Chromium (Debian's package, driven by Playwright)
against the app served by uvicorn on a loopback port, with a release built so its values are
known: no console errors, no request outside the server's origin, one mark per area in the
dot plot and the map, another measure updates them, and the download button's file verifies.
Skipped only when /usr/bin/chromium is absent."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from support.compare_data import make_database

expect = pytest.importorskip("playwright.sync_api").expect
from service.releases.files import verify_files
from support.browser import CHROMIUM
from support.live_server import serve_in_thread
from support.paths import DOCS

SCREENSHOT = DOCS / "page-screenshot.png"
#: A demo database (`aanwezig demo`); when set, the screenshot in docs/ is retaken on it.
DEMO_DB = os.environ.get("AANWEZIG_SCREENSHOT_DB")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings, release_id = make_database(tmp_path_factory.mktemp("page") / "page.duckdb")
    server, thread, base = serve_in_thread(settings)
    yield base, release_id
    server.should_exit = True
    thread.join(timeout=10)


def _download_verifies(page, link, base) -> None:
    """Click a download link; the zip's datapackage.json signature and hashes verify."""
    with page.expect_download() as info:
        link.click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    files = {n: archive.read(n) for n in archive.namelist() if n != "datapackage.json.sig"}
    key = page.request.get(base + "/v1/signing-key").body()
    assert verify_files(files, archive.read("datapackage.json.sig"), key) is not None


def _open(browser, base, width=1366, height=900):
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    log = {"console": [], "requests": []}
    page.on("console", lambda m: log["console"].append((m.type, m.text)))
    page.on("pageerror", lambda e: log["console"].append(("error", str(e))))
    page.on("request", lambda r: log["requests"].append(r.url))
    page.goto(base + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=20000)
    return page, log


def test_page_renders_updates_and_stays_on_its_origin(site, browser):
    base, release_id = site
    page, log = _open(browser, base)
    points = "#dotplot g.area_points_marks path"
    assert page.locator(points).count() == 342          # one point per municipality
    assert page.locator("#map g.area_shapes_marks path").count() == 342
    assert page.locator("#dotplot g.national_line_marks line, #dotplot g.national_line_marks path").count() == 1
    assert page.locator("#areas tbody tr").count() == 342
    # another measure and level: the charts are replaced
    page.select_option("#level", "province")
    expect(page.locator(points)).to_have_count(12)
    expect(page.locator("#map g.area_shapes_marks path")).to_have_count(12)
    page.select_option("#measure", "enrolled")
    expect(page.locator("#dotplot g.national_line_marks")).to_have_count(0)
    expect(page.locator(points)).to_have_count(12)
    # English
    page.click("#lang")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_selector("text=Ranking with 95% intervals")
    errors = [text for kind, text in log["console"] if kind == "error"]
    assert not errors, errors
    outside = [u for u in log["requests"] if not u.startswith(base + "/") and not u.startswith("data:")]
    assert not outside, outside
    page.close()


def test_two_areas_side_by_side_and_a_download_that_verifies(site, browser):
    base, release_id = site
    page, log = _open(browser, base)
    page.fill("#filter", "Amsterdam")
    page.check("input[value='municipality:GM0363']")
    page.fill("#filter", "Rotterdam")
    page.check("input[value='municipality:GM0599']")
    page.click("#compare")
    page.wait_for_selector("#compare-result .differences li")
    assert "binnen de ruis" in page.inner_text("#compare-result .differences")
    page.wait_for_selector("#differences-chart g.difference_points_marks path")
    link = page.locator("#areas tbody tr a.download").first
    assert link.get_attribute("href") == f"/v1/releases/{release_id}/areas/municipality/GM0599"
    _download_verifies(page, link, base)
    errors = [text for kind, text in log["console"] if kind == "error"]
    assert not errors, errors
    page.close()


def test_phone_width_and_screenshot(site, browser, tmp_path):
    base, _ = site
    page, log = _open(browser, base, width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.close()
    target = site[0]
    server = None
    if DEMO_DB and Path(DEMO_DB).exists():   # the demo's own data, when a demo database is given
        from service.settings import Settings
        server, thread, target = serve_in_thread(Settings(mode="demo", db=DEMO_DB))
    try:
        page, _ = _open(browser, target, width=1366, height=1000)
        shot = SCREENSHOT if server else tmp_path / "page.png"
        page.screenshot(path=str(shot))
        page.close()
    finally:
        if server:
            server.should_exit = True
            thread.join(timeout=10)
    assert shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def pipeline_site(synthetic_nl):
    """The app on the pipeline's own standard release (synthetic pupils ingested, derived and
    published with OpenDP noise): real flags, areas without an estimate, every measure."""
    from service.releases.standard import publish_standard
    from service.releases.stored import cells as release_cells
    from service.releases.stored import get_release
    con, settings = synthetic_nl
    release_id = publish_standard(con, settings, "2025-2026").record.release_id
    cells = release_cells(get_release(con, release_id))
    municipal = cells[(cells["level"] == "municipality") & (cells["sector"] == "all")]
    estimated = municipal.groupby("measure")["estimate"].count().to_dict()
    server, thread, base = serve_in_thread(settings)
    yield base, release_id, estimated, int((municipal["measure"] == "absence_rate").sum())
    server.should_exit = True
    thread.join(timeout=10)


def test_page_on_the_pipelines_standard_release(pipeline_site, browser):
    """One map shape per area that has an estimate and one dot-plot mark per ranked area
    (docs/page.md, "Rankings"); another measure (other numbers of both) replaces both; the
    download verifies."""
    base, release_id, estimated, listed = pipeline_site
    page, log = _open(browser, base)
    points, shapes = "#dotplot g.area_points_marks path", "#map g.area_shapes_marks path"

    def ranked(measure: str) -> int:
        body = page.request.get(f"{base}/v1/compare?measure={measure}&level=municipality").json()
        return sum(1 for a in body["areas"] if a["ranked"])

    marked = estimated["absence_rate"]
    assert 0 < marked <= listed == 342
    expect(page.locator(points)).to_have_count(ranked("absence_rate"))
    expect(page.locator(shapes)).to_have_count(marked)
    assert page.locator("#areas tbody tr").count() == listed
    # a count is estimated in all 342 areas, and some of them are ranked on this release
    page.select_option("#measure", "enrolled")
    assert estimated["enrolled"] != marked and ranked("enrolled") != ranked("absence_rate")
    expect(page.locator(points)).to_have_count(ranked("enrolled"))
    expect(page.locator(shapes)).to_have_count(estimated["enrolled"])
    link = page.locator("#areas tbody tr a.download").first
    assert link.get_attribute("href").startswith(f"/v1/releases/{release_id}/areas/municipality/")
    _download_verifies(page, link, base)
    errors = [text for kind, text in log["console"] if kind == "error"]
    assert not errors, errors
    outside = [u for u in log["requests"] if not u.startswith(base + "/") and not u.startswith("data:")]
    assert not outside, outside
    page.close()
