"""A small area's weekly series is honest (docs/page.md, "Weekly series"): a week without an
estimate has no band (not a solid 0–100%) and the description says "too few pupils", never
"nan"; an area with no estimate in any week says so."""

from __future__ import annotations

import math

from service.weekly.chart import describe, series_chart

WEEKS = [{"week": 1, "estimate": 0.951, "lower": 0.94, "upper": 0.962},
         {"week": 2, "estimate": math.nan, "lower": 0.0, "upper": 1.0},
         {"week": 3, "estimate": None, "lower": 0.0, "upper": 1.0}]


def _values(spec: dict) -> list[dict]:
    source = spec.get("data") or spec["layer"][0]["data"]
    return source["values"] if "values" in source else spec["datasets"][source["name"]]


def test_weeks_without_estimate_have_no_band_and_say_why():
    spec = series_chart(WEEKS, "attendance_rate_4wk", "Vlieland", "rate", "nl")
    assert [row["week"] for row in _values(spec)] == [1]
    assert "In 2 van de 3 weken te weinig leerlingen voor een schatting." in spec["description"]
    assert "nan" not in spec["description"].lower()


def test_an_area_without_any_weekly_estimate_says_too_few_pupils():
    for lang, words in (("nl", "te weinig leerlingen voor een wekelijkse schatting"),
                        ("en", "too few pupils for a weekly estimate")):
        spec = series_chart(WEEKS[1:], "chronic_share_4wk", "Schiermonnikoog", "rate", lang)
        assert _values(spec) == [] and words in spec["description"]
        assert "nan" not in spec["description"].lower()
    assert "no published week" in describe([], "Attendance", "Utrecht", "rate", "en")


def test_the_national_series_is_drawn_for_reference_on_rates_only():
    national = [{"week": 1, "estimate": 0.948}, {"week": 2, "estimate": 0.941},
                {"week": 3, "estimate": None}]
    spec = series_chart(WEEKS, "attendance_rate_4wk", "Vlieland", "rate", "nl", national=national)
    line = next(layer for layer in spec["layer"] if layer.get("name") == "national_line")
    assert [r["week"] for r in line["data"]["values"]] == [1, 2]
    assert line["mark"]["strokeDash"] and spec["title"]["subtitle"] == "stippellijn: Nederland"
    assert "Nederland in week 2: 94,1%." in spec["description"]
    counts = series_chart(WEEKS, "new_long_term_ytd", "Vlieland", "pupils", "en", national=national)
    assert not any(layer.get("name") == "national_line" for layer in counts["layer"])
