"""Vega-Lite spec (Altair) for the weekly early-signal series of one area: the released weekly
estimate as a line with its 95% interval as a band. Released (noisy) values only."""

from __future__ import annotations

from typing import Any

import altair as alt

LABELS = {
    "nl": {"week": "schoolweek", "estimate": "schatting", "interval": "95%-interval",
           "title": "{measure}: {area} per week (band: 95%-interval)"},
    "en": {"week": "school week", "estimate": "estimate", "interval": "95% interval",
           "title": "{measure}: {area} by week (band: 95% interval)"},
}


def series_chart(points: list[dict], measure: str, area_name: str, unit: str,
                 lang: str = "nl") -> dict[str, Any]:
    """A line with an interval band per released week."""
    text = LABELS["en" if lang == "en" else "nl"]
    rows = [{"week": p["week"], "estimate": p["estimate"], "lower": p["lower"], "upper": p["upper"]}
            for p in points if p.get("lower") is not None and p.get("upper") is not None]
    fmt = ",.0f" if unit == "pupils" else ".1%"
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("week:Q", title=text["week"], axis=alt.Axis(tickMinStep=1, format="d")))
    band = base.mark_area(opacity=0.3, color="#0072B2").encode(
        # the axis fits the data (a 0–100% axis flattens a series around 94% into a line)
        y=alt.Y("lower:Q", title=text["estimate"], axis=alt.Axis(format=fmt),
                scale=alt.Scale(zero=False, nice=True)), y2="upper:Q",
        tooltip=[alt.Tooltip("week:Q", title=text["week"]),
                 alt.Tooltip("lower:Q", title=text["interval"] + " ↓", format=fmt),
                 alt.Tooltip("upper:Q", title=text["interval"] + " ↑", format=fmt)])
    line = base.mark_line(point=True, color="#0072B2").encode(
        y=alt.Y("estimate:Q"),
        tooltip=[alt.Tooltip("week:Q", title=text["week"]),
                 alt.Tooltip("estimate:Q", title=text["estimate"], format=fmt)])
    chart = alt.layer(band.properties(name="series_band"), line.properties(name="series_line")).properties(
        width="container", height=220,
        title=text["title"].format(measure=measure, area=area_name))
    return chart.to_dict()
