"""The URL is the view (docs/page.md, "A view you can share"): every control of the page is
written to the query string, a link opens the same view, a reload keeps it, back and forward
restore the one before, chosen areas survive a new measure, and "copy link" copies it.
Real Chromium against uvicorn on the pipeline's own standard release with three released weeks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from support.browser import CHROMIUM
from support.live_server import serve_in_thread

YEAR = "2025-2026"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


@pytest.fixture(scope="module")
def site(synthetic_weeks):
    from service.releases.standard import publish_standard
    con, settings = synthetic_weeks
    publish_standard(con, settings, YEAR)          # the stored release when already published
    server, thread, base = serve_in_thread(settings)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _settled(page) -> None:
    """Charts, weekly series and (when areas are chosen and compared) the comparison drawn."""
    page.wait_for_selector("body[data-ready=true]", timeout=45000)
    page.wait_for_function("""() => ['charts', 'series-section'].every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')
        && document.getElementById('compare-result').dataset.ready !== 'false'""", timeout=45000)


def _on_screen(page) -> dict:
    """What the page shows: the controls' values, the language and the compared areas."""
    return page.evaluate("""() => ({
        lang: document.documentElement.lang,
        measure: document.getElementById('measure').value,
        level: document.getElementById('level').value,
        sector: document.getElementById('sector').value,
        wmeasure: document.getElementById('series-measure').value,
        warea: document.getElementById('series-area').value,
        cards: [...document.querySelectorAll('#compare-result .card h3')].map(h => h.textContent).sort(),
        checked: [...document.querySelectorAll('#areas tbody input:checked')].map(i => i.value).sort(),
    })""")


def _in_url(page) -> dict:
    query = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    query["areas"] = [a for a in query.get("areas", "").split(",") if a]
    return query


def _agree(page) -> dict:
    """The URL and the screen say the same; returns the screen."""
    shown, url = _on_screen(page), _in_url(page)
    for key in ("lang", "measure", "level", "sector", "wmeasure", "warea"):
        assert url.get(key) == shown[key], (key, url, shown)
    here = [a for a in url["areas"] if a.startswith(shown["level"] + ":")]
    assert sorted(shown["checked"]) == sorted(here), (url, shown)
    return shown


def test_a_link_opens_the_view_it_names(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/?lang=en&measure=chronic_share&level=province"
              "&areas=province:PV27,province:PV28&wmeasure=chronic_share_4wk&warea=province:PV27")
    _settled(page)
    shown = _agree(page)
    assert shown["lang"] == "en" and shown["measure"] == "chronic_share"
    assert shown["level"] == "province" and shown["wmeasure"] == "chronic_share_4wk"
    assert shown["warea"] == "province:PV27"
    assert sorted(shown["checked"]) == ["province:PV27", "province:PV28"]
    assert len(shown["cards"]) == 3                 # two areas and the Netherlands
    assert "Ranking with 95% intervals" in page.inner_text("#charts")
    assert _in_url(page)["release"]                 # the release shown is named in the link
    # the sector control offers what the release holds at the level on screen: since issue 26
    # every province by sector (special education per region), so it is enabled, no hint
    options = page.request.get(site + "/v1/compare/options").json()
    sectors = options["levels"]["province"]["sectors"]
    assert {"SO", "VSO", "SBO"} <= set(sectors)
    offered = page.eval_on_selector_all("#sector option", "os => os.map(o => o.value)")
    assert not page.is_disabled("#sector") and offered == sectors, (offered, sectors)
    assert page.inner_text("#sector-hint").strip() == ""
    assert not errors, errors
    page.close()


def test_every_control_round_trips_through_reload_and_history(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/")
    _settled(page)
    views = [_agree(page)]
    steps = [
        lambda: page.select_option("#level", "province"),
        lambda: page.select_option("#measure", "chronic_share"),
        lambda: (page.check("input[value='province:PV27']"), page.check("input[value='province:PV28']"),
                 page.click("#compare")),
        lambda: page.select_option("#series-measure", "attendance_rate_week"),
        lambda: page.select_option("#series-area", "province:PV28"),
        lambda: page.click("#lang"),
        lambda: page.select_option("#measure", "absence_rate"),
    ]
    for step in steps:
        step()
        _settled(page)
        shown = _agree(page)
        page.reload()
        _settled(page)
        assert _agree(page) == shown                # a reload keeps the view
        views.append(shown)
    assert views[-1]["lang"] == "en" and views[-1]["warea"] == "province:PV28"
    # chosen areas stayed chosen, and compared, when the measure and the language changed
    assert len(views[-1]["cards"]) == 3 and sorted(views[-1]["checked"]) == sorted(views[3]["checked"])
    # back through every choice, then forward again (reloads replace, they add no entry)
    for expected in reversed(views[:-1]):
        page.go_back()
        _settled(page)
        assert _agree(page) == expected
    for expected in views[1:]:
        page.go_forward()
        _settled(page)
        assert _agree(page) == expected
    assert not errors, errors
    page.close()


def test_copy_link_copies_the_view(site, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page = context.new_page()
    page.goto(site + "/?level=province&measure=severe_share")
    _settled(page)
    page.click("#copy-link")
    page.wait_for_function("() => document.getElementById('copy-status').textContent !== ''")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.url and "measure=severe_share" in copied and "level=province" in copied
    context.close()
