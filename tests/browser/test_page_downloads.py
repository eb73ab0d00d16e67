"""Downloads of what is on screen (docs/page.md, "Downloads"), in real Chromium: every chart
saves as PNG and SVG, and the table, the chosen areas' differences and the weekly series as
CSV that pandas reads with the rows shown. On the pipeline's own release with three weeks."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from support.browser import CHROMIUM

YEAR = "2025-2026"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


def _settled(page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=45000)
    page.wait_for_function("""() => ['charts', 'series-section'].every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')""", timeout=45000)


def _download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def test_every_chart_saves_as_png_and_svg(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page.goto(site + "/?measure=enrolled&level=province")
    _settled(page)
    for chart in ("dotplot", "map", "series"):
        bar = f"#{chart}" + (" >> xpath=.." if chart == "dotplot" else "") + " >> xpath=following-sibling::p[1]"
        png = _download(page, f"{bar} >> [data-export=png]")
        svg = _download(page, f"{bar} >> [data-export=svg]")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000, chart
        assert svg.lstrip().startswith(b"<svg") and b"</svg>" in svg[-20:], chart
    page.close()


def test_the_views_csv_links_give_what_is_on_screen(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page.goto(site + "/?measure=absence_rate&level=province&areas=province:PV27,province:PV28")
    _settled(page)
    page.wait_for_selector("#compare-result[data-ready=true]")
    table = pd.read_csv(io.BytesIO(_download(page, "#download-view")))
    assert len(table) == 1 + page.locator("#areas tbody tr").count() == 13
    assert set(table["measure"]) == {"absence_rate"} and set(table["level"]) == {"country", "province"}
    differences = pd.read_csv(io.BytesIO(_download(page, "#download-differences")))
    assert list(zip(differences["a"], differences["b"])) == [("province:PV27", "province:PV28")]
    shown = page.text_content("#differences-table tbody th")
    assert shown == f"{differences['name_a'][0]} − {differences['name_b'][0]}"
    weekly = pd.read_csv(io.BytesIO(_download(page, "#series-csv")))
    assert list(weekly["week"]) == [1, 2, 3]
    assert page.locator("#series-table tbody tr").count() == len(weekly)
    page.close()
