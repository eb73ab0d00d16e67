"""Public dimensions of the catalogue: the whitelist of group-by/filter columns and their keys.

Group keys come from the public register and the catalogue only (never from the data), so
every school and area appears, zeros included, and the key set says nothing about pupils.
The SQL column of a dimension is a constant here; user input only ever picks a NAME from
`DIMENSIONS` and supplies VALUES that are bound as parameters and checked against the keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from service import errors

SECTORS = ("PO", "SBO", "SO", "VSO", "VO")
GRADE_BANDS = (("po_onder", "PO groep 1–2", "primary years 1–2"),
               ("po_midden", "PO groep 3–5", "primary years 3–5"),
               ("po_boven", "PO groep 6–8", "primary years 6–8"),
               ("vo_onder", "VO leerjaar 1–3", "secondary years 1–3"),
               ("vo_boven", "VO leerjaar 4–6", "secondary years 4–6"))
#: Columns of the private tables that are never a dimension (named in the error).
PRIVATE_COLUMNS = frozenset({
    "pupil_key", "birth_year", "grade", "residence_code", "enrolled_from", "enrolled_to",
    "possible_minutes", "absent_minutes", "sick_minutes", "authorised_minutes",
    "unauthorised_minutes", "late_minutes", "suspended_minutes", "longest_absent_run",
    "long_term", "signal16", "signal16_weeks", "chronic", "severe", "band", "n_schools",
    "minutes", "reason", "day", "batch_id"})
#: Dutch month names for the labels of the month keys ('2025-09' → 'september 2025').
MONTH_NAMES = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
               "september", "oktober", "november", "december")
_VALUE = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
MAX_FILTER_VALUES = 1000


class CatalogueError(errors.InvalidInput, ValueError):
    """A query that the catalogue refuses: `field` names the offending part of the request."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}", detail="the query is not in the catalogue",
                         errors=[{"in": "body", "field": field, "message": message}])


@dataclass(frozen=True)
class Dimension:
    """A public dimension. `column` is a column (or constant) of the per-pupil contributions
    in sql/aggregate_contributions.sql (and sql/aggregate_month_contributions.sql); keys come
    from the register `area` table (`area_level`), the `school` table (`area_level ==
    "school"`), the fixed `fixed_keys`, the public calendar (`calendar`: every calendar month
    with a school day in `calendar_day`), or the dataset (`school_year`)."""

    name: str
    label_nl: str
    label_en: str
    column: str
    area_level: str | None = None
    fixed_keys: tuple[tuple[str, str], ...] = ()
    calendar: bool = False

    @property
    def key_description(self) -> str:
        if self.calendar:
            return ("every calendar month (YYYY-MM) with a school day in the public calendar "
                    "of the school year, e.g. 2025-08 … 2026-07")
        if self.area_level == "school":
            return "every school of the register"
        if self.area_level:
            return f"every area of level {self.area_level} in the register"
        if self.fixed_keys:
            return ", ".join(k for k, _ in self.fixed_keys)
        return "the dataset's school year"


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("country", "land", "country", "'NL'", "country"),
    Dimension("province", "provincie", "province", "province_code", "province"),
    Dimension("rmc", "RMC-regio", "RMC region", "rmc_code", "rmc"),
    Dimension("swv_po", "samenwerkingsverband PO", "partnership, primary", "swv_code", "swv_po"),
    Dimension("swv_vo", "samenwerkingsverband VO", "partnership, secondary", "swv_code", "swv_vo"),
    Dimension("municipality", "gemeente (school)", "municipality of the school",
              "municipality_code", "municipality"),
    Dimension("residence", "woongemeente (leerplicht)", "municipality of residence",
              "residence_code", "municipality"),
    Dimension("school", "school (vestiging)", "school location", "school_id", "school"),
    Dimension("sector", "sector", "sector", "sector", None, tuple((s, s) for s in SECTORS)),
    Dimension("grade_band", "leerjaargroep", "grade band", "grade_band", None,
              tuple((k, f"{nl} / {en}") for k, nl, en in GRADE_BANDS)),
    Dimension("school_year", "schooljaar", "school year", "school_year"),
    Dimension("month", "maand", "month", "month", calendar=True),
)}


def _dimension(name: object, field: str) -> Dimension:
    if not isinstance(name, str):
        raise CatalogueError(field, "a dimension name must be a string")
    if name in DIMENSIONS:
        return DIMENSIONS[name]
    if name in PRIVATE_COLUMNS:
        raise CatalogueError(field, f"'{name}' is not a public dimension")
    shown = name if _VALUE.match(name) else "the given name"
    raise CatalogueError(field, f"unknown dimension {shown}; known: {', '.join(DIMENSIONS)}")


def validate_dimensions(group_by: object, filters: object
                        ) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...]], ...]]:
    """Names from the whitelist, no repeats; filter values short codes (no SQL can pass)."""
    if group_by is None:
        group_by = ()
    if isinstance(group_by, str) or not isinstance(group_by, (list, tuple)):
        raise CatalogueError("group_by", "must be a list of dimension names")
    names = tuple(_dimension(g, "group_by").name for g in group_by)
    if len(set(names)) != len(names):
        raise CatalogueError("group_by", "a dimension appears twice")
    if filters is None:
        filters = {}
    if not isinstance(filters, dict):
        raise CatalogueError("filters", "must be an object of dimension: value(s)")
    out = []
    for name, values in sorted(filters.items(), key=lambda kv: str(kv[0])):
        dim = _dimension(name, f"filters.{name}" if isinstance(name, str) and _VALUE.match(name)
                         else "filters")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, (list, tuple)) or not values or len(values) > MAX_FILTER_VALUES:
            raise CatalogueError(f"filters.{dim.name}", "must be a code or a non-empty list of codes")
        for v in values:
            if not isinstance(v, str) or not _VALUE.match(v):
                raise CatalogueError(f"filters.{dim.name}",
                                     "values are codes of letters, digits, '_' or '-'")
        out.append((dim.name, tuple(sorted(set(values)))))
    return names, tuple(out)


def filter_clause(filters: tuple[tuple[str, tuple[str, ...]], ...],
                  prefix: str = "f") -> tuple[str, dict[str, list[str]]]:
    """The one place a WHERE clause is assembled from a request: each filter becomes
    ``list_contains($<prefix><i>, <column>)`` with the column from the whitelist above and the
    values bound as a named parameter (never pasted into the text). ``true`` for no filter."""
    parts = [f"list_contains(${prefix}{i}, {DIMENSIONS[name].column})"
             for i, (name, _) in enumerate(filters)]
    params = {f"{prefix}{i}": list(values) for i, (_, values) in enumerate(filters)}
    return " AND ".join(parts) or "true", params


def public_keys(con: duckdb.DuckDBPyConnection, name: str, school_year: str) -> list[tuple[str, str]]:
    """(code, name) of every key of a dimension, in code order, from the register/catalogue."""
    dim = DIMENSIONS[name]
    if dim.area_level == "school":
        return con.execute("SELECT school_id, name FROM school ORDER BY school_id").fetchall()
    if dim.area_level:
        return con.execute("SELECT code, name FROM area WHERE level = ? ORDER BY code",
                           [dim.area_level]).fetchall()
    if dim.fixed_keys:
        return list(dim.fixed_keys)
    if dim.calendar:
        rows = con.execute("SELECT DISTINCT strftime(day, '%Y-%m') AS m FROM calendar_day "
                           "WHERE school_year = ? ORDER BY m", [school_year]).fetchall()
        return [(m, f"{MONTH_NAMES[int(m[5:]) - 1]} {m[:4]}") for (m,) in rows]
    return [(school_year, school_year)]
