"""The release maths, from private leaf totals to noisy published values: ONE entry,
`noisy_tables`, for the yearly standard release (`service.releases.standard` gathers the leaf
totals from SQL, calls it once, and forms the published cells from what it returns).

Flow (docs/releases.md):
1. the caller hands in, per leaf (school, from the public register, zeros included), the true
   integer totals of every noised table (`service.releases.aggregate.leaf_totals`), and the
   public `Structure` (which group of every level each leaf lies in);
2. the budget plan (`plan_tables`) splits the release's ρ over every table × level with
   `privacy.planner.split_budget` (minimising weighted variance; weights below);
3. each total × level vector gets discrete Gaussian noise from OpenDP at its planned scale;
4. `privacy.consistency.reconcile` makes leaves add up to every level (post-processing of
   noisy values only), and `privacy.relations` reconciles across tables (a whole and the joint
   table of its parts);
5. measures are formed from the reconciled totals (counts; rates and shares as ratios of two
   totals) with their sd and 95% interval from `privacy.statistics`; the published `estimate`
   is the GLS estimate itself, and `integer_estimate` the separately labelled whole-pupil view
   (top-down controlled rounding, `privacy.consistency.controlled_round`);
6. every area of the ranked levels gets its rank and 95% rank range, from the estimates'
   joint distribution (`privacy.covariance`);
7. the derived levels of the structure (region × sector: the small groups, such as special
   education per samenwerkingsverband) are not measured: each of their groups is the sum of
   its reconciled leaves, with the exact GLS variance of that sum (`with_derived`) —
   post-processing, no budget. Their verdicts compare with the country's value for the same
   sector.
`covariance_model` rebuilds step 4's covariance model from public inputs only (the structure
and ρ), for comparisons of published values. No pandas, no database: numpy and scipy only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from privacy import relations
from privacy.bounds import BoundSpec
from privacy.budget import Rho
from privacy.consistency import GlsModel, Level, Measured, gls_model, reconcile
from privacy.covariance import MeasureModel
from privacy.mechanisms import NoisePlan, add_noise, plan_gaussian
from privacy.planner import LevelDemand, split_budget
from privacy.statistics import count_intervals, rank_ranges, ratio_intervals, ratio_p_values

#: The nested levels the whole-pupil view is rounded along, top-down (then the schools). Both
#: country → province → samenwerkingsverband and country → province → municipality are nested
#: chains; measured on 1,000,000 pupils (docs/benchmarks.md) the municipality chain gives
#: municipality integers within 9 pupils of the truth (RMSE) but country × sector integers
#: 2,960 pupils off (the non-negative projection inside municipalities moves pupils from
#: sectors of large schools to sectors of small ones), the samenwerkingsverband chain — whose
#: areas are sector-specific — 228 at country × sector and 19 at the municipalities.
ROUNDING_CHAIN = ("country", "province", "swv")

#: How much the error at each level matters to users (docs/releases.md). Municipality and
#: samenwerkingsverband are where regions act; schools are many and small.
LEVEL_WEIGHTS = {"school": 1.0, "municipality": 2.0, "swv": 1.5, "rmc": 1.0,
                 "province": 0.5, "country": 0.5, "sector": 0.5,
                 # region × sector, when measured rather than derived (bench/sector_levels.py)
                 "municipality_sector": 1.0, "swv_sector": 1.0, "rmc_sector": 0.5,
                 "province_sector": 0.5}


@dataclass
class TotalResult:
    plans: dict[str, NoisePlan]
    estimate: dict[str, np.ndarray]    # GLS (unbiased) per level incl. "school"
    variance: dict[str, np.ndarray]
    integer: dict[str, np.ndarray]     # the whole-pupil view (top-down controlled rounding)
    gain: dict[str, float] = field(default_factory=dict)
    model: GlsModel | tuple | None = None   # the GLS covariance model (None for a sum of totals;
    #                                         a combination for a total reconciled across tables)
    parts: tuple[str, ...] = ()        # the basic (noised) totals this result sums


@dataclass(frozen=True)
class Table:
    """One noised table: a total (or a joint table of totals one pupil touches one cell of)
    with its per-pupil bound and its weight in the budget plan."""

    name: str
    totals: tuple[str, ...]
    bound: BoundSpec
    weight: float = 1.0


@dataclass(frozen=True)
class Structure:
    """The public structure of a release: the number of leaves (schools), per measured level
    the group of every leaf (`privacy.consistency.Level`), the derived levels — groupings of
    the leaves that are not measured (e.g. samenwerkingsverband × sector): each group the sum
    of its reconciled leaves, with the exact GLS variance of that sum (post-processing, no
    budget) — and, for levels whose verdicts compare with something other than the country
    (region × sector: the country's value for the same sector), the measured level and group
    of that reference per group. Codes and names stay with the caller."""

    n_leaves: int
    levels: Mapping[str, Level]
    derived: Mapping[str, Level] = field(default_factory=dict)
    reference: Mapping[str, tuple[str, np.ndarray]] = field(default_factory=dict)

    def cell_levels(self) -> list[str]:
        """The levels published, in order: `CELL_LEVELS` the structure has, then its other
        measured levels, then the derived ones."""
        known = [lvl for lvl in CELL_LEVELS if lvl == "school" or lvl in self.levels]
        return known + [lvl for lvl in self.levels if lvl not in CELL_LEVELS] + list(self.derived)


class Measure(Protocol):
    """A published measure: a sum of totals (`numerator`), or a ratio of two such sums
    (`denominator` not empty; `complement`: published as 1 − ratio)."""

    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    complement: bool


@dataclass(frozen=True)
class MeasureCells:
    """One measure at one level, a value per group (unrounded): the estimate (unbiased), the
    value shown to people, its 95% interval and sd, the p-value against the published
    national value (ratios below the country), the whole-pupil view (counts), the rank and
    95% rank range (nan where not ranked), whether a ratio has no estimate (`no_estimate`) or
    is unstable (`unstable`), and the noise of the measure's lead total at the level."""

    estimate: np.ndarray
    shown: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    sd: np.ndarray
    p_vs_country: np.ndarray
    integer_estimate: np.ndarray
    rank: np.ndarray
    rank_lower: np.ndarray
    rank_upper: np.ndarray
    no_estimate: np.ndarray
    unstable: np.ndarray
    noise: str
    scale: float


@dataclass(frozen=True)
class ReleaseTables:
    """What `noisy_tables` returns: noisy values only (the leaf totals are not kept)."""

    cells: dict[tuple[str, str], MeasureCells]   # (measure, level), in publishing order
    totals: dict[str, TotalResult]               # every reconciled total, sums included
    model: MeasureModel                          # covariances of the published totals
    gains: list[dict]                            # table, total, level, median_variance_gain


def _demands(tables: Sequence[Table], level_names: Sequence[str], tag: str = "") -> list[LevelDemand]:
    """One planner demand per table × level, named ``{tag}{table}@{level}``. Weights: the
    table's weight × the level's weight, divided by the squared sensitivity so that every
    table is judged on its error relative to one pupil."""
    from privacy.bounds import sensitivity

    out = []
    for t in tables:
        l2 = sensitivity(t.bound).l2
        out += [LevelDemand(f"{tag}{t.name}@{lvl}", t.weight * LEVEL_WEIGHTS[lvl] / (l2 * l2), t.bound)
                for lvl in level_names]
    return out


def plan_tables(tables: list[Table], level_names: list[str], rho: Rho) -> dict[tuple[str, str], Rho]:
    """ρ per (table, level), weighted as `_demands` says."""
    split = split_budget(_demands(tables, level_names), rho, "min_weighted_variance")
    return {(t.name, lvl): split[f"{t.name}@{lvl}"] for t in tables for lvl in level_names}


def split_between(parts: Sequence[tuple[Sequence[Table], Sequence[str]]], rho: Rho) -> list[Rho]:
    """ρ for each of several releases made from one budget (e.g. the release by school and the
    release by residence): the planner's split over every table × level of all of them at
    once (the weights of `plan_tables`), summed per part. Each part's own `plan_tables` at its
    share then gives its tables what the joint plan gives them (the rule is proportional), up
    to rounding down to whole micro-ρ."""
    per_part = [_demands(tables, levels, f"{i}:") for i, (tables, levels) in enumerate(parts)]
    split = split_budget([d for demands in per_part for d in demands], rho, "min_weighted_variance")
    return [sum((split[d.name] for d in demands), Rho.of(0)) for demands in per_part]


def predicted_half_widths(totals: list[Table], level_names: list[str], rho: Rho) -> list[dict]:
    """Before spending: the raw 95% half-width per total and level (reconciliation only
    narrows it), one row per table and level."""
    plan = plan_tables(totals, level_names, rho)
    rows = []
    for t in totals:
        for lvl in level_names:
            p = plan_gaussian(t.bound, plan[(t.name, lvl)])
            rows.append({"total": t.name, "level": lvl, "rho": float(plan[(t.name, lvl)]),
                         "scale": p.scale, "half_width_95": p.half_width(0.05)})
    return rows


def noisy_total(leaf: np.ndarray, total: Table, areas: Structure,
                plan: dict[tuple[str, str], Rho], total_name: str | None = None) -> TotalResult:
    """Noise every level of one total with OpenDP and reconcile. `leaf` is private. For a
    joint table, call once per member total with the table's plan: one pupil touches one
    cell of the whole table, so the table's ρ is spent once."""
    measurements, plans = measure_total(leaf, total, areas, plan)
    rec = reconcile(len(leaf), measurements,
                    chain=[lvl for lvl in ROUNDING_CHAIN if lvl in areas.levels])
    out = TotalResult(plans, {"school": rec.leaf_estimate}, {"school": rec.leaf_variance},
                      {"school": rec.leaf_integer.astype(np.int64)}, model=rec.model,
                      parts=(total_name or total.name,))
    out.gain["school"] = float(np.median(rec.leaf_raw_variance / np.maximum(rec.leaf_variance, 1e-300)))
    for name, res in rec.levels.items():
        out.estimate[name], out.variance[name], out.integer[name] = res.estimate, res.variance, res.integer
        out.gain[name] = res.median_gain
    return out


def measure_total(leaf: np.ndarray, total: Table, areas: Structure,
                  plan: dict[tuple[str, str], Rho]) -> tuple[list[Measured], dict[str, NoisePlan]]:
    """The noisy measurements of one total at the leaves and every level (OpenDP noise at the
    table's planned scale), in the order of `design`, with their plans. `leaf` is private."""
    measurements, plans = [], {}
    p = plan_gaussian(total.bound, plan[(total.name, "school")])
    plans["school"] = p
    measurements.append(Measured(None, add_noise(leaf, p), p.variance()))
    for name, level in areas.levels.items():
        true = np.bincount(level.group_of_leaf, weights=leaf, minlength=level.n_groups).astype(np.int64)
        p = plan_gaussian(total.bound, plan[(total.name, name)])
        plans[name] = p
        measurements.append(Measured(level, add_noise(true, p), p.variance()))
    return measurements, plans


def related_totals(leaves: dict[str, np.ndarray], whole: Table, parts: Table, areas: Structure,
                   plan: dict[tuple[str, str], Rho]) -> dict[str, TotalResult]:
    """A whole total and the joint table of its parts (`privacy.relations`): each
    noised as planned, the whole estimated by GLS from its own measurements and the sums of
    the parts', the parts adjusted to add up to it at every level. `leaves` are private."""
    name = whole.totals[0]
    n = len(leaves[name])
    whole_m, whole_plans = measure_total(leaves[name], whole, areas, plan)
    part_m = {t: measure_total(leaves[t], parts, areas, plan) for t in parts.totals}
    rec_w = relations.reconcile_whole(n, whole_m, [m for m, _ in part_m.values()], ROUNDING_CHAIN)
    own = [reconcile(n, m, chain=ROUNDING_CHAIN) for m, _ in part_m.values()]
    shared = relations.share_disagreement(rec_w, own, areas.levels)
    k = len(parts.totals)
    raw_w = _by_level({m.level.name if m.level else None: m.variance for m in whole_m})
    first = part_m[parts.totals[0]][0]
    raw_p = _by_level({m.level.name if m.level else None: m.variance for m in first})
    out = {name: _result(whole_plans, _by_level(_leaf_and_levels(rec_w, "leaf_estimate", "estimate")),
                         _by_level(_leaf_and_levels(rec_w, "leaf_variance", "variance")),
                         _by_level(_leaf_and_levels(rec_w, "leaf_integer", "integer")),
                         rec_w.model, name, raw_w)}
    model = ((1.0 / k**2, rec_w.model), ((k - 1) / k, own[0].model))
    for (total, (_, plans)), part in zip(part_m.items(), shared):
        out[total] = _result(plans, _by_level(part["estimate"]), _by_level(part["variance"]),
                             _by_level(part["integer"]), model, total, raw_p)
    return out


def _by_level(values: dict) -> dict:
    """Keys as the release names them: the leaves (None) are the 'school' level."""
    return {("school" if key is None else key): value for key, value in values.items()}


def _leaf_and_levels(rec, leaf_attr: str, level_attr: str) -> dict:
    return {None: getattr(rec, leaf_attr), **{n: getattr(r, level_attr) for n, r in rec.levels.items()}}


def _result(plans, estimate: dict, variance: dict, integer: dict, model, total: str,
            raw: dict) -> TotalResult:
    """A TotalResult from per-level arrays; the gain is the median of the raw measurement's
    variance over the reconciled one."""
    res = TotalResult(plans, estimate, variance, {k: np.asarray(v, dtype=np.int64) for k, v in integer.items()},
                      model=model, parts=(total,))
    for level, v in variance.items():
        gain = raw[level] / v[v > 0]
        res.gain[level] = float(np.median(gain)) if gain.size else 1.0
    return res


def design(total: Table, areas: Structure, plan: dict[tuple[str, str], Rho]):
    """(level, noise variance) of every measurement of one total: public, from the plan."""
    out = [(None, plan_gaussian(total.bound, plan[(total.name, "school")]).variance())]
    for name, level in areas.levels.items():
        out.append((level, plan_gaussian(total.bound, plan[(total.name, name)]).variance()))
    return out


def _sum(results: dict[str, TotalResult], names: tuple[str, ...], level: str):
    est = sum(results[n].estimate[level] for n in names)
    var = sum(results[n].variance[level] for n in names)   # totals are noised independently
    integer = sum(results[n].integer[level] for n in names)
    return est, var, integer


def _shared_variance(results: dict[str, TotalResult], a: tuple[str, ...], b: tuple[str, ...],
                     level: str) -> np.ndarray:
    """cov(Σa, Σb) per group: the variances of the basic totals both sums contain (different
    basic totals carry independent noise)."""
    parts_b = [p for n in b for p in results[n].parts]
    out = np.zeros(results[a[0]].estimate[level].size)
    for n in a:
        for p in results[n].parts:
            out += parts_b.count(p) * results[p].variance[level]
    return out


def measure_cells(measure, results: dict[str, TotalResult], level: str,
                  alpha: float = 0.05, national: float | np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Estimate, sd, interval and shown value (privacy.statistics) and the whole-pupil view of
    one measure for every group of one level. The estimate is the GLS one (counts) or the
    ratio of two GLS totals with its bias removed (rates, shares); the interval belongs to it.
    `shown` is what people read: a count's estimate cut at 0 pupils, a ratio's estimate moved
    into its interval. For a ratio and a published ``national`` value (one, or one per group:
    the same sector's for a derived level), ``p_vs_country`` is
    the p-value of "this area's true value equals it" (Fieller's pivot: exact for Gaussian
    totals), which the "higher/lower than the Netherlands" calls use."""
    n_est, n_var, n_int = _sum(results, measure.numerator, level)
    if not measure.denominator:
        lower, upper = count_intervals(n_est, n_var, alpha)
        return {"estimate": n_est, "shown": np.maximum(n_est, 0.0), "lower": lower,
                "upper": upper, "sd": np.sqrt(n_var), "p_vs_country": np.full(n_est.size, np.nan),
                "integer_estimate": n_int.astype(float), "no_estimate": np.zeros(n_est.size, bool),
                "unstable": np.zeros(n_est.size, bool)}
    d_est, d_var, _ = _sum(results, measure.denominator, level)
    cov = _shared_variance(results, measure.numerator, measure.denominator, level)
    r = ratio_intervals(n_est, d_est, n_var, d_var, cov, alpha, complement=measure.complement)
    p = np.full(n_est.size, np.nan)
    if national is not None and np.isfinite(national).any():
        p = ratio_p_values(n_est, d_est, n_var, d_var, cov, national,
                           complement=measure.complement)[0]
        p = np.where(r.no_estimate | ~np.isfinite(national), np.nan, p)
    return {"estimate": r.estimate, "shown": r.shown, "lower": r.lower, "upper": r.upper,
            "sd": r.sd, "p_vs_country": p, "integer_estimate": np.full(n_est.size, np.nan),
            "no_estimate": r.no_estimate, "unstable": r.unstable}


#: Levels whose areas are ranked (rank ranges): not the 8,400 schools, not the one country.
RANKED_LEVELS = ("province", "rmc", "swv", "municipality")


def rank_columns(measure, results: dict[str, TotalResult], model: MeasureModel, level: str,
                 vals: dict[str, np.ndarray], method: str = "differences") -> dict[str, np.ndarray]:
    """Rank (1 = highest estimate) and 95% rank range of every area of a level with an
    estimate, by deterministic draws from the published estimates' joint distribution."""
    n = vals["estimate"].size
    out = {k: np.full(n, np.nan) for k in ("rank", "rank_lower", "rank_upper")}
    keep = np.flatnonzero(~vals["no_estimate"])
    if keep.size < 2:
        return out
    groups = [(level, int(i)) for i in keep]
    n_est = _sum(results, measure.numerator, level)[0][keep]
    cnn = model.sum_cov(measure.numerator, groups, measure.numerator, groups)
    if not measure.denominator:
        ranks = rank_ranges(n_est, cnn, method=method)
    else:
        d_est = _sum(results, measure.denominator, level)[0][keep]
        cnd = model.sum_cov(measure.numerator, groups, measure.denominator, groups)
        cdd = model.sum_cov(measure.denominator, groups, measure.denominator, groups)
        mean = np.concatenate([n_est, d_est])
        cov = np.block([[cnn, cnd], [cnd.T, cdd]])
        k, complement = keep.size, measure.complement

        def ratio(x: np.ndarray) -> np.ndarray:
            r = x[:, :k] / np.maximum(x[:, k:], 1e-9)
            return 1.0 - r if complement else r

        ranks = rank_ranges(mean, cov, transform=ratio, method=method)
    out["rank"][keep], out["rank_lower"][keep], out["rank_upper"][keep] = \
        ranks.rank, ranks.lower, ranks.upper
    return out


def measure_model(results: dict[str, TotalResult], structure: Structure | None = None) -> MeasureModel:
    derived = dict(structure.derived) if structure else {}
    return MeasureModel({n: r.model for n, r in results.items() if r.model is not None},
                        {n: r.parts for n, r in results.items()}, derived)


#: The levels of `ReleaseTables.cells`, in publishing order (those of the structure; then
#: the leaves, published as 'school').
CELL_LEVELS = ("country", "sector", "province", "rmc", "swv", "municipality", "school")


def model_variance(model, level: Level, cache: dict | None = None) -> np.ndarray:
    """The exact variance of every group's sum of reconciled leaves under a total's GLS model
    (a combination ``((c, model), …)`` for a total reconciled across tables). Models that
    share their normal matrix up to a factor (`GlsModel.scale`) share one computation, kept
    in `cache` for the release."""
    if isinstance(model, tuple):
        return sum(c * model_variance(m, level, cache) for c, m in model)
    cache = {} if cache is None else cache
    key = (id(model.m_inv_scaled), level.name)
    if key not in cache:
        cache[key] = (model.group_variance(level.group_of_leaf, level.n_groups) / model.scale,
                      model.m_inv_scaled)     # held, so that its id is not reused meanwhile
    return cache[key][0] * model.scale


def with_derived(result: TotalResult, derived: Mapping[str, Level],
                 cache: dict | None = None) -> TotalResult:
    """Add the derived levels to a reconciled total: each group the sum of its leaves' GLS
    estimates (and integers), its variance from the total's model. Post-processing only."""
    leaf_est, leaf_int = result.estimate["school"], result.integer["school"]
    for name, level in derived.items():
        groups = level.group_of_leaf
        inside = groups >= 0
        n = level.n_groups
        result.estimate[name] = np.bincount(groups[inside], weights=leaf_est[inside], minlength=n)
        result.integer[name] = np.bincount(groups[inside], weights=leaf_int[inside],
                                           minlength=n).round().astype(np.int64)
        result.variance[name] = np.maximum(model_variance(result.model, level, cache), 0.0)
    return result


def summed_totals(parts: list[TotalResult]) -> TotalResult:
    """A total published as the sum of reconciled totals (post-processing: no noise of its
    own; its variance is the sum of the parts', which are noised independently)."""
    out = TotalResult(parts[-1].plans, {}, {}, {}, parts=tuple(q for p in parts for q in p.parts))
    for level in parts[0].estimate:
        out.estimate[level] = sum(p.estimate[level] for p in parts)
        out.variance[level] = sum(p.variance[level] for p in parts)
        out.integer[level] = sum(p.integer[level] for p in parts)
    return out


def related_tables(tables: Sequence[Table], related: Mapping[str, str] = relations.RELATIONS
                   ) -> dict[str, tuple[Table, Table]]:
    """The relations (whole -> joint table of its parts) whose whole and parts tables are
    both noised: name of the whole -> (its table, the joint table of its parts)."""
    by_name = {t.name: t for t in tables}
    return {whole: (by_name[whole], by_name[parts]) for whole, parts in related.items()
            if whole in by_name and parts in by_name}


def noisy_tables(leaf_totals: Mapping[str, np.ndarray], structure: Structure,
                 tables: Sequence[Table], rho: Rho, *, levels: Sequence[str],
                 measures: Sequence[Measure], sums: Mapping[str, tuple[str, ...]] | None = None,
                 related: Mapping[str, str] = relations.RELATIONS, ranks: bool = True,
                 rank_method: str = "differences", alpha: float = 0.05,
                 national: Mapping[str, float] | None = None) -> ReleaseTables:
    """THE entry of the release maths: plan `rho` over `tables` × `levels`, noise every
    total at the leaves and every level, reconcile within and across tables (`related`),
    form the totals of `sums` from reconciled ones, and every measure's estimate, interval
    and (``ranks``) rank range at every level of `CELL_LEVELS` the structure has.

    `leaf_totals` (total -> int vector over the leaves) is private and not kept. Each call
    draws fresh noise. ``rank_method`` picks `privacy.statistics.rank_ranges`' construction.
    ``national`` (measure -> published value) is the reference of the p-values when the
    structure has no country level of its own (the release by residence: the same pupils'
    national value, from the release by school)."""
    plan = plan_tables(list(tables), list(levels), rho)
    results: dict[str, TotalResult] = {}
    for whole, parts in related_tables(tables, related).values():
        leaves = {t: leaf_totals[t] for t in whole.totals + parts.totals}
        results.update(related_totals(leaves, whole, parts, structure, plan))
    gains = []
    for table in tables:
        for total in table.totals:
            if total not in results:
                results[total] = noisy_total(leaf_totals[total], table, structure, plan, total)
            gains += [{"table": table.name, "total": total, "level": lvl, "median_variance_gain": g}
                      for lvl, g in results[total].gain.items()]
    if structure.derived:
        cache: dict = {}
        for result in results.values():
            with_derived(result, structure.derived, cache)
    for alias, parts_of in (sums or {}).items():
        results[alias] = summed_totals([results[b] for b in parts_of])
    model = measure_model(results, structure)
    cells = {}
    for m in measures:
        lead = results[m.numerator[0]]
        reference_value = (national or {}).get(m.name) if m.denominator else None
        by_level: dict[str, np.ndarray] = {}
        for level in structure.cell_levels():
            reference = reference_value if level not in ("country", "sector") else None
            if level in structure.reference:
                ref_level, ref_group = structure.reference[level]
                reference = by_level[ref_level][ref_group] if ref_level in by_level else None
            vals = measure_cells(m, results, level, alpha, reference)
            if m.denominator:
                # the published values, as stored (6 decimals): national references
                by_level[level] = np.round(vals["estimate"], 6)
            if level == "country" and m.denominator:
                reference_value = float(by_level["country"][0])
            ranked = (rank_columns(m, results, model, level, vals, rank_method)
                      if ranks and level in RANKED_LEVELS
                      else {k: np.full(vals["estimate"].size, np.nan)
                            for k in ("rank", "rank_lower", "rank_upper")})
            # a derived level is not measured: its noise is that of the leaves it sums
            plan_at = lead.plans["school" if level in structure.derived else level]
            cells[(m.name, level)] = MeasureCells(**vals, **ranked, noise=plan_at.mechanism,
                                                  scale=plan_at.scale)
    return ReleaseTables(cells, results, model, gains)


def covariance_model(structure: Structure, tables: Sequence[Table], rho: Rho, *,
                     levels: Sequence[str], sums: Mapping[str, tuple[str, ...]] | None = None,
                     related: Mapping[str, str] = relations.RELATIONS) -> MeasureModel:
    """The covariance model `noisy_tables` would give at `rho`, from public inputs only (the
    structure and the plan): no data, no noise. Comparisons of published values use it."""
    n = structure.n_leaves
    plan = plan_tables(list(tables), list(levels), rho)
    models, parts = {}, {}
    for table in tables:
        model = gls_model(n, design(table, structure, plan))
        for total in table.totals:
            models[total], parts[total] = model, (total,)
    for whole, part_table in related_tables(tables, related).values():
        whole_design, part_design = design(whole, structure, plan), design(part_table, structure, plan)
        k = len(part_table.totals)
        models[whole.totals[0]] = gls_model(n, relations.combined_design(whole_design, part_design, k))
        for total in part_table.totals:
            models[total] = relations.part_model(whole_design, part_design, n, k)
    for alias, parts_of in (sums or {}).items():
        parts[alias] = parts_of
    return MeasureModel(models, parts, dict(structure.derived))
