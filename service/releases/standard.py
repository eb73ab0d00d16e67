"""The yearly standard release: what is noised, how the budget is split, and publishing it.

The path (docs/architecture.md): `aggregate.leaf_totals` reads the true totals per school
(SQL), `privacy.release.noisy_tables` does ALL the release maths in one call (plan, noise,
reconciliation within and across tables, intervals, rank ranges), `cells.cells_frame` lays
out the published cells, and `publish.publish` charges and stores them (asked as a
`StandardSpec`).

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
Across tables (`privacy.relations`): absent minutes are estimated by GLS from their own
table and the sum of the noisy reasons, and the reasons add up to them at every level;
enrolled = Σ bands by construction. Rates and shares are ratios of two reconciled totals.

The plan's weights (docs/releases.md): a joint table weighs the sum of its members' weights
(the planner minimises Σ weight · variance / Δ2², and every member of a joint table has the
table's variance), so the reason table weighs 5 × 0.5 = 2.5, what the five reason tables
weighed together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import pandas as pd

from privacy import release as maths
from privacy.budget import Rho
from privacy.covariance import MeasureModel
from privacy.ledger import StoredRelease
from privacy.release import Structure, Table
from service.db import Database
from service.engines import Engine
from service.register.areas import AreaLevels, area_structure, reconciled_levels
from service.releases import aggregate
from service.releases.catalogue import BANDS, JOINT_TABLES, MEASURES, REASONS, TOTALS
from service.releases.cells import cells_frame
from service.releases.budget import pool_cap
from service.releases.publish import Computed, ReleaseSpec, publish, question_text
from service.releases.small_area import model_columns
from service.settings import Settings

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

#: The release by residence (issue 26): the leerplicht view, per municipality of residence
#: (where a leerplichtambtenaar is responsible, wherever the pupil goes to school). Noised per
#: municipality of residence only (the release by school carries the country), from the same
#: yearly ρ: the planner splits the standard pool over both releases' tables at once
#: (`privacy.release.split_between`). Weights: as the release by school weighs a table at the
#: municipality level (level weight 2), long-term absence (thuiszitters) twice that.
RESIDENCE_TABLES: tuple[Table, ...] = (
    Table("band", BAND_TOTALS, BAND_BOUND, weight=6.0),
    Table("long_term", ("long_term",), TOTALS["long_term"].bound, 4.0),
    Table("signal16", ("signal16",), TOTALS["signal16"].bound, 2.0),
)
#: The level name of the cells by residence.
RESIDENCE = "residence"

#: Totals published as sums of reconciled bands instead of being noised themselves.
BAND_SUMS = {"enrolled": BAND_TOTALS,
             "chronic": tuple(f"band_{k}" for k, (lo, _) in enumerate(BANDS) if lo >= 10),
             "severe": tuple(f"band_{k}" for k, (lo, _) in enumerate(BANDS) if lo >= 50)}

#: Region × sector measured as levels of their own (the rest of region × sector — RMC region
#: and province — is derived from the reconciled schools, at no budget). Chosen on 1,000,000
#: pupils (bench/sector_levels.py, docs/benchmarks.md): measuring municipality × sector and
#: samenwerkingsverband × sector gives those cells 0.40–0.65 of the derived sd, RMC and
#: province × sector 0.42–0.50, at +8–17% sd for the school, province, RMC and country cells
#: (samenwerkingsverband −8%, municipality ±2%); measuring all four costs the schools +22%.
SECTOR_MEASURED = ("municipality_sector", "swv_sector")
BASE_LEVELS = ("school", "municipality", "province", "country", "rmc", "swv", "sector")
LEVELS = BASE_LEVELS + SECTOR_MEASURED
#: The measures published by residence: those of the residence tables' totals.
RESIDENCE_MEASURES = [m for m in MEASURES.values()
                      if set(m.numerator + m.denominator)
                      <= {t for table in RESIDENCE_TABLES for t in table.totals} | set(BAND_SUMS)]


@dataclass(frozen=True)
class StandardRelease:
    """Noisy, reconciled cells (no true values) and the accuracy gain per table and level."""

    cells: pd.DataFrame
    gains: pd.DataFrame
    rho: Rho


def _areas(school_ids: list[str], school_names: list[str],
           lv: dict[str, aggregate.LevelMap]) -> AreaLevels:
    """Levels for reconciliation (`register.areas.reconciled_levels`: "swv" joined)."""
    return reconciled_levels(school_ids, school_names, lv)


def _structure(areas: AreaLevels, measured: tuple[str, ...] = SECTOR_MEASURED) -> Structure:
    """What the release maths sees of the areas: the leaves, every measured level's grouping,
    and the region × sector levels — derived from the leaves, or measured if named in
    `measured` — each compared with the country's value for its sector."""
    sectors = areas.codes["sector"]
    reference = {name: ("sector", np.array([sectors.index(s) for s in areas.sectors[name]],
                                           dtype=np.int64)) for name in areas.derived}
    levels = {**areas.levels, **{n: areas.derived[n] for n in measured}}
    derived = {n: lvl for n, lvl in areas.derived.items() if n not in measured}
    return Structure(len(areas.school_codes), levels, derived, reference)


def compute_standard_release(con: duckdb.DuckDBPyConnection, school_year: str,
                             total_rho: Rho, *, engine: Engine | None = None,
                             database: Database | None = None) -> StandardRelease:
    """Noise, reconcile and form every measure at every level, with the schools' model
    estimates beside the direct ones (`small_area.model_columns`: post-processing of the
    cells). Pure of the ledger (the evaluation uses it on synthetic data); `publish_standard`
    charges and stores it. The true totals are read on `engine` (default: DuckDB on `con`)."""
    leaf = aggregate.leaf_totals(con, school_year, engine=engine, database=database)
    release = release_from_leaf(leaf, total_rho)
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    return replace(release, cells=model_columns(release.cells, areas))


def release_from_leaf(leaf: aggregate.LeafTotals, total_rho: Rho, *, ranks: bool = True,
                      rank_method: str = "differences", tables: tuple[Table, ...] = TABLES,
                      measured_sectors: tuple[str, ...] = SECTOR_MEASURED) -> StandardRelease:
    """The standard release from the per-school totals already read (the evidence draws many
    releases from one scan; each call draws fresh noise). ``ranks=False`` skips the rank
    ranges (post-processing only; the evidence of errors does not need them); ``rank_method``
    picks `privacy.statistics.rank_ranges`' construction (the evidence compares both);
    ``tables`` is the layout (the benchmark's baseline passes `SEPARATE_REASON_TABLES`);
    ``measured_sectors`` names region × sector levels to measure instead of deriving them
    (bench/sector_levels.py compares the two)."""
    areas = _areas(leaf.school_ids, leaf.school_names, leaf.levels)
    levels = BASE_LEVELS + measured_sectors
    parts = [(tables, levels)] + ([(RESIDENCE_TABLES, ("school",))] if leaf.residence else [])
    rhos = maths.split_between(parts, total_rho)
    noisy = maths.noisy_tables({name: v.values for name, v in leaf.totals.items()},
                               _structure(areas, measured_sectors), tables, rhos[0],
                               levels=levels, measures=list(MEASURES.values()), sums=BAND_SUMS,
                               ranks=ranks, rank_method=rank_method)
    cells = cells_frame(list(MEASURES.values()), noisy, areas)
    if leaf.residence:
        national = {name: float(np.round(c.estimate[0], 6))
                    for (name, level), c in noisy.cells.items() if level == "country"}
        cells = pd.concat([cells, residence_cells(leaf.residence, rhos[1], national)],
                          ignore_index=True)
    # the 'sector' level is the country split by sector
    is_sector = cells["level"] == "sector"
    cells.loc[is_sector, "sector"] = cells.loc[is_sector, "area_code"]
    cells.loc[is_sector, ["level", "area_code", "area_name"]] = ["country", "NL", "Nederland"]
    return StandardRelease(cells, pd.DataFrame(noisy.gains), total_rho)


def residence_cells(residence: aggregate.GroupedTotals, rho: Rho,
                    national: dict[str, float]) -> pd.DataFrame:
    """The cells by municipality of residence (level 'residence'): the residence tables noised
    at the municipalities of residence (every one of the register's), reconciled across the
    bands, at `rho`; p-values against the `national` values of the release by school (the
    same pupils)."""
    codes = [k[0] for k in residence.keys]
    names = [n[0] for n in residence.key_names]
    noisy = maths.noisy_tables({name: v.values for name, v in residence.totals.items()},
                               Structure(len(codes), {}), RESIDENCE_TABLES, rho,
                               levels=("school",), measures=RESIDENCE_MEASURES, sums=BAND_SUMS,
                               ranks=False, national=national)
    frame = cells_frame(RESIDENCE_MEASURES, noisy, AreaLevels(codes, names, {}, {}, {}))
    frame["level"] = RESIDENCE
    return frame


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
        elif sector != "all":
            name = f"{level}_sector"
            pairs = list(zip(self.areas.codes.get(name, []), self.areas.sectors.get(name, [])))
            return (name, pairs.index((code, sector))) if (code, sector) in pairs else None
        codes = self.areas.school_codes if level == "school" else self.areas.codes.get(level)
        if codes is None or code not in codes:
            return None
        return (level, codes.index(code))


def release_model(con: duckdb.DuckDBPyConnection, school_year: str, rho: Rho,
                  spec: dict | None = None, database: Database | None = None) -> ReleaseModel:
    """The covariance model of the standard release of `school_year` at ρ (public inputs), as
    its `spec` (the stored question) says it was made: its levels, and whether the release
    by residence shared the ρ (today's layout when no spec is given)."""
    spec = spec or {"levels": list(LEVELS), "residence_tables": [t.name for t in RESIDENCE_TABLES]}
    levels = tuple(spec.get("levels", BASE_LEVELS))
    parts = [(TABLES, levels)] + ([(RESIDENCE_TABLES, ("school",))]
                                  if "residence_tables" in spec else [])
    areas = area_structure(con, school_year, database=database).reconciled
    structure = _structure(areas, tuple(lvl for lvl in levels if lvl in SECTOR_MEASURED))
    return ReleaseModel(areas, maths.covariance_model(structure, TABLES,
                                                      maths.split_between(parts, rho)[0],
                                                      levels=levels, sums=BAND_SUMS))


def plan_table(con: duckdb.DuckDBPyConnection, school_year: str,
               rho: Rho | None = None, settings: Settings | None = None) -> pd.DataFrame:
    """The budget plan before spending: ρ (the year's standard pool unless given), noise scale
    and raw 95% half-width per table and level (reconciliation narrows the upper levels
    further)."""
    rho = rho if rho is not None else pool_cap(con, school_year, "standard", settings)
    by_school, by_residence = maths.split_between([(TABLES, LEVELS), (RESIDENCE_TABLES, ("school",))], rho)
    frame = pd.DataFrame(maths.predicted_half_widths(list(TABLES), list(LEVELS), by_school))
    residence = pd.DataFrame(maths.predicted_half_widths(list(RESIDENCE_TABLES), ["school"], by_residence))
    residence["level"] = RESIDENCE
    frame = pd.concat([frame, residence], ignore_index=True)
    members = {t.name: len(t.totals) for t in TABLES + RESIDENCE_TABLES}
    frame.insert(1, "totals", frame["total"].map(members))    # a joint table: one ρ for all
    return frame.rename(columns={"total": "table"})


#: How the standard release is made, as its payload's `method` says.
METHOD = {"mechanism": "discrete_gaussian (OpenDP 0.16, zCDP)",
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
          "unit_of_privacy": "one pupil in one school year"}


@dataclass(frozen=True, kw_only=True)
class StandardSpec(ReleaseSpec):
    """The standard release of a school year (`dataset`) at ρ, from the standard pool."""

    kind: str = "standard"
    pool: str = "standard"
    engine: Engine | None = field(default=None, compare=False)   # where the totals are read
    database: Database | None = field(default=None, compare=False)  # the register's structure

    @classmethod
    def of(cls, school_year: str, rho: Rho, engine: Engine | None = None,
           database: Database | None = None) -> StandardSpec:
        question = {"tables": [t.name for t in TABLES], "levels": list(LEVELS),
                    "residence_tables": [t.name for t in RESIDENCE_TABLES],
                    "measures": sorted(MEASURES), "rho": str(rho.value), "revision": 5}
        return cls(dataset=school_year, question=question_text(question), rho=rho, engine=engine,
                   database=database)

    def compute(self, con: duckdb.DuckDBPyConnection) -> Computed:
        release = compute_standard_release(con, self.dataset, self.rho, engine=self.engine,
                                           database=self.database)
        gain = release.gains.groupby("level")["median_variance_gain"].median().round(3).to_dict()
        return Computed(release.cells, {**METHOD, "accuracy_gain": gain})


def publish_standard(con: duckdb.DuckDBPyConnection, settings: Settings, school_year: str,
                     rho: Rho | None = None, *, engine: Engine | None = None,
                     database: Database | None = None) -> StoredRelease:
    """Publish (or return the already published) standard release of a school year: it spends
    the year's standard pool (`AANWEZIG_YEARLY_RHO` × 0.6 when the year was opened) unless
    `rho` is given. The true totals are read on `engine` (default: DuckDB on `con`)."""
    rho = rho if rho is not None else pool_cap(con, school_year, "standard", settings)
    return publish(con, settings, StandardSpec.of(school_year, rho, engine, database),
                   database=database)
