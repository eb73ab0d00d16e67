"""True integer totals over `pupil_year`, grouped by public keys only. PRIVATE: never log them.

`leaf_totals` is one scan grouped by school (every school of the register, zeros included),
with the register's mappings so that higher levels are sums in numpy. `grouped_totals` answers
ad-hoc group-bys over the full cross product of the public key sets; a query that groups by or
filters on `month` reads `pupil_month` (sql/aggregate_month_contributions.sql) instead.

Privacy argument: the per-pupil contributions are clamped in sql/aggregate_contributions.sql
with the bounds declared in `service.releases.catalogue` (the same bounds derive applied), and each
pupil has one row, so each pupil lands in at most one cell of every returned vector: the
`BoundSpec` each `TotalVector` carries is exactly what `privacy.bounds.sensitivity` needs.
Monthly: one row per pupil and month, clamped to the month bound, so a pupil lands in at most
one cell per selected month; the vectors carry `catalogue.table_bound` (max_cells = the
months selected).
Keys come from the register and the catalogue, never from the data. The SQL is built only
from `sql/` files, whitelisted column names and the catalogue's total names; values are bound
as parameters. The scans run on the engine in use (`service.engines.current`: DuckDB on `con`
by default, or Spark); the register's keys are read from `con`. The vectors
are kept out of every repr so that they can't slip into a log or an error message.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import duckdb
import numpy as np

import sql
from privacy.bounds import BoundSpec
from service import engines
from service.db import Database
from service.releases.catalogue import (MAX_MONTH_MINUTES, MAX_YEAR_MINUTES, MONTH, TOTALS, period,
                               period_totals, table_bound)
from service.register.areas import LEAF_LEVELS, LevelMap, area_structure  # noqa: F401
from service.register.dimensions import (DIMENSIONS, CatalogueError, filter_clause, public_keys,
                                         validate_dimensions)

#: An ad-hoc query may ask at most this many cells.
MAX_CELLS = 500_000
#: Dimensions that are attributes of the school (filters on them narrow the register's keys).
SCHOOL_DIMENSIONS = ("country", "province", "rmc", "swv_po", "swv_vo", "municipality", "school",
                     "sector")


@dataclass(frozen=True)
class TotalVector:
    """One total over a vector of public keys, with what one pupil can add to it."""

    name: str
    bound: BoundSpec
    values: np.ndarray = field(repr=False, compare=False)   # int64; private


@dataclass(frozen=True)
class LeafTotals:
    """Per school (register order: school_id), every total; plus the register mappings."""

    school_year: str
    school_ids: list[str] = field(repr=False)
    school_names: list[str] = field(repr=False)
    totals: dict[str, TotalVector] = field(repr=False)
    levels: dict[str, LevelMap] = field(repr=False)
    #: every total per municipality of residence (all of the register's, zeros included), for
    #: the release by residence; None where not read
    residence: GroupedTotals | None = field(default=None, repr=False)

    def at_level(self, total: str, level: str) -> np.ndarray:
        """A total summed to a level ('school' gives the leaves themselves)."""
        leaf = self.totals[total].values
        return leaf if level == "school" else self.levels[level].sum(leaf)


@dataclass(frozen=True)
class GroupedTotals:
    """Every total over the full cross product of the group-by dimensions' public keys."""

    school_year: str
    group_by: tuple[str, ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]
    keys: list[tuple[str, ...]] = field(repr=False)
    key_names: list[tuple[str, ...]] = field(repr=False)
    totals: dict[str, TotalVector] = field(repr=False)


class MonthsNotDerived(RuntimeError):
    """pupil_year holds the school year but pupil_month does not: the database was derived
    before months existed; run the derive again (`service.derive.rebuild`)."""

    def __init__(self, school_year: str) -> None:
        super().__init__(f"the monthly per-pupil table of {school_year} is not derived yet; "
                         "rebuild the derived tables")


def _contributions(period_name: str = "school_year") -> str:
    name = "aggregate_month_contributions" if period_name == MONTH else "aggregate_contributions"
    return sql.load(name).strip()


def _params(school_year: str, period_name: str = "school_year") -> dict:
    if period_name == MONTH:
        return {"school_year": school_year, "max_month_minutes": MAX_MONTH_MINUTES}
    return {"school_year": school_year, "max_year_minutes": MAX_YEAR_MINUTES}


def _check_months_derived(engine: engines.Engine, school_year: str) -> None:
    """Refuse to answer a monthly query with zeros because the derive predates months."""
    if not engine.has_table("pupil_month"):
        raise MonthsNotDerived(school_year)
    missing = engine.fetch(sql.load("months_missing"), {"school_year": school_year})
    if next(iter(missing.values()))[0]:
        raise MonthsNotDerived(school_year)


def _sums(totals) -> str:
    """The select list summing every total of the catalogue (names from the catalogue only)."""
    return ", ".join(f"coalesce(sum(t_{name}), 0)::BIGINT AS t_{name}" for name in totals)


def _total_columns(names: list[str]) -> list[str]:
    return [re.fullmatch(r"t_([a-z0-9_]+)", n).group(1) for n in names]


def leaf_totals(con: duckdb.DuckDBPyConnection, school_year: str, *,
                engine: engines.Engine | None = None,
                database: Database | None = None) -> LeafTotals:
    """One scan of pupil_year grouped by school, every school of the register included, on
    `engine` (default: DuckDB on `con`); the register's structure from `database`."""
    query = sql.load("aggregate_leaf").format(contributions=_contributions(), sums=_sums(TOTALS))
    table = engines.current(con, engine).fetch(query, _params(school_year))
    columns = _total_columns(list(table)[1:])
    school_ids = [str(s) for s in table["school_id"]]
    arrays = [v for k, v in table.items() if k != "school_id"]
    totals = {name: TotalVector(name, TOTALS[name].bound, np.asarray(arr, dtype=np.int64))
              for name, arr in zip(columns, arrays)}
    if set(totals) != set(TOTALS):
        raise RuntimeError("aggregate_contributions.sql and the catalogue's totals differ")
    ids, names, levels = register_levels(con, school_year, database)
    if ids != school_ids:
        raise RuntimeError("aggregate_leaf.sql and the register's schools differ")
    residence = grouped_totals(con, school_year, ["residence"], {}, engine=engine)
    return LeafTotals(school_year, school_ids, names, totals, levels, residence)


def register_levels(con: duckdb.DuckDBPyConnection, school_year: str,
                    database: Database | None = None
                    ) -> tuple[list[str], list[str], dict[str, LevelMap]]:
    """The public structure of the leaves (schools in school_id order, their names, and every
    level's grouping), from the register's one `AreaStructure`: no pupil data is read."""
    structure = area_structure(con, school_year, database=database)
    return structure.school_codes, structure.school_names, structure.levels


def _key_sets(con, school_year: str, group_by: tuple[str, ...],
              filters: tuple[tuple[str, tuple[str, ...]], ...]) -> list[list[tuple[str, str]]]:
    """Public keys per group-by dimension: register/catalogue keys, narrowed by the filters
    through the public register only (never through the data)."""
    allowed: dict[str, set[str]] = {}
    for name, values in filters:
        known = {k for k, _ in public_keys(con, name, school_year)}
        unknown = [v for v in values if v not in known]
        if unknown:
            raise CatalogueError(f"filters.{name}", f"{len(unknown)} value(s) not in the register")
        allowed[name] = set(values)
    school_filters = [(n, v) for n, v in filters if n in SCHOOL_DIMENSIONS]
    if school_filters:
        where, params = filter_clause(tuple(school_filters))
        for name in group_by:
            if name in SCHOOL_DIMENSIONS and name != "country":
                rows = con.execute(f"SELECT DISTINCT {DIMENSIONS[name].column} FROM school "
                                   f"WHERE {where}", params).fetchall()
                reach = {r[0] for r in rows}
                allowed[name] = allowed.get(name, reach) & reach
    out = []
    for name in group_by:
        keys = public_keys(con, name, school_year)
        out.append([k for k in keys if name not in allowed or k[0] in allowed[name]])
    return out


def grouped_totals(con: duckdb.DuckDBPyConnection, school_year: str, group_by: list[str],
                   filters: dict, *, engine: engines.Engine | None = None) -> GroupedTotals:
    """True totals for every key of the cross product of the group-by dimensions' public
    keys (0 where no pupil), restricted by public filters, read on `engine` (default:
    `engines.current`). Raises CatalogueError."""
    group, flt = validate_dimensions(group_by, filters)
    which = period(group, flt)                  # refuses several months without group-by month
    key_sets = _key_sets(con, school_year, group, flt)
    n_cells = int(np.prod([len(k) for k in key_sets])) if key_sets else 1
    if n_cells > MAX_CELLS:
        raise CatalogueError("group_by", f"{n_cells} cells asked, at most {MAX_CELLS}")
    keys_sql = "".join(f"{DIMENSIONS[g].column} AS k{i}, " for i, g in enumerate(group))
    where, filter_params = filter_clause(flt)
    engine = engines.current(con, engine)
    if which == MONTH:
        _check_months_derived(engine, school_year)
    query = sql.load("aggregate_grouped").format(contributions=_contributions(which),
                                                 keys=keys_sql, where=where,
                                                 sums=_sums(period_totals(which)))
    params = {**_params(school_year, which), **filter_params}
    table = engine.fetch(query, params)
    columns = _total_columns(list(table)[len(group):])
    rows = zip(*(column.tolist() for column in table.values()))
    combos = list(itertools.product(*key_sets))
    index = {tuple(k for k, _ in combo): i for i, combo in enumerate(combos)}
    values = np.zeros((len(columns), len(combos)), dtype=np.int64)
    for row in rows:
        i = index.get(tuple(row[:len(group)]))
        if i is not None:                       # keys outside the register are not released
            values[:, i] = [v or 0 for v in row[len(group):]]
    if set(columns) != set(period_totals(which)):
        raise RuntimeError("the contributions SQL and the catalogue's totals differ")
    totals = {name: TotalVector(name, table_bound(name, group, flt), values[j])
              for j, name in enumerate(columns)}
    return GroupedTotals(school_year, group, flt, [tuple(k for k, _ in c) for c in combos],
                         [tuple(n for _, n in c) for c in combos], totals)
