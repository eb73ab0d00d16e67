"""The public area structure over schools, read from the register tables, for releases."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from privacy.consistency import Level


@dataclass(frozen=True)
class AreaLevels:
    """The public structure: for each level, the group of every school and the groups' codes
    and names (in group order). Schools are the leaves."""

    school_codes: list[str]
    school_names: list[str]
    levels: dict[str, Level]
    codes: dict[str, list[str]]
    names: dict[str, list[str]]


#: register column of `school` for each released level; "swv" joins the PO and VO partnerships
#: (every school lies in exactly one of them).
LEVEL_COLUMNS = {"country": None, "province": "province_code", "rmc": "rmc_code",
                 "swv": "swv_code", "municipality": "municipality_code"}
AREA_LEVELS = {"country": ("country",), "province": ("province",), "rmc": ("rmc",),
               "swv": ("swv_po", "swv_vo"), "municipality": ("municipality",)}


def area_levels(con: duckdb.DuckDBPyConnection) -> AreaLevels:
    """Every school (leaf, in school_id order) and, per level, every area of the register —
    areas without schools included — with the group index of each school."""
    schools = con.execute("SELECT school_id, name, province_code, rmc_code, swv_code, "
                          "municipality_code FROM school ORDER BY school_id").fetchall()
    cols = {"province_code": 2, "rmc_code": 3, "swv_code": 4, "municipality_code": 5}
    levels, codes, names = {}, {}, {}
    for level, column in LEVEL_COLUMNS.items():
        rows = con.execute(
            "SELECT code, name FROM area WHERE list_contains(?, level) ORDER BY code",
            [list(AREA_LEVELS[level])]).fetchall()
        codes[level] = [r[0] for r in rows]
        names[level] = [r[1] for r in rows]
        index = {c: i for i, c in enumerate(codes[level])}
        if column is None:
            group = np.zeros(len(schools), dtype=np.int64)
        else:
            group = np.array([index[s[cols[column]]] for s in schools], dtype=np.int64)
        levels[level] = Level(level, group, len(codes[level]))
    return AreaLevels([s[0] for s in schools], [s[1] for s in schools], levels, codes, names)
