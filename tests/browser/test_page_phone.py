"""The page at phone width (390 px) and at desktop width (1400 px), docs/page.md "Phone": the
page body never scrolls sideways (document.scrollWidth equals the viewport's width), every
control is on screen and not covered (scrolled into view, the element at its centre is the
control), wide tables scroll inside their own box, and every chart's text lies inside its box.
Real Chromium against uvicorn on the pipeline's own release with three released weeks, in the
states a phone user meets: the start, a comparison of chosen areas with its table open, the
weekly table open, English, and the school level."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.browser import CHROMIUM
from support.page_ready import settled

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no /usr/bin/chromium")]

WIDTHS = (390, 1400)
VIEWS = {
    "start": "/",
    "compared": "/?measure=chronic_share&level=province&areas=province:PV27,province:PV28,province:PV20",
    "english_swv": "/?lang=en&measure=severe_count&level=swv",
    "schools": "/?level=school",
}

# Every control a user operates; each must be on screen and on top where it is shown.
CONTROLS = ("main select, main input, main button, main a.button, main summary, header button, "
            "#quick a, #method, .to-table a")

MEASURE = """() => {
  const vw = document.documentElement.clientWidth;
  const out = {vw, scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth,
               outside: [], covered: [], boxes: [], chart_text: []};
  const name = (el) => `${el.tagName.toLowerCase()}#${el.id}` + (el.textContent || el.value || '').trim().slice(0, 30);
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  // the first row of each table stands for the rest (the rows scroll inside their box)
  const firstRows = [...document.querySelectorAll('tbody tr:first-child input, tbody tr:first-child a')];
  const controls = [...document.querySelectorAll(%(controls)s), ...firstRows].filter(shown);
  for (const el of controls) {
    el.scrollIntoView({block: 'center', inline: 'center'});
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5 || r.width < 1 || r.height < 1) {
      out.outside.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)}`);
      continue;
    }
    const first = el.getClientRects()[0];       // a link wrapped over two lines: its first part
    const hit = document.elementFromPoint(first.left + first.width / 2, first.top + first.height / 2);
    if (!(hit === el || el.contains(hit) || (hit && hit.control === el) || (el.labels && [...el.labels].includes(hit))))
      out.covered.push(`${name(el)} under ${hit ? hit.tagName + '#' + hit.id : 'nothing'}`);
  }
  // wide tables and charts: their box inside the page; a table may scroll inside its box
  for (const box of document.querySelectorAll('.table-wrap, .chart, .panel, .cards')) {
    if (!shown(box)) continue;
    const r = box.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) out.boxes.push(`${box.className}#${box.id} ${Math.round(r.left)}..${Math.round(r.right)}`);
  }
  // every text of every chart inside the chart's box (a title running off the side is cut)
  for (const text of document.querySelectorAll('.chart svg text')) {
    if (!text.textContent.trim()) continue;
    const box = text.closest('.chart').getBoundingClientRect();
    const r = text.getBoundingClientRect();
    if (r.width && (r.left < box.left - 1 || r.right > box.right + 1))
      out.chart_text.push(`${text.closest('.chart').id}: ${text.textContent.slice(0, 40)} ${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(box.left)}..${Math.round(box.right)}`);
  }
  window.scrollTo(0, 0);
  return out;
}""" % {"controls": repr(CONTROLS)}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("view", list(VIEWS))
def test_the_page_fits_the_width_and_every_control_is_on_screen(site, browser, width, view):
    page = browser.new_page(viewport={"width": width, "height": 800})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + VIEWS[view])
    settled(page)
    for details in page.locator("main details").all():   # the tables under the charts, open
        details.evaluate("d => { d.open = true; }")
    page.wait_for_timeout(200)
    found = page.evaluate(MEASURE)
    page.close()
    assert not errors, errors
    assert found["vw"] == width
    assert found["scroll"] <= width and found["body"] <= width, found     # no sideways scroll
    assert not found["outside"], found["outside"]
    assert not found["covered"], found["covered"]
    assert not found["boxes"], found["boxes"]
    assert not found["chart_text"], found["chart_text"]


def test_at_phone_width_the_controls_stack_and_the_table_scrolls_in_its_box(site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(site + "/?measure=chronic_share&level=municipality")
    settled(page)
    layout = page.evaluate("""() => {
      const left = (id) => document.getElementById(id).getBoundingClientRect().left;
      const wrap = document.querySelector('#table-section .table-wrap');
      return {lefts: ['measure', 'level', 'sector'].map(left),
              tops: ['measure', 'level', 'sector'].map(id => document.getElementById(id).getBoundingClientRect().top),
              wrap: wrap.clientWidth, table: wrap.scrollWidth,
              columns: document.querySelectorAll('#areas thead th').length};
    }""")
    page.close()
    # one control under the other, at the same left edge
    assert max(layout["lefts"]) - min(layout["lefts"]) < 1, layout
    assert layout["tops"][0] < layout["tops"][1] < layout["tops"][2], layout
    # the table is wider than a phone and scrolls inside its own box, every column kept
    assert layout["table"] > layout["wrap"] and layout["columns"] == 9, layout
