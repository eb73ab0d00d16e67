"""The API's warnings on the page (docs/page.md, "Warnings"): where `/v1/compare` flags an
area's estimate `ratio_unstable` (its denominator so uncertain that the estimate may be
biased) the table marks that estimate "⚠ onstabiel" and a note beside the table and under the
ranking counts and names those areas and the areas without an estimate; a compared area's card
carries the mark; the weekly section shows what `/v1/weekly/{year}/warnings` says of the area
on screen. Each is checked against the API's own answer. Real Chromium against uvicorn on the
pipeline's own release (4,000 pupils: many small municipalities) with three released weeks."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.page_ready import settled

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]

YEAR = "2025-2026"
UNSTABLE, NO_ESTIMATE = "ratio_unstable", "no_estimate_denominator_may_be_zero"


def _api(page, path: str):
    return page.evaluate(f"async () => (await fetch({path!r})).json()")


@pytest.mark.parametrize("lang,mark,word", [("nl", "\u26a0 onstabiel", "gebieden met een onstabiele schatting"),
                                            ("en", "\u26a0 unstable", "areas with an unstable estimate")])
def test_unstable_estimates_are_marked_in_the_table_and_counted_beside_it(site, browser, lang, mark, word):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?lang={lang}&measure=chronic_share&level=municipality")
    settled(page)
    answer = _api(page, "/v1/compare?measure=chronic_share&level=municipality")
    unstable = {a["code"] for a in answer["areas"] if UNSTABLE in a["flags"]}
    none = [a for a in answer["areas"] if a["estimate"] is None or NO_ESTIMATE in a["flags"]]
    assert unstable and none, "the release should have both kinds on this view"
    marked = set(page.evaluate(f"""() => [...document.querySelectorAll('#areas tbody tr')]
        .filter(tr => tr.children[5].innerText.includes({mark!r})).map(tr => tr.children[2].innerText)"""))
    assert marked == unstable
    for id_ in ("table-warnings", "dotplot-warnings"):
        note = page.inner_text(f"#{id_}")
        assert page.is_visible(f"#{id_}")
        assert f"{len(unstable)} {word}" in note, note
        assert note.startswith("Let op" if lang == "nl" else "Note"), note
        assert f"{len(none)} {'gebieden zonder schatting' if lang == 'nl' else 'areas without an estimate'}" in note
    # the first ten unstable areas are named (in the API's order), then how many more
    names = [a["name"] for a in answer["areas"] if a["code"] in unstable]
    note = page.inner_text("#table-warnings")
    assert all(n in note for n in names[:10])
    if len(names) > 10:
        assert f"{len(names) - 10} {'meer' if lang == 'nl' else 'more'}" in note
    page.close()


def _view(site, browser, view: str):
    """The page at `view` (a query string), drawn, and /v1/compare's answer for it."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?{view}")
    settled(page)
    return page, _api(page, f"/v1/compare?{view}")


def test_a_view_without_warnings_shows_no_note(site, browser):
    """Counts by province: no ratio, every area has an estimate: nothing to warn about."""
    page, answer = _view(site, browser, "measure=enrolled&level=province")
    assert not any(a["flags"] and set(a["flags"]) & {UNSTABLE, NO_ESTIMATE} for a in answer["areas"])
    assert not page.is_visible("#table-warnings") and not page.is_visible("#dotplot-warnings")
    assert "\u26a0" not in page.inner_text("#areas")
    page.close()


def test_a_compared_unstable_area_carries_the_mark_on_its_card(site, browser):
    page, answer = _view(site, browser, "measure=chronic_share&level=municipality")
    unstable = [a for a in answer["areas"] if UNSTABLE in a["flags"]][:1]
    stable = [a for a in answer["areas"] if a["estimate"] is not None and not a["flags"]][:1]
    assert unstable and stable
    areas = ",".join(f"municipality:{a['code']}" for a in unstable + stable)
    page.goto(f"{site}/?measure=chronic_share&level=municipality&areas={areas}")
    settled(page)
    cards = page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#compare-result .card')]
        .map(c => [c.querySelector('h3').textContent, c.innerText]))""")
    page.close()
    assert "\u26a0 onstabiel" in cards[unstable[0]["name"]]
    assert "\u26a0" not in cards[stable[0]["name"]]


@pytest.mark.parametrize("warea", ["country:NL", "province:PV27"])
def test_the_weekly_section_says_what_the_early_warning_says_of_the_area(site, browser, warea):
    level, code = warea.split(":")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?level=province&warea={warea}")
    settled(page)
    rows = _api(page, f"/v1/weekly/{YEAR}/warnings?flaggedOnly=false")
    box = page.locator("#series-warnings")
    text = box.inner_text() if box.is_visible() else ""
    page.close()
    mine = [r for r in rows if r["level"] == level and r["area_code"] == code]
    if not rows:
        # three weeks: the early warning has no baseline yet, and the page says so
        assert "Nog geen vroegsignaal" in text, text
    for r in mine:
        assert f"Vroegsignaal week {r['week']}" in text, (r, text)
        if r["flagged"]:
            assert text.startswith("\u26a0")
        elif r["z"] is not None:
            assert "geen signaal" in text
        else:
            assert "niet getoetst" in text
