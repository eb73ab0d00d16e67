"""The schools' model estimates on the page (issue 26; docs/page.md): at school level, for the
chronic and severe absence shares, each row shows the model estimate and its interval beside
the direct one, labelled as a model estimate, with the values /v1/compare gives; the verdict
is the direct estimate's. Elsewhere (another level, a count) there is no model line. Real
Chromium against uvicorn on the pipeline's own standard release."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.page_ready import settled

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


def _percent(value: float) -> str:
    return f"{100 * value:.1f}".replace(".", ",") + "%"


def test_school_rows_show_the_model_estimate_beside_the_direct_one(site, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?lang=nl&measure=chronic_share&level=school")
    settled(page)
    answer = page.evaluate("async () => (await fetch('/v1/compare?measure=chronic_share&level=school')).json()")
    expected = {a["code"]: a for a in answer["areas"] if a.get("model_estimate") is not None}
    assert len(expected) > 100
    rows = page.evaluate("""() => [...document.querySelectorAll('#areas tbody tr')].map(tr => ({
        code: tr.children[2].innerText,
        model: tr.children[6].querySelector('.model-estimate')?.innerText ?? null,
        title: tr.children[6].querySelector('.model-estimate')?.title ?? null,
        verdict: tr.children[7].innerText}))""")
    assert len(rows) == len(answer["areas"])
    for row in rows[:300]:
        area = expected[row["code"]]
        assert row["model"] == (f"modelschatting {_percent(area['model_estimate'])} (95% zeker tussen "
                                f"{_percent(area['model_lower'])} en {_percent(area['model_upper'])})")
        assert "directe schatting" in row["title"]
    page.close()


@pytest.mark.parametrize("view", ["measure=chronic_share&level=municipality",
                                  "measure=enrolled&level=school"])
def test_no_model_line_where_the_release_has_no_model_estimate(site, browser, view):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{site}/?lang=nl&{view}")
    settled(page)
    assert page.evaluate("() => document.querySelectorAll('#areas tbody tr').length") > 0
    assert page.evaluate("() => document.querySelectorAll('#areas .model-estimate').length") == 0
    page.close()
