"""WCAG 2.1 AA in the browser: axe-core 4 (vendored in tests/assets/axe, evaluated in the test's
own page through the debugging protocol, so the page's Content-Security-Policy stays in force)
finds no violation of the wcag2a, wcag2aa, wcag21a and wcag21aa rules in any state a user
reaches — Dutch and English, every measure and every level, the comparison of chosen areas,
the weekly chart and its table, a 320-pixel phone width, the accessibility statement — and
the whole task can be done with the keyboard alone: choose a measure, pick two areas, compare,
download. One server and one browser page serve all states.

On the pipeline's own standard release (synthetic pupils, OpenDP noise, areas without an
estimate) with three weeks of the weekly series published. Skipped only when
/usr/bin/chromium is absent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.live_server import serve_in_thread
from support.paths import ASSETS

expect = pytest.importorskip("playwright.sync_api").expect

AXE_VERSION = "4.14.1"
AXE = ASSETS / "axe" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
YEAR = "2025-2026"
LEVELS = ["municipality", "residence", "swv", "rmc", "province", "school"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


@pytest.fixture(scope="module")
def site(synthetic_weeks):
    from service.releases.standard import publish_standard
    con, settings = synthetic_weeks                # three weeks of the weekly series released
    publish_standard(con, settings, YEAR)          # the stored release when already published
    server, thread, base = serve_in_thread(settings)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _open(browser, url, width=1366, height=900):
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def _settled(page) -> None:
    """Every chart and table of the page drawn for the current choice."""
    page.wait_for_selector("body[data-ready=true]", timeout=45000)
    page.wait_for_function("""() => ['charts', 'series-section'].every(
        id => document.getElementById(id).getAttribute('aria-busy') === 'false')""", timeout=45000)


def axe_violations(page) -> list[str]:
    """Run axe-core on the whole document; one line per failing node."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text())
        assert page.evaluate("axe.version") == AXE_VERSION
    result = page.evaluate("""(tags) => axe.run(document, {
            runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
        .then(r => ({passes: r.passes.map(p => p.id), violations: r.violations.map(v => ({
            id: v.id, nodes: v.nodes.map(n => n.target.join(' ') + ' | ' + n.failureSummary)}))}))""",
                           TAGS)
    # the engine really ran its rules (a check that found nothing to check would pass anyway)
    assert {"color-contrast", "document-title", "html-has-lang"} <= set(result["passes"]) | {
        v["id"] for v in result["violations"]}
    return [f"{v['id']}: {node}" for v in result["violations"] for node in v["nodes"][:5]]


#: The contrast of every chart text against the page behind it, in the browser: axe leaves
#: text inside an image (the charts are role="img") "incomplete", so it is measured here.
CHART_TEXT_CONTRAST = """() => {
    const lum = (rgb) => { const c = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
    const background = (el) => { for (let e = el; e; e = e.parentElement) {
        const b = getComputedStyle(e).backgroundColor;
        if (b && !b.startsWith('rgba(0, 0, 0, 0)') && b !== 'transparent') return b; }
        return 'rgb(255, 255, 255)'; };
    const low = [];
    for (const text of document.querySelectorAll('.chart svg text')) {
        if (!text.textContent.trim()) continue;
        const style = getComputedStyle(text);
        if (style.visibility === 'hidden' || style.display === 'none') continue;
        const opacity = parseFloat(text.getAttribute('opacity') ?? '1') * parseFloat(style.opacity);
        const [a, b] = [lum(style.fill), lum(background(text.closest('.chart')))];
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (opacity === 0) continue;             // a label Vega hid as overlapping
        if (ratio < 4.5 || opacity < 1) low.push(`${text.textContent}: ${ratio.toFixed(2)}:1, opacity ${opacity}`);
    }
    return low;
}"""


def _check(page, state: str, found: dict) -> None:
    _settled(page)
    violations = axe_violations(page) + [
        f"chart-text-contrast: {low}" for low in page.evaluate(CHART_TEXT_CONTRAST)[:5]]
    if violations:
        found[state] = violations


def test_axe_finds_no_violation_in_any_state(site, browser):
    base = site
    page, errors = _open(browser, base + "/")
    _settled(page)
    # The harness sees a planted violation (an image without a text alternative, added from
    # the test, CSP in force), so an empty list below means the page has none.
    page.evaluate("""() => { const i = document.createElement('img'); i.id = 'planted';
        i.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='; document.body.append(i); }""")
    assert any(v.startswith("image-alt") for v in axe_violations(page))
    page.evaluate("document.getElementById('planted').remove()")

    found: dict[str, list[str]] = {}
    measures = page.eval_on_selector_all("#measure option", "os => os.map(o => o.value)")
    levels = page.eval_on_selector_all("#level option", "os => os.map(o => o.value)")
    assert levels == LEVELS and len(measures) >= 10
    count = next(m for m in measures if m in ("enrolled", "chronic_count"))
    # Each state is the whole page as a user sees it. Measures change the texts, units and
    # verdicts but not the page's structure, so every measure is checked at the level with
    # the fewest areas (12 provinces: axe takes ~0.5 s there, ~4 s with 342 municipalities).
    for lang in ("nl", "en"):
        if lang == "en":
            page.click("#lang")
            expect(page.locator("html")).to_have_attribute("lang", "en")
        page.select_option("#level", "province")
        for measure in (measures if lang == "nl" else ["absence_rate", count]):
            page.select_option("#measure", measure)
            _check(page, f"{lang} province {measure}", found)
        # the weekly chart with its table open, another weekly measure
        page.click("#series-details summary")
        page.select_option("#series-measure", "chronic_share_4wk")
        expect(page.locator("#series-table tbody tr")).to_have_count(3)
        _check(page, f"{lang} weekly table", found)
        page.click("#series-details summary")
        # two chosen areas compared, the differences' table open
        page.select_option("#measure", "absence_rate")
        _settled(page)
        for code in ("PV27", "PV28"):
            page.check(f"input[value='province:{code}']")
        page.click("#compare")
        page.wait_for_selector("#compare-result[data-ready=true]")
        page.click("#compare-result details summary")
        _check(page, f"{lang} compare", found)
        # every other level (a count's table and chart differ from a rate's only in the
        # verdict column and the national line, checked at province level above)
        for level in ("rmc", "swv", "municipality", "residence"):
            page.select_option("#level", level)
            _check(page, f"{lang} {level} absence_rate", found)
        # the table sorted by verdict; schools found by name (8,400 rows: searched, as a user would)
        page.select_option("#sort", "verdict")
        _check(page, f"{lang} sorted by verdict", found)
        page.select_option("#level", "school")
        _settled(page)
        page.fill("#filter", page.text_content("#areas tbody tr th")[:6])
        _check(page, f"{lang} school search", found)
        page.fill("#filter", "")
        page.select_option("#sort", "rank")
    # a phone (320 CSS pixels: WCAG 1.4.10 reflow), the page as it opens: one column, no
    # sideways scrolling
    page.set_viewport_size({"width": 320, "height": 720})
    page.click("#lang")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _check(page, "nl phone", found)
    assert not found, found
    assert not errors, errors
    page.close()


def test_accessibility_statement_in_both_languages(site, browser):
    base = site
    for url, lang, heading in ((base + "/toegankelijkheid", "nl", "Toegankelijkheid van Aanwezig"),
                               (base + "/toegankelijkheid?lang=en", "en", "Accessibility of Aanwezig")):
        page, errors = _open(browser, url)
        assert page.get_attribute("html", "lang") == lang
        assert page.inner_text("h1") == heading
        text = page.inner_text("main")
        assert AXE_VERSION in text and "WCAG 2.1" in text
        assert not axe_violations(page)
        assert not errors, errors
        page.close()
    # the page links to it, in its own language
    page, _ = _open(browser, base + "/")
    _settled(page)
    assert page.get_attribute("#statement", "href") == "/toegankelijkheid"
    page.click("#lang")
    expect(page.locator("#statement")).to_have_attribute("href", "/toegankelijkheid?lang=en")
    page.close()


def _focused(page) -> str:
    return page.evaluate("""() => { const e = document.activeElement;
        return e.id ? '#' + e.id : e.tagName.toLowerCase() + (e.value ? `[value='${e.value}']` : '') +
            (e.classList.length ? '.' + [...e.classList].join('.') : ''); }""")


def _tab_to(page, selector: str, back: bool = False, limit: int = 40) -> None:
    """Press Tab (or Shift+Tab) until `selector` has the focus; its focus ring is visible."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return [s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
            assert ring[0] != "none" and ring[1] >= 2, (selector, ring)
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{selector} not reached by keyboard; focus on {_focused(page)}")


def test_keyboard_alone_chooses_picks_compares_and_downloads(site, browser):
    base = site
    page, errors = _open(browser, base + "/")
    _settled(page)
    # the skip link comes first and leads to the table
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip')")
    # choose a measure with the arrow keys
    _tab_to(page, "#measure")
    before = page.input_value("#measure")
    page.keyboard.press("ArrowDown")
    after = page.input_value("#measure")
    assert after != before
    _settled(page)
    label = page.eval_on_selector("#measure", "s => s.options[s.selectedIndex].textContent")
    expect(page.locator("#dotplot")).to_have_attribute("aria-label", label)
    # the ranking's scrollable region takes the focus, and the arrow keys scroll it when it
    # overflows (it holds the ranked areas only: on this small release it may be short)
    _tab_to(page, ".chart-scroll")
    page.keyboard.press("PageDown")
    if page.evaluate("(e => e.scrollHeight > e.clientHeight + 1)(document.querySelector('.chart-scroll'))"):
        page.wait_for_function("() => document.querySelector('.chart-scroll').scrollTop > 0")
    # pick two areas: type in the search field, tab to the row's checkbox, press space
    for name, code in (("Amsterdam", "GM0363"), ("Rotterdam", "GM0599")):
        _tab_to(page, "#filter", back=page.evaluate("document.activeElement.type === 'checkbox'"))
        page.keyboard.press("Control+A")
        page.keyboard.type(name)
        expect(page.locator("#areas tbody tr")).to_have_count(1)
        _tab_to(page, f"input[value='municipality:{code}']")
        page.keyboard.press("Space")
        assert page.is_checked(f"input[value='municipality:{code}']")
    expect(page.locator("#chosen")).to_contain_text("2")
    # back up to the compare button, Enter: the result takes the focus
    _tab_to(page, "#compare", back=True)
    page.keyboard.press("Enter")
    page.wait_for_selector("#compare-result[data-ready=true]")
    assert _focused(page) == "#compare-heading"
    assert page.locator("#compare-result .differences li").count() == 1
    # the differences' table opens with Enter
    _tab_to(page, "#compare-result details summary")
    page.keyboard.press("Enter")
    expect(page.locator("#differences-table tbody tr")).to_have_count(1)
    # download Rotterdam's signed data with Enter on its link
    _tab_to(page, "#areas tbody a.download", limit=80)
    assert "Rotterdam" in page.evaluate("document.activeElement.getAttribute('aria-label')")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    _download_verifies_file(page, info.value, base)
    assert not errors, errors
    page.close()


def _download_verifies_file(page, download, base) -> None:
    import io
    import zipfile

    from service.releases.files import verify_files
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    files = {n: archive.read(n) for n in archive.namelist() if n != "datapackage.json.sig"}
    key = page.request.get(base + "/v1/signing-key").body()
    assert verify_files(files, archive.read("datapackage.json.sig"), key) is not None


def test_a_charts_tooltip_closes_with_escape(site, browser):
    """WCAG 1.4.13: content shown on hover can be dismissed without moving the pointer."""
    page, errors = _open(browser, site + "/?measure=enrolled&level=province")   # ranked areas
    _settled(page)
    page.hover("#dotplot g.area_points_marks path >> nth=0", force=True)
    tooltip = page.locator("#vg-tooltip-element")
    shown = re.compile(r"\bvisible\b")
    expect(tooltip).to_have_class(shown, timeout=5000)
    page.keyboard.press("Escape")
    expect(tooltip).not_to_have_class(shown)
    assert not errors, errors
    page.close()
