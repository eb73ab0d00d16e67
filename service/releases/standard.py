"""The yearly standard release: what is noised, how the budget is split, and publishing it.

Tables noised at every level (school, municipality, province, country, RMC region,
samenwerkingsverband, and the country by sector):
- the absence-band histogram (`band_0` … `band_4`) as ONE table: a pupil lies in exactly one
  band, so the five vectors together have L2 sensitivity 1 and cost one table's ρ. Pupils
  enrolled (all bands), chronic (bands 10–20, 20–50, ≥ 50 %) and severe (≥ 50 %) counts are
  sums of reconciled bands — post-processing, consistent with the bands by construction;
- possible minutes and absent minutes (each up to the year's school minutes per pupil);
- the absent minutes per reason as ONE table: a pupil's five reasons are non-negative parts of
  its absent minutes, clamped in SQL to add up to at most the year's minutes, so the five
  vectors together have the L2 sensitivity of one minute table (`JOINT_TABLES["reason"]`);
- long-term absence and the 16-hour signal (0/1 per pupil).
Across tables (`service.releases.relations`): absent minutes are estimated by GLS from their own
table and the sum of the noisy reasons, and the reasons add up to them at every level;
enrolled = Σ bands by construction. Rates and shares are ratios of two reconciled totals.

The plan's weights (docs/releases.md): a joint table weighs the sum of its members' weights
(the planner minimises Σ weight · variance / Δ2², and every member of a joint table has the
table's variance), so the reason table weighs 5 × 0.5 = 2.5, what the five reason tables
weighed together.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from privacy.budget import Rho
from privacy.consistency import Level, gls_model
from privacy.ledger import StoredRelease
from service.releases import aggregate
from service.releases.catalogue import BANDS, JOINT_TABLES, MEASURES, REASONS, TOTALS
from service.releases.store import Computed, pool_cap, publish
from service.settings import Settings
from service.releases.covariance import MeasureModel
from service.releases.relations import RELATIONS, combined_design, part_model
from service.releases.standard_tables import (AreaLevels, Table, TotalResult, cells_frame, design,
                                              noisy_total, plan_tables, predicted_half_widths,
                                              related_totals)

BAND_TOTALS, BAND_BOUND = JOINT_TABLES["band"]
REASON_TOTALS, REASON_BOUND = JOINT_TABLES["reason"]
#: Weight of each reason's error in the plan.
REASON_WEIGHT = 0.5

#: The noised tables and their weights in the plan (docs/releases.md).
TABLES: tuple[Table, ...] = (
    Table("band", BAND_TOTALS, BAND_BOUND, weight=3.0),
    Table("possible_minutes", ("possible_minutes",), TOTALS["possible_minutes"].bound, 1.0),
    Table("absent_minutes", ("absent_minutes",), TOTALS["absent_minutes"].bound, 2.0),
    Table("reason", REASON_TOTALS, REASON_BOUND, weight=REASON_WEIGHT * len(REASON_TOTALS)),
    Table("long_term", ("long_term",), TOTALS["long_term"].bound, 1.0),
    Table("signal16", ("signal16",), TOTALS["signal16"].bound, 1.0),
)
#: The layout before joint reason tables (five tables of one reason each, no reconciliation
#: across tables): the baseline of bench/joint_tables.py, never published.
SEPARATE_REASON_TABLES: tuple[Table, ...] = tuple(
    t for t in TABLES if t.name != "reason") + tuple(
    Table(f"{r}_minutes", (f"{r}_minutes",), TOTALS[f"{r}_minutes"].bound, REASON_WEIGHT)
    for r in REASONS)

#: Totals published as sums of reconciled bands instead of being noised themselves.
BAND_SUMS = {"enrolled": BAND_TOTALS,
             "chronic": tuple(f"band_{k}" for k, (lo, _) in enumerate(BANDS) if lo >= 10),
             "severe": tuple(f"band_{k}" for k, (lo, _) in enumerate(BANDS) if lo >= 50)}

LEVELS = ("school", "municipality", "province", "country", "rmc", "swv", "sector")


@dataclass(frozen=True)
class StandardRelease:
    """Noisy, reconciled cells (no true values) and the accuracy gain per table and level."""

    cells: pd.DataFrame
    gains: pd.DataFrame
    rho: Rho


def _areas(school_ids: list[str], school_names: list[str],
           lv: dict[str, aggregate.LevelMap]) -> AreaLevels:
    """Levels for reconciliation: the register's, with the PO and VO partnerships joined into
    one 'swv' level (every school lies in exactly one of them)."""
    levels, codes, names = {}, {}, {}
    for name in ("municipality", "province", "country", "rmc", "sector"):
        levels[name] = Level(name, lv[name].group_of_school, len(lv[name].codes))
        codes[name], names[name] = lv[name].codes, lv[name].names
    po, vo = lv["swv_po"], lv["swv_vo"]
    group = np.where(po.group_of_school >= 0, po.group_of_school,
                     np.where(vo.group_of_school >= 0, vo.group_of_school + len(po.codes), -1))
    levels["swv"] = Level("swv", group, len(po.codes) + len(vo.codes))
    codes["swv"], names["swv"] = po.codes + vo.codes, po.names + vo.names
    return AreaLevels(school_ids, school_names, levels, codes, names)


def _summed(parts: list[TotalResult]) -> TotalResult:
    out = TotalResult(parts[-1].plans, {}, {}, {}, parts=tuple(q for p in parts for q in p.parts))
    for level in parts[0].estimate:
        out.estimate[level] = sum(p.estimate[level] for p in parts)
        out.variance[level] = sum(p.variance[level] for p in parts)
        out.integer[level] = sum(p.integer[level] for p in parts)
    return out


def compute_standard_release(con: duckdb.DuckDBPyConnection, school_year: str,
                             total_rho: Rho) -> StandardRelease:
    """Noise, reconcile and form every measure at every level. Pure of the ledger (the
    evaluation uses it on synthetic data); `publish_standard` charges and stores it."""
    return release_from_leaf(aggregate.leaf_totals(con, school_year), total_rho)


def _related(tables: tuple[Table, ...]) -> dict[str, tuple[Table, Table]]:
    """The relations of `relations.RELATIONS` whose whole and parts tables are both noised:
    name of the whole -> (its table, the joint table of its parts)."""
    by_name = {t.name: t for t in tables}
    return {whole: (by_name[whole], by_name[parts]) for whole, parts in RELATIONS.items()
            if whole in by_name and parts in by_name}


def release_from_leaf(leaf: aggregate.LeafTotals, total_rho: Rho, *, ranks: bool = True,
                      rank_method: str = "differences",
                      tables: tuple[Table, ...] = TABLES) -> StandardRelease:
    """The standard release from the per-school totals already read (the evidence draws many
    releases from one scan; each call draws fresh noise). ``ranks=False`` skips the rank
    ranges (post-processing only; the evidence of errors does not need them); ``rank_method``
    picks `privacy.statistics.rank_ranges`' construction (the evidence compares both);
    ``tables`` is the layout (the benchmark's baseline passes `SEPARATE_REASON_TABLES`)."""
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    plan = plan_tables(list(tables), list(LEVELS), total_rho)
    results: dict[str, TotalResult] = {}
    related = _related(tables)
    for whole, parts in related.values():
        leaves = {t: leaf.totals[t].values for t in whole.totals + parts.totals}
        results.update(related_totals(leaves, whole, parts, areas, plan))
    gains = []
    for table in tables:
        for total in table.totals:
            if total not in results:
                results[total] = noisy_total(leaf.totals[total].values, table, areas, plan, total)
            gains += [{"table": table.name, "total": total, "level": lvl, "median_variance_gain": g}
                      for lvl, g in results[total].gain.items()]
    for alias, bands in BAND_SUMS.items():
        results[alias] = _summed([results[b] for b in bands])
    cells = cells_frame(list(MEASURES.values()), results, areas, ranks=ranks,
                        rank_method=rank_method)
    # the 'sector' level is the country split by sector
    is_sector = cells["level"] == "sector"
    cells.loc[is_sector, "sector"] = cells.loc[is_sector, "area_code"]
    cells.loc[is_sector, ["level", "area_code", "area_name"]] = ["country", "NL", "Nederland"]
    return StandardRelease(cells, pd.DataFrame(gains), total_rho)


@dataclass(frozen=True)
class ReleaseModel:
    """The public covariance model of a standard release: its structure (areas) and the GLS
    model of every total, rebuilt from the register and the release's ρ (no data read)."""

    areas: AreaLevels
    measures: MeasureModel

    def group(self, level: str, sector: str, code: str) -> tuple[str, int] | None:
        """The model's group for a published cell, or None if the register has no such area."""
        if level == "country" and sector != "all":
            level, code = "sector", sector
        codes = self.areas.school_codes if level == "school" else self.areas.codes.get(level)
        if codes is None or code not in codes:
            return None
        return (level, codes.index(code))


def release_model(con: duckdb.DuckDBPyConnection, school_year: str, rho: Rho) -> ReleaseModel:
    """The covariance model of the standard release of `school_year` at ρ (public inputs)."""
    ids, names, lv = aggregate.register_levels(con, school_year)
    areas = _areas(ids, names, lv)
    plan = plan_tables(list(TABLES), list(LEVELS), rho)
    models, parts = {}, {}
    for table in TABLES:
        model = gls_model(len(ids), design(table, areas, plan))
        for total in table.totals:
            models[total], parts[total] = model, (total,)
    for whole, part_table in _related(TABLES).values():
        whole_design, part_design = design(whole, areas, plan), design(part_table, areas, plan)
        k = len(part_table.totals)
        models[whole.totals[0]] = gls_model(len(ids), combined_design(whole_design, part_design, k))
        for total in part_table.totals:
            models[total] = part_model(whole_design, part_design, len(ids), k)
    for alias, bands in BAND_SUMS.items():
        parts[alias] = bands
    return ReleaseModel(areas, MeasureModel(models, parts))


def plan_table(con: duckdb.DuckDBPyConnection, school_year: str,
               rho: Rho | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """The budget plan before spending: ρ (the year's standard pool unless given), noise scale
    and raw 95% half-width per table and level (reconciliation narrows the upper levels
    further)."""
    rho = rho if rho is not None else pool_cap(con, school_year, "standard", settings)
    frame = predicted_half_widths(list(TABLES), list(LEVELS), rho)
    members = {t.name: len(t.totals) for t in TABLES}
    frame.insert(1, "totals", frame["total"].map(members))    # a joint table: one ρ for all
    return frame.rename(columns={"total": "table"})


def publish_standard(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str,
                     rho: Rho | None = None) -> StoredRelease:
    """Publish (or return the already published) standard release of a school year: it spends
    the year's standard pool (`AANWEZIG_YEARLY_RHO` × 0.6 when the year was opened) unless
    `rho` is given."""
    rho = rho if rho is not None else pool_cap(con, school_year, "standard", settings)
    spec = {"tables": [t.name for t in TABLES], "levels": list(LEVELS),
            "measures": sorted(MEASURES), "rho": str(rho.value), "revision": 3}

    def compute() -> Computed:
        release = compute_standard_release(con, school_year, rho)
        method = {"mechanism": "discrete_gaussian (OpenDP 0.16, zCDP)",
                  "consistency": "generalised least squares over all levels (Woodbury) and "
                                 "across tables (absent minutes = the sum of the reasons, "
                                 "enrolled = the sum of the bands), then non-negative integers "
                                 "by controlled rounding",
                  "estimate": "counts: the GLS (minimum-variance unbiased) estimate; rates and "
                              "shares: the ratio of two GLS totals with its bias removed to "
                              "second order, not cut to [0, 1]; shown: the value for reading "
                              "(counts cut at 0, ratios moved into their interval)",
                  "intervals": "95%: counts estimate ± 1.96 sd, cut at 0; rates and shares: "
                               "Fieller's interval of the two reconciled totals, cut to [0, 1]; "
                               "sd: the root mean squared error of the estimate",
                  "verdicts": "higher/lower than the Netherlands: Benjamini-Hochberg over the "
                              "areas of a level and measure (false discovery rate 5%) on "
                              "p_vs_country (Fieller's pivot)",
                  "ranks": "rank 1 = highest estimate; 95% rank range from simultaneous intervals "
                           "of the area's differences with every other area, the critical value "
                           "from 511 deterministic Sobol draws of the estimates' joint Gaussian "
                           "distribution",
                  "unit_of_privacy": "one pupil in one school year",
                  "accuracy_gain": release.gains.groupby("level")["median_variance_gain"]
                  .median().round(3).to_dict()}
        return Computed(release.cells, method)

    return publish(con, settings, kind="standard", dataset=school_year, spec=spec,
                   pool="standard", principal=None, rho=rho, compute=compute)
