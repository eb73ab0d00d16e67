"""The charts' own accessibility (WCAG 2.1 AA), on the specs: every text colour has a contrast
of at least 4.5:1 and every data mark 3:1 against the page's panel; status is carried by shape
as well as colour; the marks are hidden from assistive technology; and each spec's
description — its text alternative — names the measure and level, the highest and lowest
areas and how many differ from the country, with numbers equal to the comparison's."""

from __future__ import annotations

import pytest

from service.api.routes.page import static_files
from service.compare import charts, summary
from service.compare import comparison as compare
from service.db import connect
from service.weekly.chart import describe, series_chart
from support.compare_data import make_database

PANEL = "#f6f6f4"           # the page's panel behind every chart (service/static/style.css)
TEXT_KEYS = {"labelColor", "titleColor", "subtitleColor"}
LINE_KEYS = {"domainColor", "tickColor"}
#: Colours that carry no data and are allowed to be faint: the national interval band (its
#: numbers are in the subtitle), map areas without an estimate and the boundary lines (the
#: map is never the only way to read a value: the summary and the table give them).
DECORATION = {("rect", "#000000"), ("geoshape", "#e4e4e4"), ("geoshape", "#ffffff")}


def contrast(a: str, b: str) -> float:
    def lum(colour: str) -> float:
        c = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _colours(spec: dict):
    """(kind, key, colour) for every colour in the spec: config, marks and colour scales."""
    for key, value in spec.get("config", {}).get("axis", {}).items():
        if key in TEXT_KEYS | LINE_KEYS:
            yield "axis", key, value
    for part in ("legend", "title"):
        for key, value in spec.get("config", {}).get(part, {}).items():
            if key in TEXT_KEYS or key == "color":
                yield part, "labelColor" if key == "color" else key, value
    for layer in spec.get("layer", [spec]):
        mark = layer.get("mark", {})
        mark = {"type": mark} if isinstance(mark, str) else mark
        for key in ("color", "fill", "stroke"):
            if isinstance(mark.get(key), str):
                yield mark["type"], "mark", mark[key].lower()
        colour = layer.get("encoding", {}).get("color", {})
        for value in colour.get("scale", {}).get("range", []) or []:
            yield mark["type"], "mark", value.lower()


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    settings, _ = make_database(tmp_path_factory.mktemp("a11y") / "c.duckdb")
    con = connect(settings.db)
    yield compare.load_release(con), compare.register_structure(con)
    con.close()


def _specs(released):
    rel, structure = released
    level = compare.compare(rel, "absence_rate", level="municipality")
    pair = compare.compare(rel, "absence_rate", areas=[("municipality", "GM0363"),
                                                       ("municipality", "GM0014")],
                           structure=structure)
    points = [{"week": w, "estimate": 0.95 - w / 100, "lower": 0.93 - w / 100,
               "upper": 0.97 - w / 100} for w in (1, 2, 3)]
    for lang in ("nl", "en"):
        yield f"dot plot {lang}", charts.dot_plot(level, lang)
        yield f"map {lang}", charts.choropleth(level, lang)
        yield f"differences {lang}", charts.differences(pair, lang)
        yield f"weekly {lang}", series_chart(points, "attendance_rate_4wk", "Nederland", "rate", lang)


def test_every_text_and_mark_colour_is_contrasted_enough(released):
    checked = 0
    for name, spec in _specs(released):
        assert spec["config"]["mark"]["aria"] is False and spec["config"]["aria"] is False, name
        for kind, key, colour in _colours(spec):
            if (kind, colour) in DECORATION:
                continue
            need = 4.5 if key in TEXT_KEYS else 3.0
            assert contrast(colour, PANEL) >= need, (name, kind, key, colour)
            checked += 1
    assert checked > 60


def test_status_colours_serve_as_marks_and_as_the_tables_text():
    """The chart's status colours are the table's verdict colours (style.css), text on white:
    4.5:1 there, 3:1 as marks on the panel. Okabe–Ito's own #D55E00 fails as text (3.9:1)."""
    assert contrast("#D55E00", "#ffffff") < 4.5
    for colour in charts.STATUS_COLOURS.values():
        assert contrast(colour, PANEL) >= 3.0 and contrast(colour, "#ffffff") >= 4.5
    css = static_files()["style.css"][0].decode()
    for status in ("higher", "lower"):
        assert f"--{status}: {charts.STATUS_COLOURS[status]};" in css


def test_status_is_shape_as_well_as_colour(released):
    for name, spec in _specs(released):
        if name.startswith(("dot plot", "differences")):
            points = next(layer for layer in spec["layer"] if layer.get("name", "").endswith("_points"))
            shape = points["encoding"]["shape"]
            assert shape["field"] == points["encoding"]["color"]["field"] == "status", name
            assert len(set(shape["scale"]["range"])) == 3


def test_descriptions_say_what_the_chart_shows(released):
    rel, structure = released
    comparison = compare.compare(rel, "absence_rate", level="municipality")
    known = [a for a in comparison["areas"] if a["estimate"] is not None]
    top = max(known, key=lambda a: a["estimate"])
    bottom = min(known, key=lambda a: a["estimate"])
    standing = [summary.standing(a) for a in known]
    for lang, words in (("nl", ("per gemeente", "hoger", "lager", "binnen de ruis")),
                        ("en", ("by municipality", "higher", "lower", "within the noise"))):
        text = charts.dot_plot(comparison, lang)["description"]
        assert text.startswith(comparison["measure"]["label"][lang] + " " + words[0])
        assert top["name"] in text and bottom["name"] in text
        assert summary.number(top["estimate"], "rate", lang) in text
        assert (f"{standing.count('higher')} {words[1]}, {standing.count('lower')} {words[2]}"
                in text)
        assert f"{standing.count('same')} {words[3]}" in text
        assert standing.count("higher") + standing.count("lower") > 0
        assert charts.choropleth(comparison, lang)["description"] != text
    # counts are not compared with the country, and the text says so
    counts = charts.dot_plot(compare.compare(rel, "enrolled", level="province"), "en")
    assert "not compared" in counts["description"]
    # a pair within the noise and a pair beyond it
    pair = compare.compare(rel, "absence_rate", areas=[("municipality", "GM0363"),
                                                       ("municipality", "GM0599"),
                                                       ("municipality", "GM0014")],
                           structure=structure)
    beyond = sum(d["distinguishable"] for d in pair["differences"])
    assert 0 < beyond < 3
    assert f"{beyond} of the 3 differences" in charts.differences(pair, "en")["description"]


def test_weekly_description_gives_the_latest_week_and_the_range():
    points = [{"week": 1, "estimate": 0.951, "lower": 0.94, "upper": 0.962},
              {"week": 2, "estimate": 0.932, "lower": 0.92, "upper": 0.944},
              {"week": 3, "estimate": None, "lower": None, "upper": None}]
    text = describe(points, "Aanwezigheid", "Utrecht", "rate", "nl")
    assert "2 gepubliceerde weken (week 1 tot 2)" in text
    assert "Laatste week 2: 93,2% (95%-interval 92,0% tot 94,4%)" in text
    assert "Hoogste: week 1 (95,1%); laagste: week 2 (93,2%)" in text
    assert "no published week" in describe([], "Attendance", "Utrecht", "rate", "en")
    spec = series_chart(points[:2], "attendance_rate_4wk", "Utrecht", "rate", "en")
    assert spec["description"].startswith("Attendance, last 4 weeks: Utrecht")
