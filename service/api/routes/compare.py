"""GET /v1/compare and GET /v1/compare/options: areas of the latest standard release side by
side, with 95% intervals, differences and whether each stands out from the privacy noise.

Public for the standard release: comparing reads released (noisy) cells only and spends no
budget. Invalid input is a 400 problem listing every problem (parameter names and positions,
never a value from the data).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.compare import charts, comparison as compare
from service.api import PREFIX, roles
from service.api.deps import DbDep
from service.api.params import (AREA_LIST_PATTERN, SCHOOL_YEAR_PATTERN, CompareLevel, MeasureName,
                                SectorOrAll)

router = APIRouter(prefix=PREFIX, tags=["compare"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    # Comparing reads the standard release only: no budget is spent.
    roles.route("GET", "/v1/compare", roles.PUBLIC,
                example={"params": {"measure": "absence_rate", "level": "province"}}),
    roles.route("GET", "/v1/compare/options", roles.PUBLIC),
)

MeasureQuery = Annotated[MeasureName, Query(description="measure name (GET /v1/catalog)")]
LevelQuery = Annotated[CompareLevel | None, Query(description="every area of this level: municipality, "
                                                  "province, rmc, swv, school")]
AreasQuery = Annotated[str | None, Query(pattern=AREA_LIST_PATTERN,
                                         description="areas as level:code, comma-separated "
                                         f"(at most {compare.MAX_AREAS})")]
SectorQuery = Annotated[SectorOrAll, Query(description="sector (PO, SBO, SO, VSO, VO) or all")]
DatasetQuery = Annotated[str | None, Query(pattern=SCHOOL_YEAR_PATTERN,
                                           description="school year, e.g. 2025-2026; "
                                           "default: the latest standard release")]


def structure_of(request: Request, db) -> compare.Structure:
    """The register's structure, built once per app (the register is public)."""
    state = request.app.state
    if getattr(state, "compare_structure", None) is None:
        state.compare_structure = compare.register_structure(db)
    return state.compare_structure


def run_comparison(request: Request, db, measure: str, areas: str | None, level: str | None,
                   sector: str, dataset: str | None) -> dict:
    """Shared by the compare route and the chart routes."""
    parsed = compare.parse_areas(areas) if areas is not None else None    # CompareError: 400
    released = compare.load_release(db, dataset)                          # NoRelease: 404
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
    out = compare.options(compare.load_release(db, dataset))
    for level, info in out["levels"].items():
        info["map"] = level in charts.MAP_FILES
    return out
