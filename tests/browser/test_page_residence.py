"""Residence on the page (docs/page.md, "Residence"): the release by residence (pupils by the
municipality where they live, the leerplicht view) carries only some measures, and
`/v1/compare/options` lists it with them; the page offers the level with exactly those
measures, says what it means, does not rank it (no published rank ranges), and compares chosen
municipalities of residence. Real Chromium against uvicorn on the pipeline's own release."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.page_ready import settled

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]

SCREEN = """() => ({
  level: document.getElementById('level').value,
  levels: [...document.getElementById('level').options].map(o => o.value),
  levelText: [...document.getElementById('level').options].map(o => o.textContent),
  measure: document.getElementById('measure').value,
  measures: [...document.getElementById('measure').options].map(o => o.value),
  hint: document.getElementById('level-hint').hidden ? null : document.getElementById('level-hint').textContent,
  status: document.getElementById('status').textContent,
  rows: [...document.querySelectorAll('#areas tbody tr')].map(tr => [...tr.children].map(td => td.innerText.trim())),
})"""


def test_residence_is_offered_with_only_its_measures_and_explained(site, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a link naming a measure that residence lacks: the page falls back to one it has
    page.goto(f"{site}/?level=residence&measure=absence_rate")
    settled(page)
    options = page.evaluate("async () => (await fetch('/v1/compare/options')).json()")
    own = options["levels"]["residence"]["measures"]
    every = [m["name"] for m in options["measures"]]
    assert 0 < len(own) < len(every) and "absence_rate" not in own
    # the other levels carry every measure and list none of their own
    assert all("measures" not in info for level, info in options["levels"].items() if level != "residence")
    shown = page.evaluate(SCREEN)
    assert "residence" in shown["levels"] and "woongemeente (leerplicht)" in shown["levelText"]
    assert shown["level"] == "residence" and shown["measures"] == own
    assert shown["measure"] == own[0] and "measure=" + own[0] in page.url
    assert shown["hint"] and "waar ze wonen" in shown["hint"] and f"{len(own)} van de {len(every)} maten" in shown["hint"]
    assert not shown["status"], shown["status"]
    # one row per municipality of residence; not ranked, and the rank cell says why; no archive
    answer = page.evaluate(f"async () => (await fetch('/v1/compare?measure={own[0]}&level=residence')).json()")
    assert len(shown["rows"]) == len(answer["areas"]) == options["levels"]["residence"]["areas"]
    with_estimate = [r for r in shown["rows"] if not r[1].startswith("\u2013te weinig")]
    assert with_estimate and all("woongemeenten worden niet gerangschikt" in r[1] for r in with_estimate)
    assert all(r[8] == "\u2013" for r in shown["rows"])
    # each of its measures draws without an error
    for measure in own[1:4]:
        page.select_option("#measure", measure)
        settled(page)
        assert not page.evaluate(SCREEN)["status"]
    # back to municipalities: every measure again, no residence hint
    page.select_option("#level", "municipality")
    settled(page)
    shown = page.evaluate(SCREEN)
    assert shown["measures"] == every and shown["hint"] is None
    page.close()
    assert not errors, errors


def test_municipalities_of_residence_can_be_compared(site, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?lang=en&level=residence&measure=enrolled"
              "&areas=residence:GM0363,residence:GM0014")
    settled(page)
    cards = page.eval_on_selector_all("#compare-result .card h3", "hs => hs.map(h => h.textContent)")
    sentences = page.eval_on_selector_all("#compare-result .differences li", "ls => ls.map(l => l.textContent)")
    hint = page.text_content("#level-hint")
    page.close()
    assert sorted(cards) == ["Amsterdam", "Groningen", "the Netherlands"] or \
        sorted(cards) == ["Amsterdam", "Groningen", "Nederland"], cards
    assert len(sentences) == 1 and "Amsterdam" in sentences[0] and "Groningen" in sentences[0]
    assert "where they live" in hint
