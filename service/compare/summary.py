"""Text alternatives of the compare charts (WCAG 2.1, 1.1.1): one paragraph per chart saying
what it shows — the measure and level, the highest and lowest areas, and how many areas
differ from the country beyond the noise — in Dutch and English.

The charts put it in their Vega-Lite ``description`` (the SVG's accessible name in a
notebook), and the page shows it under each chart and links it to the chart. Built from the
comparison alone (released values), like the charts themselves.
"""

from __future__ import annotations

from service.compare.comparison import LEVELS

#: How an area stands against the country: the key the page and charts use.
HIGHER, LOWER, SAME, NOT_COMPARED = "higher", "lower", "same", "not_compared"


def standing(area: dict) -> str:
    """higher / lower (the interval of the difference with the country excludes 0), same
    (it does not), not_compared (counts, or no estimate)."""
    vs = area.get("vs_national")
    if not vs or vs.get("distinguishable") is None or vs.get("difference") is None:
        return NOT_COMPARED
    if not vs["distinguishable"]:
        return SAME
    return HIGHER if vs["difference"] > 0 else LOWER


def number(value: float | None, unit: str, lang: str) -> str:
    """A released value as the page writes it: whole pupils, or a percentage with one decimal;
    decimal comma and thousands point in Dutch."""
    if value is None:
        return "–"
    if unit == "pupils":
        text = f"{max(value, 0.0):,.0f}"   # no negative pupils are shown
        return text.replace(",", ".") if lang == "nl" else text
    text = f"{value * 100:.1f}"
    return (text.replace(".", ",") if lang == "nl" else text) + "%"


def _level_name(level: str, lang: str) -> str:
    names = LEVELS.get(level)
    return level if names is None else names[0 if lang == "nl" else 1]


def ranking(comparison: dict, lang: str = "nl", chart: str = "dot_plot") -> str:
    """The text alternative of the ranked dot plot (``chart="dot_plot"``) or the map
    (``chart="map"``) of one measure over every area of a level."""
    unit = comparison["measure"]["unit"]
    label = comparison["measure"]["label"][lang]
    level = _level_name(comparison.get("level") or "", lang)
    areas = comparison["areas"]
    known = [a for a in areas if a.get("estimate") is not None]
    nl = lang == "nl"
    if chart == "map":
        head = (f"{label} per {level}, kaart: een vage kleur betekent een breed interval." if nl
                else f"{label} by {level}, map: a faint colour means a wide interval.")
    else:
        head = (f"{label} per {level}, rangorde met 95%-intervallen." if nl else
                f"{label} by {level}, ranked with 95% intervals.")
    parts = [head]
    parts.append(f"{len(known)} van de {len(areas)} gebieden hebben een schatting." if nl else
                 f"{len(known)} of the {len(areas)} areas have an estimate.")
    ranked = known if chart == "map" else [a for a in known if a.get("ranked", True)]
    not_ranked = [a for a in known if a.get("unranked") in ("level_not_ranked", "residence_not_ranked")]
    if chart != "map" and not_ranked:
        # the level has no published rank ranges (schools, residence): why, in the words of the table
        parts.append(not_ranked[0]["rank_note"]["nl" if nl else "en"].capitalize() + ".")
    elif chart != "map" and len(ranked) < len(known):
        unsure = len(known) - len(ranked)
        parts.append(f"{unsure} daarvan {'is' if unsure == 1 else 'zijn'} te onzeker om te "
                     f"rangschikken en {'staat' if unsure == 1 else 'staan'} alleen in de tabel." if nl else
                     f"{unsure} of them {'is' if unsure == 1 else 'are'} too uncertain to rank and "
                     f"{'is' if unsure == 1 else 'are'} in the table only.")
    if ranked:
        top = max(ranked, key=lambda a: a["estimate"])
        bottom = min(ranked, key=lambda a: a["estimate"])
        parts.append(
            f"Hoogste: {top['name']} ({number(top.get('shown', top['estimate']), unit, lang)}); laagste: "
            f"{bottom['name']} ({number(bottom.get('shown', bottom['estimate']), unit, lang)})." if nl else
            f"Highest: {top['name']} ({number(top.get('shown', top['estimate']), unit, lang)}); lowest: "
            f"{bottom['name']} ({number(bottom.get('shown', bottom['estimate']), unit, lang)}).")
    counts = {key: 0 for key in (HIGHER, LOWER, SAME, NOT_COMPARED)}
    for area in known:
        counts[standing(area)] += 1
    if counts[HIGHER] + counts[LOWER] + counts[SAME]:
        national = number(comparison["national"].get("estimate"), unit, lang)
        parts.append(
            f"Vergeleken met Nederland ({national}): {counts[HIGHER]} hoger, {counts[LOWER]} "
            f"lager en {counts[SAME]} binnen de ruis, na correctie voor het aantal gebieden "
            f"(Benjamini–Hochberg, hooguit 5% valse uitspraken verwacht)." if nl else
            f"Compared with the Netherlands ({national}): {counts[HIGHER]} higher, "
            f"{counts[LOWER]} lower and {counts[SAME]} within the noise, corrected for the "
            f"number of areas (Benjamini–Hochberg, at most 5% false calls expected).")
    else:
        parts.append("Aantallen worden niet met Nederland vergeleken." if nl else
                     "Counts are not compared with the Netherlands.")
    parts.append("Alle getallen staan in de tabel." if nl else "The table holds every number.")
    return " ".join(parts)


def differences(comparison: dict, lang: str = "nl") -> str:
    """The text alternative of the chart of a side-by-side comparison's differences."""
    label = comparison["measure"]["label"][lang]
    pairs = [d for d in comparison.get("differences", []) if d.get("difference") is not None]
    beyond = sum(1 for d in pairs if d.get("distinguishable"))
    nl = lang == "nl"
    text = (f"{label}, verschillen tussen de gekozen gebieden met 95%-intervallen: "
            f"{beyond} van de {len(pairs)} verschillen {'is' if beyond == 1 else 'zijn'} groter "
            f"dan de ruis, {len(pairs) - beyond} {'valt' if len(pairs) - beyond == 1 else 'vallen'} "
            f"erbinnen." if nl else
            f"{label}, differences between the chosen areas with 95% intervals: "
            f"{beyond} of the {len(pairs)} differences {'is' if beyond == 1 else 'are'} larger "
            f"than the noise, {len(pairs) - beyond} {'is' if len(pairs) - beyond == 1 else 'are'} "
            f"within it.")
    return text + (" Elk verschil staat in woorden in de lijst." if nl else
                   " The list says each difference in words.")
