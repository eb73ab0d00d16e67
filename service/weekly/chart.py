"""Vega-Lite spec (Altair) for the weekly early-signal series of one area: the released weekly
estimate as a line with its 95% interval as a band. Released (noisy) values only.

Accessibility (WCAG 2.1 AA): the spec's ``description`` is the chart's text alternative (the
weeks shown, the latest value with its interval, the highest and lowest week); marks are
hidden from assistive technology, since the page gives the same numbers as a table; text is
near-black and the line blue #0072B2 (4.8:1 on the page's panel)."""

from __future__ import annotations

import json
from typing import Any

import altair as alt

#: Near-black text and dark grey axis lines (≥ 6:1 on the page's panel).
INK, LINE = "#1b1b1b", "#595959"

LABELS = {
    "nl": {"week": "schoolweek", "dated_week": "schoolweek (eerste schooldag)", "dates": "dagen",
           "estimate": "schatting", "interval": "95%-interval",
           "title": "{measure}: {area} per week (band: 95%-interval)",
           "none": "{measure}: {area}, nog geen gepubliceerde week met een schatting.",
           "too_few": "{measure}: {area}: te weinig leerlingen voor een wekelijkse schatting in de "
                      "gepubliceerde weken.",
           "missing": "In {k} van de {n} weken te weinig leerlingen voor een schatting.",
           "shown": "{measure}: {area}, {n} gepubliceerde weken (week {first} tot {last}).",
           "latest": "Laatste week {week}: {estimate} (95%-interval {lower} tot {upper}).",
           "range": "Hoogste: week {high} ({high_value}); laagste: week {low} ({low_value}).",
           "table": "De tabel bij de grafiek geeft elke week."},
    "en": {"week": "school week", "dated_week": "school week (first school day)", "dates": "days",
           "estimate": "estimate", "interval": "95% interval",
           "title": "{measure}: {area} by week (band: 95% interval)",
           "none": "{measure}: {area}, no published week with an estimate yet.",
           "too_few": "{measure}: {area}: too few pupils for a weekly estimate in the published weeks.",
           "missing": "In {k} of the {n} weeks too few pupils for an estimate.",
           "shown": "{measure}: {area}, {n} published weeks (week {first} to {last}).",
           "latest": "Latest week {week}: {estimate} (95% interval {lower} to {upper}).",
           "range": "Highest: week {high} ({high_value}); lowest: week {low} ({low_value}).",
           "table": "The table with the chart gives every week."},
}
#: Names of the weekly measures for people (nl, en); the API's own name where none is given.
MEASURE_LABELS = {
    "attendance_rate_week": ("Aanwezigheid, deze week", "Attendance, this week"),
    "attendance_rate_4wk": ("Aanwezigheid, laatste 4 weken", "Attendance, last 4 weeks"),
    "attendance_rate_ytd": ("Aanwezigheid, schooljaar tot nu", "Attendance, school year so far"),
    "pupils_week": ("Leerlingen, deze week", "Pupils, this week"),
    "chronic_pupils_week": ("Leerlingen met veel verzuim, deze week",
                            "Pupils with much absence, this week"),
    "chronic_share_week": ("Aandeel met veel verzuim, deze week", "Share with much absence, this week"),
    "chronic_share_4wk": ("Aandeel met veel verzuim, laatste 4 weken",
                          "Share with much absence, last 4 weeks"),
    "new_long_term_week": ("Nieuw langdurig verzuim, deze week", "New long-term absence, this week"),
    "new_long_term_ytd": ("Nieuw langdurig verzuim, schooljaar tot nu",
                          "New long-term absence, school year so far"),
}


#: Month abbreviations for the dates of a school week (the page's table uses the same: series.js).
MONTHS = {"nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
          "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")}


def day_text(day, lang: str) -> str:
    """"1 sep" / "1 Sep"."""
    return f"{day.day} {MONTHS['en' if lang == 'en' else 'nl'][day.month - 1]}"


def week_dates_text(first, last, lang: str) -> str:
    """A school week's days: "1–5 sep", "29 sep – 3 okt", "18 aug – 5 sep" (the country: its
    holiday regions start on different dates); "" without dates."""
    if first is None or last is None:
        return ""
    if first == last:
        return day_text(first, lang)
    if first.month == last.month:
        return f"{first.day}\u2013{day_text(last, lang)}"
    return f"{day_text(first, lang)} \u2013 {day_text(last, lang)}"


def measure_label(measure: str, lang: str) -> str:
    names = MEASURE_LABELS.get(measure)
    return measure.replace("_", " ") if names is None else names[1 if lang == "en" else 0]


def _number(value: float, unit: str, lang: str) -> str:
    if unit == "pupils":
        text = f"{value:,.0f}"
        return text.replace(",", ".") if lang == "nl" else text
    text = f"{value * 100:.1f}"
    return (text.replace(".", ",") if lang == "nl" else text) + "%"


def describe(rows: list[dict], measure: str, area_name: str, unit: str, lang: str = "nl") -> str:
    """The text alternative of the series chart."""
    text = LABELS["en" if lang == "en" else "nl"]
    lang = "en" if lang == "en" else "nl"
    shown = [r for r in rows if r.get("estimate") is not None and r["estimate"] == r["estimate"]]
    if not shown:
        return text["too_few" if rows else "none"].format(measure=measure, area=area_name)
    missing = len(rows) - len(shown)
    last = shown[-1]
    high = max(shown, key=lambda r: r["estimate"])
    low = min(shown, key=lambda r: r["estimate"])
    return " ".join([
        text["shown"].format(measure=measure, area=area_name, n=len(shown),
                             first=shown[0]["week"], last=last["week"]),
        text["latest"].format(week=last["week"], estimate=_number(last["estimate"], unit, lang),
                              lower=_number(last["lower"], unit, lang),
                              upper=_number(last["upper"], unit, lang)),
        text["range"].format(high=high["week"], high_value=_number(high["estimate"], unit, lang),
                             low=low["week"], low_value=_number(low["estimate"], unit, lang)),
        *([text["missing"].format(k=missing, n=len(rows))] if missing else []),
        text["table"]])


def series_chart(points: list[dict], measure: str, area_name: str, unit: str,
                 lang: str = "nl", national: list[dict] | None = None) -> dict[str, Any]:
    """A line with an interval band per released week; with `national` (the country's series
    of the same measure, rates and shares only) a dashed grey line for reference."""
    text = LABELS["en" if lang == "en" else "nl"]
    measure = measure_label(measure, lang)
    def known(value) -> bool:
        return value is not None and value == value

    # a week without an estimate (too few pupils) has no band either: not a solid 0–100%
    everything = [{"week": p["week"], "estimate": p["estimate"], "lower": p["lower"], "upper": p["upper"],
                   "dates": week_dates_text(p.get("first_day"), p.get("last_day"), lang)}
                  for p in points]
    rows = [r for r in everything if known(r["estimate"]) and known(r["lower"]) and known(r["upper"])]
    fmt = ",.0f" if unit == "pupils" else ".1%"
    # school weeks start on different dates per holiday region: each tick says the week and
    # the area's first school day of it (the table and the tooltip give its days)
    firsts = {p["week"]: day_text(p["first_day"], lang) for p in points if p.get("first_day")}
    if firsts:
        days = [firsts.get(w, "") for w in range(max(firsts) + 1)]
        axis = alt.Axis(tickMinStep=1, format="d", labelExpr=(
            f"['week ' + datum.value, "
            f"({json.dumps(days)})[datum.value] || '']"))
    else:
        axis = alt.Axis(tickMinStep=1, format="d")
    week_tip = [alt.Tooltip("week:Q", title=text["week"]), alt.Tooltip("dates:N", title=text["dates"])]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("week:Q", title=text["dated_week" if firsts else "week"], axis=axis))
    band = base.mark_area(opacity=0.3, color="#0072B2").encode(
        # the axis fits the data (a 0–100% axis flattens a series around 94% into a line)
        y=alt.Y("lower:Q", title=text["estimate"], axis=alt.Axis(format=fmt),
                scale=alt.Scale(zero=False, nice=True)), y2="upper:Q",
        tooltip=[*week_tip,
                 alt.Tooltip("lower:Q", title=text["interval"] + " ↓", format=fmt),
                 alt.Tooltip("upper:Q", title=text["interval"] + " ↑", format=fmt)])
    line = base.mark_line(point=True, color="#0072B2").encode(
        y=alt.Y("estimate:Q"),
        tooltip=[*week_tip, alt.Tooltip("estimate:Q", title=text["estimate"], format=fmt)])
    layers = [band.properties(name="series_band"), line.properties(name="series_line")]
    reference = [{"week": p["week"], "national": p["estimate"]} for p in (national or [])
                 if known(p.get("estimate"))] if unit != "pupils" else []
    if reference:
        label = "Nederland" if lang != "en" else "the Netherlands"
        layers.append(alt.Chart(alt.Data(values=reference)).mark_line(
            color=LINE, strokeDash=[4, 3], strokeWidth=1.5).encode(
            x="week:Q", y="national:Q",
            tooltip=[alt.Tooltip("week:Q", title=text["week"]),
                     alt.Tooltip("national:Q", title=label, format=fmt)]).properties(name="national_line"))
    subtitle = ({"nl": "stippellijn: Nederland", "en": "dashed line: the Netherlands"}["en" if lang == "en" else "nl"]
                if reference else None)
    chart = alt.layer(*layers).properties(
        width="container", height=220,
        title=alt.Title(text["title"].format(measure=measure, area=area_name),
                        **({"subtitle": subtitle} if subtitle else {})))
    # configure() replaces the whole config, so it comes first
    spec = chart.configure(aria=False).configure_axis(labelColor=INK, titleColor=INK, domainColor=LINE, tickColor=LINE,
                                labelFontSize=11, titleFontSize=12).configure_title(
        color=INK, subtitleColor=INK).configure_mark(aria=False).to_dict()
    spec["description"] = describe(everything, measure, area_name, unit, lang)
    if reference:
        last = reference[-1]
        spec["description"] += " " + (
            f"Nederland in week {last['week']}: {_number(last['national'], unit, 'nl')}." if lang != "en" else
            f"The Netherlands in week {last['week']}: {_number(last['national'], unit, 'en')}.")
    return spec
