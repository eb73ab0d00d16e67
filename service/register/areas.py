"""The public area structure over schools: ONE object per register (`AreaStructure`), read from
the register tables once and kept until the register changes (`area_structure`). The release
(leaf totals, reconciliation levels, the covariance model), the comparison (which area lies
in which), the weekly series and the evidence all take their structure from here."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from privacy.consistency import Level
from service import db
from service.register.dimensions import public_keys

#: Levels of `AreaStructure.levels`: register column of `school` per level (None: one group).
LEAF_LEVELS = {"country": None, "province": "province_code", "rmc": "rmc_code",
               "swv_po": "swv_code", "swv_vo": "swv_code", "municipality": "municipality_code",
               "sector": "sector"}
#: The levels reconciled by the standard release ("swv": the PO and VO partnerships joined).
RECONCILED = ("municipality", "province", "country", "rmc", "sector")
#: The region levels also published by sector (the small complex groups: SO, VSO and SBO per
#: region), as levels named "<level>_sector" (`privacy.release.Structure.derived`).
SECTOR_LEVELS = ("province", "rmc", "swv", "municipality")


@dataclass(frozen=True)
class AreaLevels:
    """The public structure: for each level, the group of every school and the groups' codes
    and names (in group order). Schools are the leaves."""

    school_codes: list[str]
    school_names: list[str]
    levels: dict[str, Level]
    codes: dict[str, list[str]]
    names: dict[str, list[str]]
    #: region × sector: per derived level ("swv_sector" …) the group of every school, and per
    #: group its region's code and name (in `codes`/`names`) and its sector (`sectors`); the
    #: groups are the (region, sector) pairs the public register has schools for
    derived: dict[str, Level] = field(default_factory=dict)
    sectors: dict[str, list[str]] = field(default_factory=dict)

    def base_level(self, level: str) -> str:
        """The region level of a derived level ("swv_sector" -> "swv"), else the level."""
        return level.removesuffix("_sector") if level in self.derived else level


@dataclass(frozen=True)
class LevelMap:
    """The public grouping of schools at one level: the group index of every school (-1 if
    the school lies in no group of the level, e.g. a VO school at swv_po)."""

    level: str
    codes: list[str] = field(repr=False)
    names: list[str] = field(repr=False)
    group_of_school: np.ndarray = field(repr=False)

    def sum(self, leaf: np.ndarray) -> np.ndarray:
        """Group totals from school totals (int64, every group, zeros included)."""
        inside = self.group_of_school >= 0
        return np.bincount(self.group_of_school[inside], weights=leaf[inside],
                           minlength=len(self.codes)).round().astype(np.int64)


@dataclass(frozen=True)
class AreaStructure:
    """Every school of the register (the leaves, in school_id order) with its name and
    sector; per level of `LEAF_LEVELS` the group of every school (`levels`); the levels the
    release reconciles, "swv" joined (`reconciled`); and which areas contain each area or
    school (`parents`; `parent_of`: its direct parent and how many siblings share it)."""

    school_codes: list[str]
    school_names: list[str]
    school_sectors: list[str]
    levels: dict[str, LevelMap]
    reconciled: AreaLevels
    parents: dict[tuple[str, str], set[tuple[str, str]]]
    parent_of: dict[tuple[str, str], tuple[tuple[str, str], int]]


def reconciled_levels(school_ids: list[str], school_names: list[str],
                      lv: dict[str, LevelMap]) -> AreaLevels:
    """Levels for reconciliation: the register's, with the PO and VO partnerships joined into
    one 'swv' level (every school lies in exactly one of them), and the region × sector levels
    (`SECTOR_LEVELS`) derived from them and the schools' sectors."""
    levels, codes, names = {}, {}, {}
    for name in RECONCILED:
        levels[name] = Level(name, lv[name].group_of_school, len(lv[name].codes))
        codes[name], names[name] = lv[name].codes, lv[name].names
    po, vo = lv["swv_po"], lv["swv_vo"]
    group = np.where(po.group_of_school >= 0, po.group_of_school,
                     np.where(vo.group_of_school >= 0, vo.group_of_school + len(po.codes), -1))
    levels["swv"] = Level("swv", group, len(po.codes) + len(vo.codes))
    codes["swv"], names["swv"] = po.codes + vo.codes, po.names + vo.names
    out = AreaLevels(school_ids, school_names, levels, codes, names)
    if "sector" in lv:
        for base in SECTOR_LEVELS:
            _add_sector_level(out, base, lv["sector"])
    return out


def _add_sector_level(areas: AreaLevels, base: str, sector: LevelMap) -> None:
    """The derived level `<base>_sector`: one group per (region, sector) pair that the public
    register has schools for, in region order then sector order."""
    region, sec = areas.levels[base].group_of_leaf, sector.group_of_school
    inside = (region >= 0) & (sec >= 0)
    n_sectors = len(sector.codes)
    pairs = np.unique(region[inside] * n_sectors + sec[inside])
    index = np.full(len(areas.codes[base]) * n_sectors, -1, dtype=np.int64)
    index[pairs] = np.arange(pairs.size)
    group = np.full(region.size, -1, dtype=np.int64)
    group[inside] = index[region[inside] * n_sectors + sec[inside]]
    name = f"{base}_sector"
    areas.derived[name] = Level(name, group, int(pairs.size))
    areas.codes[name] = [areas.codes[base][p // n_sectors] for p in pairs]
    areas.names[name] = [areas.names[base][p // n_sectors] for p in pairs]
    areas.sectors[name] = [sector.codes[p % n_sectors] for p in pairs]


def _build(con: duckdb.DuckDBPyConnection, school_year: str) -> AreaStructure:
    register = con.execute("SELECT school_id, name, province_code, rmc_code, swv_code, "
                           "municipality_code, sector FROM school ORDER BY school_id").fetchall()
    col = {"province_code": 2, "rmc_code": 3, "swv_code": 4, "municipality_code": 5, "sector": 6}
    levels = {}
    for level, column in LEAF_LEVELS.items():
        keys = public_keys(con, level, school_year)
        index = {code: i for i, (code, _) in enumerate(keys)}
        group = np.array([0 if column is None else index.get(r[col[column]], -1) for r in register],
                         dtype=np.int64)
        levels[level] = LevelMap(level, [k for k, _ in keys], [n for _, n in keys], group)
    ids, names = [str(r[0]) for r in register], [r[1] for r in register]
    parents: dict[tuple[str, str], set[tuple[str, str]]] = {}
    direct: dict[tuple[str, str], tuple[str, str]] = {}
    for level, code, plevel, pcode in con.execute(
            "SELECT level, code, parent_level, parent_code FROM area "
            "WHERE parent_code IS NOT NULL").fetchall():
        lvl = "swv" if level in ("swv_po", "swv_vo") else level
        parents.setdefault((lvl, code), set()).add((plevel, pcode))
        direct[(lvl, code)] = (plevel, pcode)
    for sid, _, pv, mc, swv, gm, _ in register:
        parents[("school", sid)] = {("municipality", gm), ("province", pv), ("rmc", mc), ("swv", swv)}
        direct[("school", sid)] = ("municipality", gm)
    counts: dict[tuple[str, tuple[str, str]], int] = {}
    for (lvl, _), parent in direct.items():
        counts[(lvl, parent)] = counts.get((lvl, parent), 0) + 1
    parent_of = {key: (parent, counts[(key[0], parent)]) for key, parent in direct.items()}
    return AreaStructure(ids, names, [r[6] for r in register], levels,
                         reconciled_levels(ids, names, levels), parents, parent_of)


def area_structure(con: duckdb.DuckDBPyConnection, school_year: str = "", *,
                   database: db.Database | None = None) -> AreaStructure:
    """The register's structure, built once per register version and kept in `database`'s
    `structures` until `database.changed(db.REGISTER)` or the register's size changes (a
    register written without the counter, as tests do, is still seen). `school_year` names
    the year asked for; the register's areas and schools do not depend on it."""
    database = db.or_detached(database)
    cur = con.cursor()
    try:
        fingerprint = cur.execute(
            "SELECT (SELECT count(*) FROM school), (SELECT count(*) FROM area), "
            "(SELECT max(school_id) FROM school), (SELECT max(code) FROM area)").fetchone()
        key = (database.generation(db.REGISTER), fingerprint)
        return database.structures.get(key, lambda: _build(cur, school_year))
    finally:
        cur.close()


def area_levels(con: duckdb.DuckDBPyConnection, database: db.Database | None = None) -> AreaLevels:
    """Every school (leaf, in school_id order) and, per level, every area of the register —
    areas without schools included — with the group index of each school ("swv": both
    partnerships)."""
    return area_structure(con, database=database).reconciled
