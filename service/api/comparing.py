"""What the compare route and the chart routes share: their query parameters and one
comparison from them (`service.compare`), with the register's structure built once per app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request

from service.api.params import (AREA_LIST_PATTERN, SCHOOL_YEAR_PATTERN, CompareLevel, MeasureName,
                                SectorOrAll)
from service.compare import comparison as compare
from service.errors import NotFound

MeasureQuery = Annotated[MeasureName, Query(
    description="measure name (GET /v1/catalog); one the release does not have is 404 "
                "(GET /v1/compare/options lists what it has)")]
LevelQuery = Annotated[CompareLevel | None, Query(
    description="every area of this level (municipality, province, rmc, swv, school), each "
                "with the country; used when `areas` is not given (then the default is "
                f"{compare.DEFAULT_LEVEL}), ignored when it is")]
AreasQuery = Annotated[str | None, Query(pattern=AREA_LIST_PATTERN,
                                         description="areas as level:code, comma-separated "
                                         f"(at most {compare.MAX_AREAS}); each pair is compared, "
                                         "and each area with the country. Takes precedence over "
                                         "`level`. An area the register lacks, or the release "
                                         "does not cover for the sector, is 404")]
SectorQuery = Annotated[SectorOrAll, Query(
    description="sector (PO, SBO, SO, VSO, VO) or all; one the release has no cells for "
                "(at the level asked) is 404")]
DatasetQuery = Annotated[str | None, Query(pattern=SCHOOL_YEAR_PATTERN,
                                           description="school year, e.g. 2025-2026; "
                                           "default: the latest standard release")]


def structure_of(request: Request, db) -> compare.Structure:
    """The register's structure, built once per app (the register is public)."""
    state = request.app.state
    if getattr(state, "compare_structure", None) is None:
        state.compare_structure = compare.register_structure(db, state.database)
    return state.compare_structure


def run_comparison(request: Request, db, measure: str, areas: str | None, level: str | None,
                   sector: str, dataset: str | None) -> dict:
    """Shared by the compare route and the chart routes."""
    parsed = compare.parse_areas(areas) if areas is not None else None    # CompareError: 400
    if parsed:
        structure = structure_of(request, db)
        unknown = [{"in": "query", "field": f"areas[{i}]",
                    "message": "no area of this level with this code in the register"}
                   for i, area in enumerate(parsed)
                   if area != ("country", "NL") and area not in structure.parents
                   # a municipality of residence is a municipality of the register
                   and not (area[0] == "residence" and ("municipality", area[1]) in structure.parents)]
        if unknown:
            raise NotFound("no such area in the register", errors=unknown)
    released = compare.load_release(db, dataset, request.app.state.database)  # NoRelease: 404
    return compare.compare(released, measure, areas=parsed, level=level, sector=sector,
                           structure=structure_of(request, db))
