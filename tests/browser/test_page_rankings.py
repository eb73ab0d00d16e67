"""The ranking on screen (docs/page.md, "Rankings"), in real Chromium on the pipeline's own
standard release: no area without an estimate is ranked and each says why; the ranked rows
are exactly the API's ranked areas and the dot plot's marks; the rank column says 1 = highest;
the number of pupils is shown; sorting by estimate, name and verdict orders the rows so; the
axis fits the values (not 0–100% for a national value of a few percent)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.browser import CHROMIUM

YEAR = "2025-2026"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=45000)
    page.wait_for_function("() => document.getElementById('charts').getAttribute('aria-busy') === 'false'")
    return page, errors


ROWS = """() => [...document.querySelectorAll('#areas tbody tr')].map(tr => {
    const c = [...tr.children].map(td => td.innerText.trim());
    return {code: c[2], name: c[3], rank: c[1], pupils: c[4], shown: c[5], interval: c[6], verdict: c[7]};
})"""


@pytest.mark.parametrize("measure,level", [("absence_rate", "municipality"), ("chronic_share", "swv"),
                                           ("enrolled", "municipality"), ("enrolled", "province")])
def test_the_tables_ranks_are_the_ranked_areas_and_the_rest_say_why(site, browser, measure, level):
    page, errors = _open(browser, f"{site}/?measure={measure}&level={level}")
    api = page.request.get(f"{site}/v1/compare?measure={measure}&level={level}").json()
    by_code = {a["code"]: a for a in api["areas"]}
    rows = page.evaluate(ROWS)
    assert len(rows) == len(api["areas"])
    assert "1 = hoogste" in page.inner_text("#areas thead")
    assert f"{api['ranking']['with_estimate']} gebieden met een schatting" in page.inner_text("#rank-note")
    numbered = 0
    for row in rows:
        area = by_code[row["code"]]
        if area["estimate"] is None:
            assert row["rank"].startswith("\u2013") and "te weinig leerlingen voor een schatting" in row["rank"]
            assert row["verdict"] == "niet vergeleken: geen schatting"
        elif not area["ranked"]:
            assert row["rank"].startswith("\u2013") and "te onzeker om te rangschikken" in row["rank"]
        else:
            assert re.fullmatch(rf"{area['rank']}( \(\d+\u2013\d+\))?", row["rank"]), row
            numbered += 1
        assert row["pupils"] == "\u2013" if area["pupils"] is None else \
            row["pupils"].replace(".", "") == str(area["pupils"])
    assert numbered == api["ranking"]["ranked"]
    assert page.locator("#dotplot g.area_points_marks path").count() == numbered
    assert not errors, errors
    page.close()


def test_sorting_by_estimate_name_and_verdict(site, browser):
    page, errors = _open(browser, f"{site}/?measure=enrolled&level=province")
    api = page.request.get(f"{site}/v1/compare?measure=enrolled&level=province").json()
    est = {a["code"]: a["estimate"] for a in api["areas"]}
    page.select_option("#sort", "estimate")
    codes = [r["code"] for r in page.evaluate(ROWS)]
    assert codes == sorted(est, key=lambda c: (-(est[c] if est[c] is not None else -1e18), c))
    page.select_option("#sort", "name")
    names = [r["name"] for r in page.evaluate(ROWS)]
    assert names == page.evaluate("(n) => [...n].sort(new Intl.Collator('nl').compare)", names)
    assert "sort=name" in page.url
    page.goto(f"{site}/?measure=absence_rate&level=municipality&sort=verdict")
    page.wait_for_function("() => document.getElementById('charts').getAttribute('aria-busy') === 'false'")
    order = {"hoger": 0, "lager": 1, "binnen": 2, "aantallen": 3, "niet": 4}
    verdicts = [order[r["verdict"].lstrip("▲▼● ").split()[0]] for r in page.evaluate(ROWS)]
    assert verdicts == sorted(verdicts) and len(set(verdicts)) > 1
    assert not errors, errors
    page.close()


def _axis_values(page) -> list[float]:
    labels = page.eval_on_selector_all("#dotplot g.role-axis-label text", "ts => ts.map(t => t.textContent)")
    return [float(t.rstrip("%").replace(".", "").replace(",", ".")) / 100 for t in labels if t.endswith("%")]


def test_the_axis_fits_the_values_not_the_widest_interval(site, browser):
    page, errors = _open(browser, f"{site}/?measure=absence_rate&level=municipality")
    api = page.request.get(f"{site}/v1/compare?measure=absence_rate&level=municipality").json()
    nat = api["national"]
    values = _axis_values(page)
    assert values and max(values) < 0.5 and nat["estimate"] < 0.2
    ranked = [a["shown"] for a in api["areas"] if a["ranked"]] + [nat["lower"], nat["upper"]]
    step = values[1] - values[0] if len(values) > 1 else 0
    assert min(values) - step <= min(ranked) and max(ranked) <= max(values) + step
    assert not errors, errors
    page.close()
