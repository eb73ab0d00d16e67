"""GET /v1/compare and GET /v1/compare/options: areas of the latest standard release side by
side, with 95% intervals, differences and whether each stands out from the privacy noise.

Public for the standard release: comparing reads released (noisy) cells only and spends no
budget. Invalid input is a 400 problem listing every problem (parameter names and positions,
never a value from the data); an area of the right form that the register does not have is
404, like every route's unknown code.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.compare import charts, comparison as compare
from service.api import PREFIX
from service.api.deps import DbDep
from service.api.params import (AREA_LIST_PATTERN, SCHOOL_YEAR_PATTERN, CompareLevel, MeasureName,
                                SectorOrAll)
from service.api.problems import InvalidInput, NotFound

router = APIRouter(prefix=PREFIX, tags=["compare"])

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


@contextmanager
def as_problems() -> Iterator[None]:
    """Translate the comparison's errors to problem+json (400 invalid input; 404 no release,
    or a measure, sector, level or area the release does not cover)."""
    try:
        yield
    except compare.NotInRelease as exc:
        raise NotFound("the release has no such cells",
                       errors=[{"in": "query", **e} for e in exc.errors]) from exc
    except compare.CompareError as exc:
        raise InvalidInput(f"{len(exc.errors)} problem(s) with the comparison",
                           errors=[{"in": "query", **e} for e in exc.errors]) from exc
    except compare.NoRelease as exc:
        raise NotFound("no standard release is published" +
                       (" for this dataset" if exc.dataset else "")) from exc


def structure_of(request: Request, db) -> compare.Structure:
    """The register's structure, built once per app (the register is public)."""
    state = request.app.state
    if getattr(state, "compare_structure", None) is None:
        state.compare_structure = compare.register_structure(db)
    return state.compare_structure


def run_comparison(request: Request, db, measure: str, areas: str | None, level: str | None,
                   sector: str, dataset: str | None) -> dict:
    """Shared by the compare route and the chart routes."""
    with as_problems():
        parsed = compare.parse_areas(areas) if areas is not None else None
    if parsed:
        structure = structure_of(request, db)
        unknown = [{"in": "query", "field": f"areas[{i}]",
                    "message": "no area of this level with this code in the register"}
                   for i, area in enumerate(parsed)
                   if area != ("country", "NL") and area not in structure.parents]
        if unknown:
            raise NotFound("no such area in the register", errors=unknown)
    with as_problems():
        released = compare.load_release(db, dataset)
        return compare.compare(released, measure, areas=parsed, level=level, sector=sector,
                               structure=structure_of(request, db))


@router.get("/compare", summary="Compare areas on one measure, with 95% intervals")
def get_compare(request: Request, db: DbDep, measure: MeasureQuery, areas: AreasQuery = None,
                level: LevelQuery = None, sector: SectorQuery = "all",
                dataset: DatasetQuery = None) -> dict:
    """Either `areas` (each pair is compared, and each area with the country) or `level`
    (every area of the level, each with the country). Differences are
    `a − b ± 1.96·sqrt(sd_a² + sd_b² − 2·cov)` with the release's GLS covariance, or, where one
    side's sd is at most a fifth of the other's, the other side's shown interval shifted by it
    (docs/privacy.md, Verdicts); `distinguishable` is true when that interval
    excludes 0. Costs no budget."""
    return run_comparison(request, db, measure, areas, level, sector, dataset)


@router.get("/compare/options", summary="What the latest standard release lets you compare")
def get_options(db: DbDep, dataset: DatasetQuery = None) -> dict:
    """Measures (with labels), and per level the sectors and number of areas released."""
    with as_problems():
        out = compare.options(compare.load_release(db, dataset))
    for level, info in out["levels"].items():
        info["map"] = level in charts.MAP_FILES
    return out
