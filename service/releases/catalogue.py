"""The statistics catalogue: declared per-pupil bounds, integer totals, measures, validation.

One source of truth for the bounds. The constants below are passed as parameters into the
SQL that clamps every per-pupil value (sql/derive_*.sql, sql/aggregate_*.sql), and every
`Total` carries the `BoundSpec` built from the same constants; `privacy.bounds.sensitivity`
turns that spec into the sensitivity. Nothing else states a bound.

Privacy argument. The unit is one pupil in one school year. `pupil_year` has one row per
pupil (derive groups by pupil and keeps one main school), so in any grouping over public keys
a pupil lands in at most one cell of each total's vector, and adds to it a value clamped in
SQL to ``[bound.lower, bound.upper]``: counts are 0/1, minute totals lie in
``[0, MAX_YEAR_MINUTES]``. The five absence bands are exclusive: a pupil adds 1 to exactly one
of them, so the band histogram as one table has `BoundSpec(0, 1, max_cells=1)`
(`JOINT_TABLES`). The five reasons are non-negative parts of the pupil's absent minutes: SQL
clamps them in a fixed order to what the pupil's possible minutes leave (sick' = least(sick,
possible), authorised' = least(authorised, possible − sick'), …), so each lies in
``[0, MAX_YEAR_MINUTES]`` and together they add up to at most ``MAX_YEAR_MINUTES``; the five
reason vectors side by side are one table with `BoundSpec(0, MAX_YEAR_MINUTES, max_cells=5,
total_cap=MAX_YEAR_MINUTES)`, whose L2 sensitivity is that of ONE minute table (the vertex
argument in `privacy.bounds`). Measures are ratios of totals: post-processing of noisy totals.

Months (ad-hoc queries only). `pupil_month` has one row per pupil and calendar month in which
the pupil has a possible school day, so a pupil lands in at most one cell per month of a
grouping and in at most ``MAX_MONTHS`` month cells in all; each value is clamped in SQL to the
month bound (``MAX_MONTH_MINUTES`` for minutes, 0/1 for counts), and derive clamps a pupil's
month minutes, month by month, to what the year's ``MAX_YEAR_MINUTES`` leaves, so that they add
up to at most the year's cap. `MONTH_TOTALS` declares these bounds with ``max_cells =
MAX_MONTHS`` (and ``total_cap = MAX_YEAR_MINUTES`` for minutes: L2 ≈ 24,609 instead of
√12 · 8,280 ≈ 28,683); `table_bound` narrows ``max_cells`` to the months a query selects (a
filter of k months: k cells, the cap kept). `privacy.bounds.sensitivity` turns the result into
the sensitivity; no month sensitivity is written down anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from privacy.bounds import BoundSpec
from service.ingest.bounds import (LONG_TERM_DAYS, MAX_DAY_MINUTES, MAX_MONTH_DAYS,  # noqa: F401
                                    MAX_MONTH_MINUTES, MAX_MONTHS, MAX_SCHOOL_DAYS,
                                    MAX_WEEK_MINUTES, MAX_YEAR_MINUTES, SIGNAL_MINUTES,
                                    SIGNAL_WEEKS, derive_parameters)
from service.register.dimensions import DIMENSIONS, CatalogueError, validate_dimensions

#: The dimension that selects the monthly per-pupil table (`pupil_month`).
MONTH = "month"

COUNT = BoundSpec(lower=0, upper=1, max_cells=1)
MINUTES = BoundSpec(lower=0, upper=MAX_YEAR_MINUTES, max_cells=1)

REASONS = ("sick", "authorised", "unauthorised", "late", "suspended")
REASON_LABELS = {"sick": ("ziek", "sick"), "authorised": ("geoorloofd", "authorised"),
                 "unauthorised": ("ongeoorloofd", "unauthorised"), "late": ("te laat", "late"),
                 "suspended": ("geschorst", "suspended")}
#: Absence bands: (lower %, upper %) of absent/possible minutes; band k is [lower, upper).
BANDS = ((0, 5), (5, 10), (10, 20), (20, 50), (50, 100))


@dataclass(frozen=True)
class Total:
    """An integer sum over pupils of a clamped per-pupil value (column ``t_<name>`` of
    sql/aggregate_contributions.sql), with what one pupil can add to it."""

    name: str
    unit: str          # pupils | minutes
    label_nl: str
    label_en: str
    bound: BoundSpec


@dataclass(frozen=True)
class Measure:
    """A published measure: a sum of totals, or a ratio of two totals (post-processing)."""

    name: str
    unit: str          # pupils | share | rate (shares and rates shown as %)
    label_nl: str
    label_en: str
    definition: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...] = ()
    complement: bool = False     # 1 - numerator/denominator (attendance rate)

    @property
    def monthly(self) -> bool:
        """Whether the measure exists per month: all its totals exist per month."""
        return all(n in MONTH_TOTALS for n in self.numerator + self.denominator)

    @property
    def periods(self) -> tuple[str, ...]:
        return ("school_year", MONTH) if self.monthly else ("school_year",)

    def evaluate(self, totals: Mapping[str, np.ndarray]) -> np.ndarray:
        """The measure from (noisy or, in tests, true) totals: a sum, or a ratio of sums (nan
        where the denominator is not positive). Post-processing only."""
        num = sum(np.asarray(totals[n], dtype=float) for n in self.numerator)
        if not self.denominator:
            return num
        den = sum(np.asarray(totals[n], dtype=float) for n in self.denominator)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        return 1.0 - ratio if self.complement else ratio


def _totals() -> tuple[Total, ...]:
    out = [Total("enrolled", "pupils", "ingeschreven leerlingen", "pupils enrolled", COUNT),
           Total("possible_minutes", "minutes", "mogelijke minuten", "possible minutes", MINUTES),
           Total("absent_minutes", "minutes", "afwezige minuten", "absent minutes", MINUTES)]
    out += [Total(f"{r}_minutes", "minutes", f"afwezige minuten, {nl}", f"absent minutes, {en}",
                  MINUTES) for r, (nl, en) in REASON_LABELS.items()]
    out += [Total("chronic", "pupils", "leerlingen ≥ 10% afwezig", "pupils ≥ 10% absent", COUNT),
            Total("severe", "pupils", "leerlingen ≥ 50% afwezig", "pupils ≥ 50% absent", COUNT),
            Total("long_term", "pupils", "langdurig afwezig", "long-term absent", COUNT),
            Total("signal16", "pupils", "16-urensignaal", "16-hour signal", COUNT)]
    out += [Total(f"band_{k}", "pupils", f"leerlingen {lo}–{hi}% afwezig",
                  f"pupils {lo}–{hi}% absent", COUNT) for k, (lo, hi) in enumerate(BANDS)]
    return tuple(out)


TOTALS: dict[str, Total] = {t.name: t for t in _totals()}
#: Totals that also exist per calendar month (column t_<name> of
#: sql/aggregate_month_contributions.sql): per cell 0/1 or 0 … MAX_MONTH_MINUTES, at most
#: MAX_MONTHS cells per pupil. Long-term absence and the 16-hour signal are year-only: a run of
#: 20 school days and a window of 4 school weeks straddle months.
#: Minute totals: a pupil's months are parts of its year, so derive clamps their sum to the
#: year's bound as well (`total_cap`; sql/derive_pupil_month.sql).
MONTH_MINUTES = BoundSpec(0, MAX_MONTH_MINUTES, max_cells=MAX_MONTHS, total_cap=MAX_YEAR_MINUTES)
MONTH_COUNT = BoundSpec(0, 1, max_cells=MAX_MONTHS)
MONTH_TOTALS: dict[str, Total] = {
    t.name: Total(t.name, t.unit, t.label_nl, t.label_en,
                  MONTH_MINUTES if t.unit == "minutes" else MONTH_COUNT)
    for t in TOTALS.values() if t.name not in ("long_term", "signal16")}
#: Totals that form one table when noised together, with the bound of that table (the vector
#: of the member totals side by side, one cell of each per pupil at any one level).
JOINT_TABLES: dict[str, tuple[tuple[str, ...], BoundSpec]] = {
    "band": (tuple(f"band_{k}" for k in range(len(BANDS))), BoundSpec(0, 1, max_cells=1)),
    "reason": (tuple(f"{r}_minutes" for r in REASONS),
               BoundSpec(0, MAX_YEAR_MINUTES, max_cells=len(REASONS), total_cap=MAX_YEAR_MINUTES)),
}


def _measures() -> tuple[Measure, ...]:
    out = [
        Measure("enrolled", "pupils", "ingeschreven leerlingen", "pupils enrolled",
                "pupils enrolled on at least one school day of the year, counted once at their "
                "main school", ("enrolled",)),
        Measure("absence_rate", "rate", "verzuimpercentage", "absence rate",
                "absent minutes / possible minutes, all reasons", ("absent_minutes",),
                ("possible_minutes",)),
        Measure("attendance_rate", "rate", "aanwezigheidspercentage", "attendance rate",
                "1 − absence rate", ("absent_minutes",), ("possible_minutes",), complement=True),
    ]
    out += [Measure(f"absence_rate_{r}", "rate", f"verzuimpercentage, {nl}",
                    f"absence rate, {en}", f"{r} absent minutes / possible minutes",
                    (f"{r}_minutes",), ("possible_minutes",))
            for r, (nl, en) in REASON_LABELS.items()]
    for name, pct, nl, en in (("chronic", 10, "chronisch verzuim", "chronic absence"),
                              ("severe", 50, "ernstig verzuim", "severe absence")):
        out.append(Measure(f"{name}_count", "pupils", f"{nl} (leerlingen)", f"{en} (pupils)",
                           f"pupils absent ≥ {pct}% of their possible minutes", (name,)))
        out.append(Measure(f"{name}_share", "share", f"{nl} (aandeel)", f"{en} (share)",
                           f"pupils absent ≥ {pct}% / pupils enrolled", (name,), ("enrolled",)))
    out += [
        Measure("long_term_count", "pupils", "langdurig verzuim", "long-term absence",
                f"pupils absent {LONG_TERM_DAYS} or more consecutive school days (four school "
                "weeks; thuiszitters proxy)", ("long_term",)),
        Measure("signal16_count", "pupils", "16-urensignaal", "16-hour signal",
                f"pupils with ≥ {SIGNAL_MINUTES // 60} h unauthorised absence within "
                f"{SIGNAL_WEEKS} consecutive school weeks", ("signal16",)),
    ]
    out += [Measure(f"band_{lo}_{hi}" if hi < 100 else f"band_{lo}_plus", "pupils",
                    f"leerlingen {lo}–{hi}% afwezig" if hi < 100 else f"leerlingen ≥ {lo}% afwezig",
                    f"pupils {lo}–{hi}% absent" if hi < 100 else f"pupils ≥ {lo}% absent",
                    f"pupils whose absent/possible minutes lie in [{lo}%, {hi}%)" if hi < 100
                    else f"pupils whose absent/possible minutes are ≥ {lo}%", (f"band_{k}",))
            for k, (lo, hi) in enumerate(BANDS)]
    return tuple(out)


MEASURES: dict[str, Measure] = {m.name: m for m in _measures()}


def period(group_by: tuple[str, ...], filters: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """'month' if the query groups by or filters on month (it reads `pupil_month`), else
    'school_year' (`pupil_year`). Refuses a filter on several months without grouping by
    month: one cell would then sum a pupil's values over several months, which the month
    bound (one value per cell) does not cover."""
    months = dict(filters).get(MONTH)
    if MONTH not in group_by and not months:
        return "school_year"
    if MONTH not in group_by and len(months) > 1:
        raise CatalogueError(f"filters.{MONTH}", "a filter on several months needs 'month' in "
                             "group_by (monthly values are per month; ask one month, or group "
                             "by month)")
    return MONTH


def period_totals(period_name: str) -> dict[str, Total]:
    """The totals (with per-pupil bounds) of the per-pupil table a period reads."""
    return MONTH_TOTALS if period_name == MONTH else TOTALS


def table_bound(total: str, group_by: tuple[str, ...],
                filters: tuple[tuple[str, tuple[str, ...]], ...]) -> BoundSpec:
    """What one pupil can add to the vector of `total` over a query's public keys.

    Yearly: the total's bound (one cell). Monthly: per cell the month bound, and the pupil
    touches one cell per selected month: ``max_cells`` = the months the filter keeps (its
    values are checked against the calendar's months before any data is read), else
    ``MAX_MONTHS``. `privacy.bounds.sensitivity` derives the sensitivity from this spec."""
    which = period(group_by, filters)
    bound = period_totals(which)[total].bound
    if which == "school_year":
        return bound
    months = dict(filters).get(MONTH)
    cells = min(len(months), MAX_MONTHS) if months else MAX_MONTHS
    return BoundSpec(bound.lower, bound.upper, max_cells=cells, total_cap=bound.total_cap)


@dataclass(frozen=True)
class QuerySpec:
    """A validated query: a known measure, public group-by dimensions, public filters."""

    measure: str
    group_by: tuple[str, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def period(self) -> str:
        return period(self.group_by, self.filters)

    def totals(self) -> tuple[Total, ...]:
        m = MEASURES[self.measure]
        table = period_totals(self.period)
        return tuple(table[n] for n in dict.fromkeys(m.numerator + m.denominator))

    def bound(self, total: str) -> BoundSpec:
        """The bound spec of `total`'s table in this query (see `table_bound`)."""
        return table_bound(total, self.group_by, self.filters)


def validate_query(measure: object, group_by: object = (), filters: object = None) -> QuerySpec:
    """Check a query against the catalogue; raise `CatalogueError(field, message)` for an
    unknown measure, an unknown or non-public dimension, or a malformed filter value.
    The group-by is sorted (the canonical request: a permuted group-by is the same query)."""
    if not isinstance(measure, str) or measure not in MEASURES:
        raise CatalogueError("measure", f"unknown measure; known: {', '.join(MEASURES)}")
    group, flt = validate_dimensions(group_by, filters)
    if period(group, flt) == MONTH and not MEASURES[measure].monthly:
        field = "group_by" if MONTH in group else f"filters.{MONTH}"
        monthly = ", ".join(m.name for m in MEASURES.values() if m.monthly)
        raise CatalogueError(field, f"measure {measure} is per school year only and cannot be "
                             f"asked by month; monthly measures: {monthly}")
    return QuerySpec(measure, tuple(sorted(group)), flt)


def bound_document(bound: BoundSpec) -> dict:
    """A bound spec as JSON: the clamp range, the cells per pupil and, for parts of one
    per-pupil total, the cap on their sum."""
    out = {"lower": bound.lower, "upper": bound.upper, "max_cells": bound.max_cells}
    if bound.total_cap is not None:
        out["total_cap"] = bound.total_cap
    return out


def catalogue_document() -> dict:
    """The public catalogue (JSON-able, for GET /v1/catalog): measures, totals with their
    bounds, dimensions. Nothing here depends on pupil data."""
    return {
        "measures": [{"name": m.name, "unit": m.unit, "label": {"nl": m.label_nl, "en": m.label_en},
                      "definition": m.definition, "numerator": list(m.numerator),
                      "denominator": list(m.denominator), "complement": m.complement,
                      "periods": list(m.periods),
                      "display": "count" if m.unit == "pupils" else "percent"}
                     for m in MEASURES.values()],
        "totals": [{"name": t.name, "unit": t.unit, "label": {"nl": t.label_nl, "en": t.label_en},
                    "bound": bound_document(t.bound)} for t in TOTALS.values()],
        "month_totals": [{"name": t.name, "unit": t.unit, "bound": bound_document(t.bound)}
                         for t in MONTH_TOTALS.values()],
        "joint_tables": [{"name": name, "totals": list(totals), "bound": bound_document(bound)}
                         for name, (totals, bound) in JOINT_TABLES.items()],
        "dimensions": [{"name": d.name, "label": {"nl": d.label_nl, "en": d.label_en},
                        "keys": d.key_description} for d in DIMENSIONS.values()],
        "bounds": {"max_day_minutes": MAX_DAY_MINUTES, "max_school_days": MAX_SCHOOL_DAYS,
                   "max_year_minutes": MAX_YEAR_MINUTES, "long_term_days": LONG_TERM_DAYS,
                   "signal_minutes": SIGNAL_MINUTES, "signal_weeks": SIGNAL_WEEKS,
                   "max_months": MAX_MONTHS, "max_month_days": MAX_MONTH_DAYS,
                   "max_month_minutes": MAX_MONTH_MINUTES},
    }
