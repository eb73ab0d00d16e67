"""Comparing areas on one measure of a published release: estimates, 95% intervals, the
national value, and differences that say whether they stand out from the privacy noise.

Privacy argument: only released cells are read (estimate, interval, sd — all functions of
the noisy measurements) plus the release's public covariance model (the register's structure
and the noise variances its ρ implies: `service.releases.standard.release_model`), so
comparing is post-processing and costs no budget. Nothing here touches pupil data, and errors
name parameters and positions, never a count.

Differences and verdicts come from `privacy.statistics.verdict` (docs/privacy.md,
"Verdicts"): with the covariance of the two published values from the GLS model (exact for
counts; for rates and shares the linearised correlation scaled by the published sds), and
where one side's sd is at most a fifth of the other's (the Netherlands beside a municipality)
that side counts as known, so the verdict says exactly whether the other's shown interval
contains it. A difference is *distinguishable from the noise* when its interval excludes 0.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import json

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm

from privacy.budget import Rho
from privacy.statistics import KNOWN_RATIO, benjamini_hochberg, verdict
from service import errors as service_errors
from service.db import Database, or_detached
from service.register.areas import area_structure
from service.releases import stored as releases
from service.releases.catalogue import MEASURES
from service.releases.standard import ReleaseModel, release_model

#: Levels a comparison can use, with their names for people (nl, en).
LEVELS = {"country": ("Nederland", "the Netherlands"), "province": ("provincie", "province"),
          "rmc": ("RMC-regio", "RMC region"), "swv": ("samenwerkingsverband", "samenwerkingsverband"),
          "municipality": ("gemeente", "municipality"), "school": ("school", "school"),
          "residence": ("woongemeente", "municipality of residence")}
MAX_AREAS = 25
"""Most areas in one `areas=` comparison (25 areas make 300 pairs)."""
DEFAULT_LEVEL = "province"
"""The level compared when no areas are named and no level is given."""
RANK_SPAN_LIMIT = 0.5
"""An area of a level is *too uncertain to rank* when its published 95% rank range spans more
than this share of the level's areas with an estimate: the data cannot even say whether it
lies in the upper or the lower half (docs/page.md, "Rankings")."""
RANK_NOTES = {
    "no_estimate": {"nl": "te weinig leerlingen voor een schatting",
                    "en": "too few pupils for an estimate"},
    "level_not_ranked": {"nl": "scholen worden niet gerangschikt (te veel, te klein)",
                         "en": "schools are not ranked (too many, too small)"},
    "residence_not_ranked": {"nl": "woongemeenten worden niet gerangschikt (geen gepubliceerd rangbereik)",
                             "en": "municipalities of residence are not ranked (no published rank range)"},
    "too_uncertain": {"nl": "te onzeker om te rangschikken (95%-rangbereik {lo}\u2013{hi} van {n})",
                      "en": "too uncertain to rank (95% rank range {lo}\u2013{hi} of {n})"},
}


class CompareError(service_errors.InvalidInput, ValueError):
    """Invalid comparison request: `errors` lists every problem as {field, message}."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors),
                         detail=f"{len(errors)} problem(s) with the comparison",
                         errors=[{"in": "query", **e} for e in errors])


class NotInRelease(service_errors.NotFound, LookupError):
    """A well-formed request for cells the release does not have (a measure, sector, level or
    area it does not cover): 404, not 400. Which cells a release has follows from the public
    register and the catalogue, never from whether a group has pupils."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors),
                         detail="the release has no such cells",
                         errors=[{"in": "query", **e} for e in errors])


class NoRelease(service_errors.NotFound, LookupError):
    """No standard release is published (for the dataset asked)."""

    def __init__(self, dataset: str | None) -> None:
        self.dataset = dataset
        super().__init__("no standard release" + (f" for dataset {dataset}" if dataset else ""),
                         detail="no standard release is published"
                                + (" for this dataset" if dataset else ""))


@dataclass(frozen=True)
class Released:
    """The cells of one stored release, indexed for lookups."""

    release_id: str
    dataset: str
    cells: pd.DataFrame   # indexed by (measure, sector, level, area_code)
    model: ReleaseModel | None = None   # covariances; None: unknown (treated as 0)


def load_release(con: duckdb.DuckDBPyConnection, dataset: str | None = None,
                 database: Database | None = None) -> Released:
    """The latest standard release (of `dataset`), parsed once per `database` (its
    `comparisons`): releases are immutable."""
    release_id = releases.latest(con, "standard", dataset)
    if release_id is None:
        raise NoRelease(dataset)
    database = or_detached(database)
    found = database.comparisons.peek(release_id)
    if found is not None:
        return found
    record = releases.get_release(con, release_id)
    if record is None:
        raise NoRelease(dataset)
    loaded = from_cells(releases.cells(record), release_id, record.dataset)
    spec = json.loads(record.payload).get("spec", {})
    if "rho" in spec:
        model = release_model(con, record.dataset, Rho.of(spec["rho"]), spec, database)
        loaded = Released(loaded.release_id, loaded.dataset, loaded.cells, model)
    return database.comparisons.put(release_id, loaded)


def options(released: Released) -> dict:
    """What can be compared in a release: measures, and per level its sectors and area count
    (read from the index: a release has ~10⁵ cells, so no frame is rebuilt here)."""
    present = set(released.cells.index.get_level_values(0).unique())
    measures = [m for m in MEASURES if m in present]
    keys = released.cells.loc["absence_rate" if "absence_rate" in present else measures[0]].index
    frame = pd.DataFrame({"sector": keys.get_level_values(0), "level": keys.get_level_values(1)})
    levels = {}
    for level, group in frame.groupby("level", sort=True):
        if level in LEVELS:
            levels[level] = {"sectors": sorted(set(group["sector"]), key=lambda s: (s != "all", s)),
                             "areas": int((group["sector"] == "all").sum())}
    # a level that carries only some measures (residence: the release by residence publishes
    # the measures of its own tables) is listed with them, under `measures`
    for level, info in _partial_levels(released, measures, set(levels)).items():
        levels[level] = info
    return {"release_id": released.release_id, "dataset": released.dataset,
            "measures": [measure_info(m) for m in measures], "levels": levels}


def _partial_levels(released: Released, measures: list[str], listed: set[str]) -> dict:
    """Comparable levels missing from the first measure's cells, with the measures they have
    (in catalogue order), their sectors and area count."""
    index = released.cells.index
    missing = [lv for lv in LEVELS if lv not in listed and lv != "country"]
    if not missing:
        return {}
    levels = index.get_level_values(2)
    out = {}
    for level in missing:
        part = index[levels == level]
        if not len(part):
            continue
        have = set(part.get_level_values(0))
        first = next(m for m in measures if m in have)
        keys = part[part.get_level_values(0) == first]
        sectors = keys.get_level_values(1)
        out[level] = {"sectors": sorted(set(sectors), key=lambda s: (s != "all", s)),
                      "areas": int((sectors == "all").sum()),
                      "measures": [m for m in measures if m in have]}
    return out


def measure_info(name: str) -> dict:
    m = MEASURES[name]
    return {"name": name, "unit": m.unit, "label": {"nl": m.label_nl, "en": m.label_en},
            "definition": m.definition, "display": "count" if m.unit == "pupils" else "percent"}


def parse_areas(text: str) -> list[tuple[str, str]]:
    """``level:code,level:code`` → [(level, code)]; CompareError lists every bad item."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    errors, out = [], []
    if not items:
        errors.append({"field": "areas", "message": "give one or more areas as level:code"})
    if len(items) > MAX_AREAS:
        errors.append({"field": "areas", "message": f"at most {MAX_AREAS} areas at once"})
    for i, item in enumerate(items):
        level, sep, code = item.partition(":")
        if not sep or not code:
            errors.append({"field": f"areas[{i}]", "message": "expected level:code"})
        elif level not in LEVELS:
            errors.append({"field": f"areas[{i}]",
                           "message": f"unknown level; known: {', '.join(LEVELS)}"})
        else:
            out.append((level, code))
    if errors:
        raise CompareError(errors)
    return list(dict.fromkeys(out))


def _number(value: float, unit: str, lang: str, signed: bool = False, decimals: int = 1) -> str:
    """A value for people: counts as whole pupils, rates and shares as % with `decimals`
    decimals (Dutch: decimal comma, thousands dot)."""
    if unit == "pupils":
        text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
        return text.replace(",", ".") if lang == "nl" else text
    text = f"{value * 100:+.{decimals}f}" if signed else f"{value * 100:.{decimals}f}"
    return (text.replace(".", ",") if lang == "nl" else text) + "%"


#: Most decimals of a percentage printed: the release stores ratios to 6 decimals (4 in %).
MAX_DECIMALS = 4


def _step(unit: str, decimals: int = 1) -> float:
    return 1.0 if unit == "pupils" else 10.0 ** -(decimals + 2)


def _outward(lower: float, upper: float, unit: str, decimals: int = 1) -> tuple[float, float]:
    """Round an interval outwards to the shown precision, so the text never narrows it."""
    step = _step(unit, decimals)
    return (math.floor(round(lower / step, 6)) * step, math.ceil(round(upper / step, 6)) * step)


def _nearest(value: float, unit: str, decimals: int = 1) -> float:
    step = _step(unit, decimals)
    return round(round(value / step, 6)) * step


def shown_interval(lower: float, upper: float, unit: str) -> tuple[float, float]:
    """The interval people read: a count's cut at 0 pupils (no negative pupils are shown;
    the files keep the estimate and its interval)."""
    return (max(lower, 0.0), max(upper, 0.0)) if unit == "pupils" else (lower, upper)


def decimals_keeping_side(lower: float, upper: float, national: float, unit: str,
                          side: int) -> int:
    """The fewest decimals (1 … `MAX_DECIMALS`) at which an area's interval, rounded outward,
    and the national value, rounded to nearest, still lie apart on ``side`` (+1: the area
    above), and the difference's interval printed outward has no end at 0: a printed verdict
    then never sits beside numbers that seem to contradict it (issue 23)."""
    if unit == "pupils" or side == 0:
        return 1
    for k in range(1, MAX_DECIMALS + 1):
        lo, hi = _outward(lower, upper, unit, k)
        nat = _nearest(national, unit, k)
        d_lo, d_hi = _outward(lower - national, upper - national, unit, k)
        if (side > 0 and lo > nat and d_lo > 0) or (side < 0 and hi < nat and d_hi < 0):
            return k
    return MAX_DECIMALS


def interval_text(lower: float, upper: float, unit: str, decimals: int = 1) -> dict[str, str]:
    lower, upper = _outward(*shown_interval(lower, upper, unit), unit, decimals)
    lo = {lang: _number(lower, unit, lang, decimals=decimals) for lang in ("nl", "en")}
    hi = {lang: _number(upper, unit, lang, decimals=decimals) for lang in ("nl", "en")}
    return {"nl": f"95% zeker tussen {lo['nl']} en {hi['nl']}",
            "en": f"95% sure between {lo['en']} and {hi['en']}"}


def value_text(value: float | None, unit: str, decimals: int = 1) -> dict[str, str]:
    """A published value as people read it (`shown`: never a negative count)."""
    if value is None:
        return {"nl": "–", "en": "–"}
    if unit == "pupils":
        value = max(value, 0.0)
    value = _nearest(value, unit, decimals)
    return {lang: _number(value, unit, lang, decimals=decimals) for lang in ("nl", "en")}


def difference_text(name_a: str | dict, name_b: str | dict, diff: float, lower: float, upper: float,
                    unit: str, distinguishable: bool, decimals: int = 1,
                    note: dict[str, str] | None = None) -> dict[str, str]:
    """The verdict in plain Dutch and English; `note` (optional) says how the call was made."""
    counts = unit == "pupils"
    names_a = name_a if isinstance(name_a, dict) else {"nl": name_a, "en": name_a}
    names_b = name_b if isinstance(name_b, dict) else {"nl": name_b, "en": name_b}
    pts = {"nl": " leerlingen" if counts else " procentpunt",
           "en": " pupils" if counts else " percentage points"}

    def signed(v: float, lang: str) -> str:
        return _number(v, unit, lang, True, decimals).rstrip("%").replace("-", "\u2212")

    lower, upper = _outward(lower, upper, unit, decimals)
    span = {"nl": f"95% zeker tussen {signed(lower, 'nl')} en {signed(upper, 'nl')}{pts['nl']}",
            "en": f"95% sure between {signed(lower, 'en')} and {signed(upper, 'en')}{pts['en']}"}
    tail = {lang: (f" {note[lang]}" if note else "") for lang in ("nl", "en")}
    if not distinguishable:
        return {"nl": f"Het verschil tussen {names_a['nl']} en {names_b['nl']} valt binnen de ruis "
                      f"({span['nl']})." + tail["nl"],
                "en": f"The difference between {names_a['en']} and {names_b['en']} is within the "
                      f"noise ({span['en']})." + tail["en"]}
    size = {lang: _number(abs(diff), unit, lang, decimals=decimals).rstrip("%") for lang in ("nl", "en")}
    a_nl, a_en, b_nl, b_en = names_a["nl"], names_a["en"], names_b["nl"], names_b["en"]
    if counts:
        nl = f"{a_nl} heeft {size['nl']} leerlingen {'meer' if diff > 0 else 'minder'} dan {b_nl}"
        en = f"{a_en} has {size['en']} {'more' if diff > 0 else 'fewer'} pupils than {b_en}"
    else:
        nl = f"{a_nl} ligt {size['nl']} procentpunt {'hoger' if diff > 0 else 'lager'} dan {b_nl}"
        en = (f"{a_en} is {size['en']} percentage points {'higher' if diff > 0 else 'lower'} "
              f"than {b_en}")
    return {"nl": f"{nl} ({span['nl']}); dit verschil is groter dan de ruis." + tail["nl"],
            "en": f"{en} ({span['en']}); this difference is larger than the noise." + tail["en"]}


def _cell(row, level: str, code: str) -> dict:
    def num(v):
        return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

    out = {"level": level, "code": code, "name": row["area_name"],
           "estimate": num(row["estimate"]), "lower": num(row["lower"]),
           "upper": num(row["upper"]), "sd": num(row["sd"]), "flags": list(row["flags"] or [])}
    for col in ("shown", "p_vs_country", "rank_lower", "rank_upper",   # absent in older releases
                "model_estimate", "model_lower", "model_upper"):
        out[col] = num(row.get(col))
    if out["shown"] is None and out["estimate"] is not None:
        out["shown"] = (max(out["estimate"], 0.0) if row.get("unit") == "pupils" else
                        min(max(out["estimate"], out["lower"]), out["upper"]))
    return out


def too_uncertain_to_rank(rank_lower: float | None, rank_upper: float | None, n: int) -> bool:
    """The rule (RANK_SPAN_LIMIT): the 95% rank range covers more than half of the `n` areas
    with an estimate. Without a published rank range (older releases) an area is ranked."""
    if rank_lower is None or rank_upper is None or n < 2:
        return False
    return (rank_upper - rank_lower + 1) > RANK_SPAN_LIMIT * n


def _rank(picked: list[dict], level_wide: bool) -> dict:
    """Rank 1 = the highest estimate, among the areas with one; an area without an estimate
    has no rank, and (every area of a level) one whose rank range is too wide is not ranked:
    `ranked`, `unranked` ("no_estimate" / "too_uncertain") and `rank_note` say which and why."""
    known = sorted((a for a in picked if a["estimate"] is not None),
                   key=lambda a: (-a["estimate"], a["code"]))
    n = len(known)
    for position, area in enumerate(known, start=1):
        area["rank"] = position
    for area in picked:
        reason = None
        if area["estimate"] is None:
            area["rank"] = None
            reason = "no_estimate"
        elif level_wide and area["level"] == "school":
            reason = "level_not_ranked"       # the release gives schools no rank ranges
        elif level_wide and area["level"] == "residence" and area.get("rank_lower") is None:
            reason = "residence_not_ranked"   # nor the municipalities of residence
        elif level_wide and too_uncertain_to_rank(area.get("rank_lower"), area.get("rank_upper"), n):
            reason = "too_uncertain"
        area["ranked"] = reason is None
        area["unranked"] = reason
        area["rank_note"] = None if reason is None else {
            lang: text.format(lo=int(area.get("rank_lower") or 0), hi=int(area.get("rank_upper") or 0), n=n)
            for lang, text in RANK_NOTES[reason].items()}
    return {"with_estimate": n, "ranked": sum(1 for a in picked if a["ranked"]),
            "rule": f"ranked when the 95% rank range spans at most {RANK_SPAN_LIMIT:.0%} of the "
                    f"{n} areas with an estimate; 1 = highest"}


def _pupils(released: "Released", sector: str, areas: list[dict]) -> None:
    """Each area's released number of pupils (the `enrolled` count as shown: public, noisy,
    never below 0), so a reader sees how many pupils a value rests on."""
    by_level: dict[str, dict] = {}
    for level in {a["level"] for a in areas}:
        try:
            frame = released.cells.loc[("enrolled", sector, level)]
        except KeyError:
            by_level[level] = {}
            continue
        values = frame["shown"] if "shown" in frame else frame["estimate"]
        by_level[level] = values.to_dict()
    for area in areas:
        value = by_level[area["level"]].get(area["code"])
        area["pupils"] = None if value is None or pd.isna(value) else int(round(max(float(value), 0.0)))


def _names(area: dict) -> str | dict:
    """An area's name in a sentence: the country's in each language ("the Netherlands")."""
    if area["level"] == "country":
        return {"nl": LEVELS["country"][0], "en": LEVELS["country"][1]}
    return area["name"]


def _compare_pair(a: dict, b: dict, unit: str, nested: bool, cov: float | None) -> dict:
    """One comparison on its own (95%, per comparison): the pairs of chosen areas."""
    out = {"a": f"{a['level']}:{a['code']}", "b": f"{b['level']}:{b['code']}", "nested": nested,
           "covariance": cov, "decision": "per_comparison"}
    if None in (a["estimate"], a["sd"], b["estimate"], b["sd"], a["lower"], b["lower"]):
        return {**out, "difference": None, "lower": None, "upper": None, "sd": None,
                "distinguishable": None, "rule": None, "decimals": 1,
                "text": {"nl": "Geen verschil te geven: een van beide heeft geen schatting.",
                         "en": "No difference can be given: one of the two has no estimate."}}
    v = verdict((a["estimate"], a["sd"], a["lower"], a["upper"]),
                (b["estimate"], b["sd"], b["lower"], b["upper"]), cov or 0.0)
    side = (1 if v["lower"] > 0 else -1) if v["distinguishable"] else 0
    decimals = _pair_decimals(v["lower"], v["upper"], unit, side)
    return {**out, **v, "decimals": decimals,
            "text": difference_text(_names(a), _names(b), v["difference"], v["lower"],
                                    v["upper"], unit, v["distinguishable"], decimals)}


def _pair_decimals(lower: float, upper: float, unit: str, side: int) -> int:
    """Fewest decimals at which a decided difference's interval, printed outward, has no end
    at 0."""
    if unit == "pupils" or side == 0:
        return 1
    for k in range(1, MAX_DECIMALS + 1):
        lo, hi = _outward(lower, upper, unit, k)
        if (side > 0 and lo > 0) or (side < 0 and hi < 0):
            return k
    return MAX_DECIMALS


#: The false discovery rate of the "higher/lower than the Netherlands" calls over a level.
FDR = 0.05


def _national_calls(areas: list[dict], national: dict, unit: str, level: str) -> None:
    """Every area of a level against the Netherlands, the calls controlled for the false
    discovery rate: Benjamini–Hochberg at `FDR` over the areas with an estimate, on the
    p-values of "the area's true value equals the published national value" (`p_vs_country`,
    Fieller's pivot; older releases without it: the normal approximation from the sd). The
    national value counts as known (as published), so the difference's interval is the area's
    shown interval shifted by it, and a call needs that interval to exclude it: a call never
    sits beside an interval that contains the national value (docs/privacy.md)."""
    nat = national["estimate"]
    usable = [a for a in areas if a["estimate"] is not None and a["sd"] is not None
              and nat is not None]
    p = []
    for a in usable:
        if a.get("p_vs_country") is not None:
            p.append(a["p_vs_country"])
        else:
            z = abs(a["estimate"] - nat) / a["sd"] if a["sd"] > 0 else math.inf
            p.append(float(2 * norm.sf(z)))
    calls, threshold = benjamini_hochberg(np.array(p, dtype=float), FDR)
    names = LEVELS.get(level, (level, level))
    note = {"nl": f"Hoger of lager: Benjamini–Hochberg over {len(usable)} {names[0]}-waarden "
                  f"(hooguit {FDR:.0%} van deze uitspraken vals verwacht).",
            "en": f"Higher or lower: Benjamini–Hochberg over {len(usable)} {names[1]} values "
                  f"(at most {FDR:.0%} of these calls expected false)."}
    for a, call, p_value in zip(usable, calls, p):
        lower, upper = a["lower"] - nat, a["upper"] - nat
        side = 1 if a["lower"] > nat else (-1 if a["upper"] < nat else 0)
        called = bool(call) and side != 0
        decimals = decimals_keeping_side(a["lower"], a["upper"], nat, unit, side if called else 0)
        diff = a["shown"] - nat   # inside the interval: on the side of a call
        a["vs_national"] = {
            "a": f"{a['level']}:{a['code']}", "b": "country:NL", "nested": True, "covariance": None,
            "difference": diff, "lower": lower, "upper": upper, "sd": a["sd"],
            "distinguishable": called, "rule": "b_known", "decision": "fdr_bh",
            "p_value": p_value, "fdr": FDR, "threshold": threshold, "compared": len(usable),
            "excludes_alone": side != 0, "decimals": decimals,
            "national_text": value_text(nat, unit, decimals),
            "text": difference_text(a["name"], _names(national), diff, lower, upper, unit,
                                    called, decimals, note)}
        a["decimals"] = decimals
        a["text"] = interval_text(a["lower"], a["upper"], unit, decimals)
        a["shown_text"] = value_text(a["shown"], unit, decimals)
    for a in areas:
        if a not in usable:
            a["vs_national"] = _compare_pair(a, national, unit, True, None)


def _pair_covariance(released: Released, measure: str, sector: str, a: dict, b: dict) -> float | None:
    """Covariance of two published values from the release's model; None where it is not
    needed (one side counts as known), unknown (no model), or a side has no estimate."""
    model = released.model
    if model is None or None in (a["sd"], b["sd"], a["estimate"], b["estimate"]):
        return None
    if min(a["sd"], b["sd"]) <= KNOWN_RATIO * max(a["sd"], b["sd"]):
        return None
    groups = [model.group(a["level"], sector, a["code"]), model.group(b["level"], sector, b["code"])]
    if None in groups:
        return None
    m = MEASURES[measure]
    ratios = np.array([a["estimate"], b["estimate"]]) if m.denominator else None
    cov = model.measures.measure_cov(m, groups, ratios, np.array([a["sd"], b["sd"]]))
    return float(cov[0, 1]) if np.isfinite(cov[0, 1]) else None


def from_cells(cells: pd.DataFrame, release_id: str = "", dataset: str = "") -> Released:
    """Released cells as a frame (`service.release.cells`, or a notebook client's
    `release()`) ready for `compare`."""
    indexed = cells.set_index(["measure", "sector", "level", "area_code"]).sort_index()
    return Released(release_id, dataset, indexed)


def compare(released: Released | pd.DataFrame, measure: str, *,
            areas: list[tuple[str, str]] | None = None, level: str | None = None,
            sector: str = "all", structure: Structure | None = None) -> dict:
    """Compare `areas` pairwise (and each with the country), or every area of `level` with
    the country (`areas` win when both are given; neither: every province). `released` is a loaded release or its cells as a frame. `structure` (from
    the register) tells which areas contain which, and how many siblings an area has (for
    the correlation allowance); without it, disjoint pairs get the allowance of their whole
    level and only pairs with the country count as nested."""
    if isinstance(released, pd.DataFrame):
        released = from_cells(released)
    cells = released.cells
    errors = []
    if measure not in MEASURES:
        errors.append({"field": "measure", "message": f"unknown measure; known: {', '.join(MEASURES)}"})
    if areas is not None and level is not None:
        level = None                    # the areas named win (documented in docs/api.md)
    if areas is None and level is None:
        level = DEFAULT_LEVEL
    if level is not None and level not in LEVELS:
        errors.append({"field": "level", "message": f"unknown level; known: {', '.join(LEVELS)}"})
    if errors:
        raise CompareError(errors)
    if measure not in cells.index.get_level_values(0):
        raise NotInRelease([{"field": "measure", "message": "this measure is not in the release"}])
    unit = MEASURES[measure].unit
    try:
        national_row = cells.loc[(measure, sector, "country", "NL")]
    except KeyError:
        raise NotInRelease([{"field": "sector", "message": "this sector is not in the release"}]) from None
    national = _cell(national_row, "country", "NL")
    if level is not None:
        try:
            frame = cells.loc[(measure, sector, level)]
        except KeyError:
            raise NotInRelease([{"field": "level", "message":
                                 "the release has no cells for this sector at this level"}]) from None
        picked = [_cell(row, level, row["area_code"]) for row in frame.reset_index().to_dict("records")]
    else:
        picked = []
        for i, (lvl, code) in enumerate(areas):
            try:
                picked.append(_cell(cells.loc[(measure, sector, lvl, code)], lvl, code))
            except KeyError:
                errors.append({"field": f"areas[{i}]", "message":
                               "no area with this level and code in the release (for this sector)"})
        if errors:
            raise NotInRelease(errors)
    structure = structure or Structure({}, {})

    def pair(a: dict, b: dict) -> dict:
        nested = structure.nested((a["level"], a["code"]), (b["level"], b["code"]))
        return _compare_pair(a, b, unit, nested, _pair_covariance(released, measure, sector, a, b))

    for area in picked:
        area["decimals"] = 1
        area["text"] = (interval_text(area["lower"], area["upper"], unit)
                        if area["estimate"] is not None else
                        {"nl": "geen schatting (te weinig leerlingen)",
                         "en": "no estimate (too few pupils)"})
        area["shown_text"] = value_text(area["shown"], unit)
        area["vs_national"] = None if unit == "pupils" or level is not None else pair(area, national)
        if area["vs_national"] is not None and area["vs_national"]["distinguishable"]:
            d = area["vs_national"]["decimals"]
            area["decimals"] = d
            area["text"] = interval_text(area["lower"], area["upper"], unit, d)
            area["shown_text"] = value_text(area["shown"], unit, d)
            area["vs_national"]["national_text"] = value_text(national["estimate"], unit, d)
    if level is not None and unit != "pupils":
        _national_calls(picked, national, unit, level)
    ranking = _rank(picked, level is not None)
    _pupils(released, sector, picked)
    national["text"] = interval_text(national["lower"], national["upper"], unit)
    national["shown_text"] = value_text(national["shown"], unit)
    pairs = [pair(a, b) for a, b in itertools.combinations(picked, 2)] if areas is not None else []
    return {"release_id": released.release_id, "dataset": released.dataset,
            "measure": measure_info(measure), "sector": sector, "level": level,
            "national": national, "areas": picked, "differences": pairs, "ranking": ranking,
            "cost": {"rho": "0", "note": "comparing uses only released values: no budget"},
            "method": METHOD}


METHOD = {
    "interval": "95% interval of each released cell, as published",
    "difference": "estimate_a − estimate_b; where one side's sd is at most 1/5 of the other's it "
                  "counts as known and the interval is the other side's published interval "
                  "shifted by it; otherwise ± 1.96 · sqrt(sd_a² + sd_b² − 2·cov) with cov from the "
                  "release's GLS model (docs/privacy.md, Verdicts)",
    "distinguishable": "chosen areas (areas=…): per comparison, the 95% interval of the "
                       "difference excludes 0. Every area of a level against the Netherlands "
                       "(level=…): controlled for the false discovery rate, Benjamini-Hochberg "
                       "at 5% over the areas of the level on p_vs_country, and the area's 95% "
                       "interval excludes the national value",
    "printed": "percentages with as many decimals as keep a decided interval apart from the "
               "national value and a decided difference's interval off 0 (field 'decimals'); "
               "counts shown cut at 0 pupils (field 'shown'), the files keep the estimate",
    "counts_vs_country": "counts are not compared with the national total (different sizes); "
                         "compare shares or rates instead",
}


@dataclass(frozen=True)
class Structure:
    """Public structure from the register: the areas containing each area."""

    parents: dict[tuple[str, str], set[tuple[str, str]]]
    parent_of: dict[tuple[str, str], tuple[tuple[str, str], int]] = field(default_factory=dict)

    def nested(self, a: tuple[str, str], b: tuple[str, str]) -> bool:
        return "country" in (a[0], b[0]) or b in self.parents.get(a, ()) \
            or a in self.parents.get(b, ())


def register_structure(con: duckdb.DuckDBPyConnection,
                       database: Database | None = None) -> Structure:
    """The register's containment (school → its areas; municipality → province; everything
    → country) and sibling counts, from the register's one `AreaStructure`."""
    structure = area_structure(con, database=database)
    return Structure(structure.parents, structure.parent_of)
