"""Vega-Lite specs (built with Altair) for comparing areas: a ranked dot plot with 95%
intervals and the national line, a choropleth map whose opacity shows the interval width,
and the differences of a side-by-side comparison.

Every chart is built from the output of `service.compare.compare` — released values only —
so the specs are plain JSON that the page renders with the vendored vega-embed, and that a
notebook can render with Altair directly (``alt.Chart.from_dict(spec)``).

Colours: the Okabe–Ito hues (safe for the common colour-vision deficiencies), darkened where
needed so every mark has a contrast of at least 3:1 and every text 4.5:1 against the page
(WCAG 2.1, 1.4.3 and 1.4.11); status is also carried by the marker shape, so no meaning depends
on colour alone. Each spec has a ``description`` (service/compare/summary.py): its text
alternative, the SVG's accessible name. Marks are hidden from assistive technology
(``aria: false``): the table on the page holds the same numbers, one row per area.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from service.compare import summary
from service.compare.comparison import shown_interval

#: Okabe–Ito: vermillion darkened to #B34700 (5.1:1 on the page's panel; #D55E00 is 3.6:1,
#: too faint for text), blue (4.8:1), grey #767676 (4.2:1) for within the noise.
STATUS_COLOURS = {"higher": "#B34700", "lower": "#0072B2", "same": "#767676"}
#: Text and axis lines: near-black text, dark grey lines (≥ 6:1 on the panel).
INK, LINE = "#1b1b1b", "#595959"
STATUS_SHAPES = {"higher": "triangle-up", "lower": "triangle-down", "same": "circle"}
STATUS_LABELS = {
    "nl": {"higher": "hoger dan Nederland", "lower": "lager dan Nederland",
           "same": "verschil valt binnen de ruis"},
    "en": {"higher": "higher than the Netherlands", "lower": "lower than the Netherlands",
           "same": "difference within the noise"},
}
#: TopoJSON files (service/data/geo, served under /static/geo/) per level that has a map.
MAP_FILES = {"municipality": "gemeente_2025", "province": "provincie_2025",
             "rmc": "regionaalmeld_coordinatiepunt_2025",
             "residence": "gemeente_2025"}      # municipalities of residence: the same shapes
FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")
GEO_URL = "/static/geo/{name}.topojson"
ATTRIBUTION = "Bron grenzen: CBS / Kadaster, via PDOK (bewerkt: cartomap/nl), CC BY 4.0"
TEXT = {
    "nl": {"estimate": "schatting", "interval": "95%-interval", "area": "gebied", "code": "code",
           "national": "Nederland", "status": "vergeleken met Nederland",
           "width": "breedte 95%-interval", "difference": "verschil",
           "no_estimate": "geen schatting", "pair": "vergelijking"},
    "en": {"estimate": "estimate", "interval": "95% interval", "area": "area", "code": "code",
           "national": "the Netherlands", "status": "compared with the Netherlands",
           "width": "width of 95% interval", "difference": "difference",
           "no_estimate": "no estimate", "pair": "comparison"},
}


def _status(area: dict) -> str:
    status = summary.standing(area)
    return "same" if status == summary.NOT_COMPARED else status


def _axis_format(comparison: dict) -> str:
    return ",.0f" if comparison["measure"]["unit"] == "pupils" else ".1%"


def _rows(comparison: dict, lang: str) -> list[dict[str, Any]]:
    rows = []
    for area in comparison["areas"]:
        if area["estimate"] is None:
            continue
        status = _status(area)
        # what people read: the shown value, a count's interval cut at 0 pupils
        lower, upper = shown_interval(area["lower"], area["upper"], comparison["measure"]["unit"])
        rows.append({"code": area["code"], "name": area["name"],
                     "estimate": area.get("shown", area["estimate"]),
                     "lower": lower, "upper": upper, "rank": area["rank"],
                     "status": STATUS_LABELS[lang][status], "interval": area["text"][lang],
                     "width": upper - lower, "ranked": area.get("ranked", True)})
    return rows


def _title(comparison: dict, lang: str) -> str:
    return comparison["measure"]["label"][lang]


def dot_plot(comparison: dict, lang: str = "nl") -> dict:
    """Ranked dot plot: one point per area with its 95% interval bar; the national value as
    a line with its interval as a band (rates and shares only: a national count is not on
    the scale of an area's). Points are coloured only where the interval of the difference
    with the national value excludes 0."""
    t = TEXT[lang]
    rows = [r for r in _rows(comparison, lang) if r["ranked"]]   # too uncertain: table only
    fmt = _axis_format(comparison)
    step = 14 if len(rows) > 40 else 22
    domain = _fitted_domain(comparison, rows)
    labels = STATUS_LABELS[lang]
    colour = alt.Color("status:N", title=t["status"],
                       scale=alt.Scale(domain=[labels[s] for s in STATUS_COLOURS],
                                       range=list(STATUS_COLOURS.values())),
                       legend=alt.Legend(orient="top", direction="vertical"))
    shape = alt.Shape("status:N", scale=alt.Scale(domain=[labels[s] for s in STATUS_SHAPES],
                                                  range=list(STATUS_SHAPES.values())), title=t["status"])
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y("name:N", sort=alt.EncodingSortField("rank", order="ascending"), title=None,
                axis=alt.Axis(labelLimit=180)))
    tooltip = [alt.Tooltip("name:N", title=t["area"]), alt.Tooltip("code:N", title=t["code"]),
               alt.Tooltip("estimate:Q", title=t["estimate"], format=fmt),
               alt.Tooltip("interval:N", title=t["interval"]),
               alt.Tooltip("status:N", title=t["status"])]
    bars = base.mark_rule(strokeWidth=2, clip=True).encode(
        x=alt.X("lower:Q", title=f"{_title(comparison, lang)} ({t['estimate']}, {t['interval']})",
                axis=alt.Axis(format=fmt, orient="top"), scale=alt.Scale(domain=domain, nice=False)),
        x2="upper:Q", color=colour)
    points = base.mark_point(filled=True, size=60, opacity=1).encode(
        x="estimate:Q", color=colour, shape=shape, tooltip=tooltip).properties(name="area_points")
    layers = [bars, points]
    national = comparison["national"]
    if comparison["measure"]["unit"] != "pupils" and national["estimate"] is not None:
        nat = alt.Chart(alt.Data(values=[{"estimate": national["estimate"], "lower": national["lower"],
                                          "upper": national["upper"], "label": t["national"],
                                          "interval": national["text"][lang]}]))
        nat_tip = [alt.Tooltip("label:N", title=t["area"]),
                   alt.Tooltip("estimate:Q", title=t["estimate"], format=fmt),
                   alt.Tooltip("interval:N", title=t["interval"])]
        layers = [nat.mark_rect(color="#000000", opacity=0.08, clip=True).encode(x="lower:Q", x2="upper:Q"),
                  nat.mark_rule(color="#000000", strokeDash=[4, 3], strokeWidth=1.5).encode(
                      x="estimate:Q", tooltip=nat_tip).properties(name="national_line"),
                  *layers]
    chart = alt.layer(*layers).properties(
        width="container", height=alt.Step(step), autosize=FIT_X,
        title=alt.Title(_title(comparison, lang), subtitle=_subtitle(comparison, lang),
                        anchor="start"))
    return _finish(chart, lang, summary.ranking(comparison, lang))


def _fitted_domain(comparison: dict, rows: list[dict]) -> list[float]:
    """The axis fits the ranked estimates and the national interval (not 0–100% because one
    small area's interval is that wide): their span plus 8% each side, never below 0 nor (for
    rates and shares) above 100%. Intervals reaching beyond it are cut at the edge; the table
    has them whole."""
    percent = comparison["measure"]["unit"] != "pupils"
    values = [r["estimate"] for r in rows]
    national = comparison["national"]
    if percent and national.get("estimate") is not None:
        values += [national["lower"], national["upper"]]
    if not values:
        return [0.0, 1.0] if percent else [0.0, 1.0]
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.08, 0.002 if percent else 1.0)
    lo, hi = max(lo - pad, 0.0), hi + pad
    return [lo, min(hi, 1.0) if percent else hi]


def _subtitle(comparison: dict, lang: str) -> list[str]:
    """The subtitle's lines: how to read the ranking, and how many areas are not ranked."""
    n = comparison["national"]
    nl = lang == "nl"
    if comparison["measure"]["unit"] == "pupils":
        lines = ["rang 1 = hoogste; met 95%-intervallen" if nl else "rank 1 = highest; with 95% intervals"]
    else:
        lines = [f"rang 1 = hoogste; stippellijn: Nederland ({n['text']['nl']})" if nl else
                 f"rank 1 = highest; dashed line: the Netherlands ({n['text']['en']})"]
    areas = comparison["areas"]
    none = sum(1 for a in areas if a.get("unranked") == "no_estimate")
    unsure = sum(1 for a in areas if a.get("unranked") == "too_uncertain")
    if none or unsure:
        lines.append(f"niet gerangschikt (zie de tabel): {unsure} te onzeker, {none} zonder schatting"
                     if nl else f"not ranked (see the table): {unsure} too uncertain, {none} without estimate")
    lines.append("intervallen die buiten de as lopen zijn afgekapt" if nl else
                 "intervals running off the axis are cut at its edge")
    return lines


def choropleth(comparison: dict, lang: str = "nl") -> dict:
    """Map of the areas' estimates on the real 2025 boundaries; opacity falls as the 95%
    interval widens, so an uncertain area looks faint. Shown next to the dot plot, never
    alone (the page does that)."""
    level = comparison["level"]
    if level not in MAP_FILES:
        raise ValueError(f"no boundaries for level {level}")
    t = TEXT[lang]
    fmt = _axis_format(comparison)
    name = MAP_FILES[level]
    rows = _rows(comparison, lang)
    widths = sorted(r["width"] for r in rows) or [0.0]
    wide = widths[int(0.95 * (len(widths) - 1))] or 1.0
    estimates = sorted(r["estimate"] for r in rows) or [0.0]
    domain = [estimates[int(0.02 * (len(estimates) - 1))], estimates[int(0.98 * (len(estimates) - 1))]]
    lookup = alt.LookupData(alt.Data(values=rows), key="code",
                            fields=["name", "estimate", "interval", "width", "status"])
    shapes = alt.Chart(alt.topo_feature(GEO_URL.format(name=name), name))
    outline = shapes.mark_geoshape(fill="#e4e4e4", stroke="#ffffff", strokeWidth=0.4).properties(
        name="area_outline")
    values = shapes.mark_geoshape(stroke="#ffffff", strokeWidth=0.4).transform_lookup(
        lookup="properties.statcode", from_=lookup, default=None).transform_filter(
        "isValid(datum.estimate)").encode(
        color=alt.Color("estimate:Q", title=t["estimate"],
                        scale=alt.Scale(scheme="viridis", reverse=True, domain=domain, clamp=True),
                        legend=alt.Legend(format=fmt, orient="bottom", gradientLength=160)),
        opacity=alt.Opacity("width:Q", title=t["width"],
                            scale=alt.Scale(domain=[0, wide], range=[1.0, 0.35], clamp=True),
                            legend=alt.Legend(format=fmt, orient="bottom", tickCount=3)),
        tooltip=[alt.Tooltip("name:N", title=t["area"]),
                 alt.Tooltip("properties.statcode:N", title=t["code"]),
                 alt.Tooltip("estimate:Q", title=t["estimate"], format=fmt),
                 alt.Tooltip("interval:N", title=t["interval"]),
                 alt.Tooltip("status:N", title=t["status"])],
    ).properties(name="area_shapes")
    chart = alt.layer(outline, values).project(type="mercator").properties(
        width="container", height=420,
        title=alt.Title(_title(comparison, lang), subtitle=ATTRIBUTION, anchor="start",
                        subtitleFontSize=11))
    return _finish(chart, lang, summary.ranking(comparison, lang, chart="map"))


def differences(comparison: dict, lang: str = "nl") -> dict:
    """The differences of a side-by-side comparison with their 95% intervals and a zero
    line; coloured where the interval excludes 0."""
    t = TEXT[lang]
    names = {f"{a['level']}:{a['code']}": a["name"] for a in comparison["areas"]}
    # rates and shares: differences in percentage points (×100, "procentpunt"), not "%"
    scale = 1.0 if comparison["measure"]["unit"] == "pupils" else 100.0
    rows = [{"pair": f"{names[d['a']]} − {names[d['b']]}", "difference": d["difference"] * scale,
             "lower": d["lower"] * scale, "upper": d["upper"] * scale, "text": d["text"][lang],
             "status": "higher" if d["distinguishable"] and d["difference"] > 0 else
             "lower" if d["distinguishable"] else "same"}
            for d in comparison["differences"] if d["difference"] is not None]
    fmt = ",.0f" if scale == 1.0 else "+.1f"
    unit_words = {"nl": "leerlingen" if scale == 1.0 else "procentpunt",
                  "en": "pupils" if scale == 1.0 else "percentage points"}[lang]
    colour = alt.Color("status:N", scale=alt.Scale(domain=list(STATUS_COLOURS),
                                                   range=list(STATUS_COLOURS.values())), legend=None)
    base = alt.Chart(alt.Data(values=rows)).encode(y=alt.Y("pair:N", title=None, sort=None,
                                                           axis=alt.Axis(labelLimit=260)))
    shape = alt.Shape("status:N", scale=alt.Scale(domain=list(STATUS_SHAPES),
                                                  range=list(STATUS_SHAPES.values())), legend=None)
    zero = alt.Chart(alt.Data(values=[{"zero": 0}])).mark_rule(color="#000000").encode(x="zero:Q")
    chart = alt.layer(
        zero,
        base.mark_rule(strokeWidth=2).encode(
            x=alt.X("lower:Q", title=f"{t['difference']} ({unit_words}, {t['interval']})",
                    axis=alt.Axis(format=fmt)), x2="upper:Q", color=colour),
        base.mark_point(filled=True, size=70, opacity=1).encode(
            x="difference:Q", color=colour, shape=shape,
            tooltip=[alt.Tooltip("pair:N", title=t["pair"]), alt.Tooltip("text:N", title=" ")],
        ).properties(name="difference_points"),
    ).properties(width="container", height=alt.Step(26), autosize=FIT_X,
                 title=alt.Title(_title(comparison, lang), anchor="start"))
    return _finish(chart, lang, summary.differences(comparison, lang))


def _finish(chart: alt.TopLevelMixin, lang: str, description: str) -> dict:
    """Shared look (text and lines dark enough for WCAG AA), the text alternative, and marks
    hidden from assistive technology (the page's table holds their numbers)."""
    # configure() replaces the whole config, so it comes first
    spec = chart.configure(aria=False).configure_view(stroke=None).configure_axis(
        labelFontSize=11, titleFontSize=12, labelColor=INK, titleColor=INK, domainColor=LINE,
        tickColor=LINE).configure_legend(labelColor=INK, titleColor=INK, labelFontSize=11,
                                         titleFontSize=12).configure_title(
        fontSize=14, color=INK, subtitleColor=INK).configure_mark(aria=False).to_dict()
    spec["description"] = description
    spec["usermeta"] = {"lang": lang}
    return spec
