"""Dates on the weekly axis (docs/page.md, "Weekly series"): school weeks start on different
dates per holiday region (week 1 of 2025-2026: zuid 18 August, noord 25 August, midden
1 September), so the weekly chart's axis and its table give each week the area's own school
days, read from the public calendar of the holiday regions of the area's schools. The truth
here is the calendar module itself (`service.register.calendar`), not the SQL that serves it.
Real Chromium against uvicorn on the pipeline's own release with three released weeks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from support.browser import CHROMIUM
from support.page_ready import settled

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]

YEAR = "2025-2026"
MONTHS = {"nl": "jan feb mrt apr mei jun jul aug sep okt nov dec".split(),
          "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()}


def _expected(regions: set[str], lang: str) -> dict[int, tuple[str, str]]:
    """Week → (first day, the week's days as the page words them), from the calendar."""
    from service.register.calendar import calendar_frame
    days = calendar_frame(YEAR)
    days = days[days["holiday_region"].isin(regions)]
    out = {}
    for week, group in days.groupby("week_index"):
        a, b = min(group["day"]), max(group["day"])
        m = MONTHS[lang]
        first = f"{a.day} {m[a.month - 1]}"
        if a == b:
            words = first
        elif a.month == b.month:
            words = f"{a.day}\u2013{b.day} {m[b.month - 1]}"
        else:
            words = f"{first} \u2013 {b.day} {m[b.month - 1]}"
        out[int(week)] = (first, words)
    return out


def _regions(con, column: str | None, code: str) -> set[str]:
    if column is None:
        return {"noord", "midden", "zuid"}
    return {r[0] for r in con.execute(f"SELECT DISTINCT holiday_region FROM school WHERE {column} = ?",
                                      [code]).fetchall()}


def _one_region_municipalities(con) -> dict[str, str]:
    """A municipality whose schools all lie in one holiday region, per region."""
    rows = con.execute("SELECT municipality_code, min(holiday_region) FROM school GROUP BY 1 "
                       "HAVING count(DISTINCT holiday_region) = 1 ORDER BY 1").fetchall()
    out = {}
    for code, region in rows:
        out.setdefault(region, code)
    return out


def _shown(page) -> dict:
    return page.evaluate("""() => ({
      rows: [...document.querySelectorAll('#series-table tbody th')].map(th => th.textContent),
      ticks: [...document.querySelectorAll('#series svg text')].map(t => [...t.querySelectorAll('tspan')]
                .map(s => s.textContent)).filter(lines => lines.length === 2 && lines[0].startsWith('week ')),
    })""")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_each_week_shows_the_areas_own_school_days(site, browser, synthetic_weeks, lang):
    con, _ = synthetic_weeks
    by_region = _one_region_municipalities(con)
    assert {"noord", "zuid"} <= set(by_region), by_region
    views = {("country", "NL"): None, ("municipality", by_region["zuid"]): "municipality_code",
             ("municipality", by_region["noord"]): "municipality_code",
             ("province", "PV30"): "province_code"}
    first_weeks = {}
    for (level, code), column in views.items():
        expected = _expected(_regions(con, column, code), lang)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{site}/?lang={lang}&level={'municipality' if level == 'country' else level}"
                  f"&warea={level}:{code}")
        settled(page)
        shown = _shown(page)
        # the same weeks as the API, with their dates
        api = page.evaluate(f"""async () => (await (await fetch(
            '/v1/weekly/{YEAR}/series?measure=attendance_rate_4wk&level={level}&area={code}')).json()).data""")
        page.close()
        assert [int(r.split(" ")[0]) for r in shown["rows"]] == [p["week"] for p in api] == [1, 2, 3]
        for row, point in zip(shown["rows"], api):
            week = point["week"]
            assert row == f"{week} ({expected[week][1]})", (level, code, row, expected[week])
            assert pd.Timestamp(point["first_day"]).strftime("%-d") == expected[week][0].split(" ")[0]
        # every tick of the chart names a week and that week's first school day in the area
        for label, day in shown["ticks"]:
            assert day == expected[int(label.split(" ")[1])][0], (level, code, label, day)
        first_weeks[(level, code)] = shown["rows"][0]
    # week 1 differs between the holiday regions: zuid starts a week before noord
    assert first_weeks[("municipality", by_region["zuid"])] != first_weeks[("municipality", by_region["noord"])]
    assert first_weeks[("country", "NL")].startswith("1 (18 ")


def test_the_country_chart_has_dated_ticks(site, browser):
    """Where the chart has estimates (the country), its axis carries dates (not only numbers)."""
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{site}/?warea=country:NL")
    settled(page)
    shown = _shown(page)
    page.close()
    assert shown["ticks"] and all(day for _, day in shown["ticks"]), shown
