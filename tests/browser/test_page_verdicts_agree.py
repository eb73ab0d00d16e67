"""One rendering of every verdict (docs/page.md, "One verdict, one rendering"): for each pair
of a comparison, the sentence, the differences' table and the chart say the same thing with
the same numbers — the same bounds at the same rounding, the same word for within / beyond the
noise / no difference, the chart's mark in the verdict's colour, its axis in procentpunt with a
decimal comma. On the pipeline's own release, with an area that has no estimate among them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.browser import CHROMIUM

YEAR = "2025-2026"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]
COLOURS = {"beyond_higher": "#b34700", "beyond_lower": "#0072b2", "same": "#767676"}
WORDS = {"nl": {"same": "binnen de ruis", "beyond": "groter dan de ruis", "none": "geen verschil te geven"},
         "en": {"same": "within the noise", "beyond": "larger than the noise",
                "none": "no difference can be given"}}


def _areas(page, base) -> list[str]:
    """Provinces (estimates), a municipality with and one without an estimate."""
    towns = page.request.get(f"{base}/v1/compare?measure=absence_rate&level=municipality").json()["areas"]
    without = next(a for a in towns if a["estimate"] is None)
    with_ = max((a for a in towns if a["estimate"] is not None), key=lambda a: a["pupils"] or 0)
    return ["province:PV27", "province:PV28", "province:PV20",
            f"municipality:{with_['code']}", f"municipality:{without['code']}"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_sentence_table_and_chart_give_each_verdict_alike(site, browser, lang):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    areas = ",".join(_areas(page, site))
    page.goto(f"{site}/?lang={lang}&measure=absence_rate&level=province&areas={areas}")
    page.wait_for_selector("#compare-result[data-ready=true]", timeout=60000)
    answer = page.request.get(f"{site}/v1/compare?measure=absence_rate&areas={areas}").json()
    pairs = answer["differences"]
    sentences = page.eval_on_selector_all("#compare-result .differences li", "ls => ls.map(l => l.textContent)")
    table = page.eval_on_selector_all("#differences-table tbody tr",
                                      "rs => rs.map(r => [...r.children].map(c => c.textContent))")
    marks = page.eval_on_selector_all("#differences-chart g.difference_points_marks path",
                                      "ps => ps.map(p => (p.getAttribute('fill') || '').toLowerCase())")
    assert len(sentences) == len(table) == len(pairs) == 10
    words, unit = WORDS[lang], {"nl": "procentpunt", "en": "percentage points"}[lang]
    between = {"nl": r"tussen (\S+) en (\S+) procentpunt", "en": r"between (\S+) and (\S+) percentage points"}[lang]
    seen = set()
    with_marks = [d for d in pairs if d["difference"] is not None]
    for d, sentence, row in zip(pairs, sentences, table):
        verdict = row[4].lower()
        if d["distinguishable"] is None:
            seen.add("none")
            assert sentence.lower().startswith(words["none"]) and verdict.startswith(words["none"])
            assert row[1:4] == ["–", "–", "–"]
            continue
        kind = "beyond" if d["distinguishable"] else "same"
        seen.add(kind)
        assert words[kind] in sentence and verdict == words[kind], (sentence, row)
        low, high = re.search(between, sentence).groups()
        assert row[2] == f"{low} {unit}" and row[3] == f"{high} {unit}", (sentence, row)
    assert {"none", "same"} <= seen, seen
    # the chart: one mark per pair with a difference, in the colour of its verdict
    assert len(marks) == len(with_marks)
    for d, fill in zip(with_marks, marks):
        key = "same" if not d["distinguishable"] else ("beyond_higher" if d["difference"] > 0 else "beyond_lower")
        assert fill == COLOURS[key], (d["a"], d["b"], fill)
    axis = page.eval_on_selector_all("#differences-chart g.role-axis-title text", "ts => ts.map(t => t.textContent)")
    assert any(unit in a for a in axis), axis
    labels = page.eval_on_selector_all("#differences-chart g.role-axis-label text", "ts => ts.map(t => t.textContent)")
    numeric = [x for x in labels if re.search(r"\d", x)]
    assert numeric and not any("%" in x for x in numeric)
    if lang == "nl":
        assert not any("." in x for x in numeric if re.search(r"\d\.\d", x)), numeric
    beyond = sum(1 for d in with_marks if d["distinguishable"])
    summary = page.inner_text("#differences-chart-summary")
    agree = {"nl": "is" if beyond == 1 else "zijn", "en": "is" if beyond == 1 else "are"}[lang]
    assert f"{beyond} {'van de' if lang == 'nl' else 'of the'} {len(with_marks)} " in summary
    assert f" {agree} " in summary.split(str(len(with_marks)), 1)[1][:40]
    page.close()


def test_national_calls_name_the_netherlands_in_each_language(site, browser):
    page = browser.new_page()
    for level in ("province", "municipality"):
        body = page.request.get(f"{site}/v1/compare?measure=absence_rate&level={level}").json()
        for a in body["areas"]:
            text = a["vs_national"]["text"]
            assert "Nederland" not in text["en"], text["en"]
            if a["vs_national"]["difference"] is not None:
                assert "the Netherlands" in text["en"] and "Nederland" in text["nl"]
    page.close()
