"""No "nan", "NaN", "undefined" or "Infinity" anywhere on the page (docs/page.md): every
measure at every level of the compare section, and the weekly series of every weekly measure
for every province and for small municipalities (where weeks have no estimate), in real
Chromium on the pipeline's own release with three released weeks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.browser import CHROMIUM

YEAR = "2025-2026"
BAD = re.compile(r"\b(nan|undefined|infinity)\b", re.IGNORECASE)
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]
TEXT = """() => document.body.innerText + '\\n' +
    [...document.querySelectorAll('svg text, [aria-label], [title]')].map(e =>
        (e.textContent || '') + ' ' + (e.getAttribute('aria-label') || '') + ' ' + (e.getAttribute('title') || '')).join('\\n')"""


def _settled(page, ids=("charts", "series-section")) -> None:
    page.wait_for_function("""(ids) => ids.every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')""", arg=list(ids),
        timeout=45000)


def _bad(page, where: str) -> list[str]:
    text = page.evaluate(TEXT)
    return [f"{where}: …{text[max(m.start() - 60, 0):m.end() + 20]}…" for m in BAD.finditer(text)][:3]


def test_no_nan_at_any_measure_and_level(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(site + "/")
    page.wait_for_selector("body[data-ready=true]", timeout=45000)
    _settled(page)
    found: list[str] = []
    levels = page.eval_on_selector_all("#level option", "os => os.map(o => o.value)")
    measures = page.eval_on_selector_all("#measure option", "os => os.map(o => o.value)")
    assert {"municipality", "swv", "rmc", "province", "school"} <= set(levels) and len(measures) >= 15
    for level in levels:
        page.select_option("#level", level)
        _settled(page)
        # the measures the page offers at this level (residence: only its own)
        offered = page.eval_on_selector_all("#measure option", "os => os.map(o => o.value)")
        # schools (8,400 rows): a rate, a share and a count are enough to see their words
        for measure in (offered if level != "school" else ["absence_rate", "chronic_share", "enrolled"]):
            page.select_option("#measure", measure)
            _settled(page, ("charts",))
            found += _bad(page, f"{measure} × {level}")
    assert not found, found
    page.close()


def test_no_nan_in_the_weekly_series_of_small_areas(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    found: list[str] = []
    too_few = 0
    for level, count in (("province", 12), ("municipality", 8)):
        page.goto(f"{site}/?level={level}")
        page.wait_for_selector("body[data-ready=true]", timeout=45000)
        _settled(page)
        page.evaluate("() => { document.getElementById('series-details').open = true; }")
        areas = page.eval_on_selector_all("#series-area option", "os => os.map(o => o.value)")[1:count + 1]
        for measure in page.eval_on_selector_all("#series-measure option", "os => os.map(o => o.value)"):
            page.select_option("#series-measure", measure)
            _settled(page, ("series-section",))
            for area in areas:
                page.select_option("#series-area", area)
                _settled(page, ("series-section",))
                found += _bad(page, f"weekly {measure} {area}")
                too_few += "te weinig leerlingen voor een wekelijkse schatting" in page.inner_text("#series-summary")
    assert not found, found
    assert too_few > 0          # the small areas without a weekly estimate were among them
    page.close()
