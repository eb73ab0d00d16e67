"""GET /v1/compare and GET /v1/compare/options: areas of the latest standard release side by
side, with 95% intervals, differences and whether each stands out from the privacy noise.

Public for the standard release: comparing reads released (noisy) cells only and spends no
budget. Invalid input is a 400 problem listing every problem (parameter names and positions,
never a value from the data); an area of the right form that the register does not have is
404, like every route's unknown code.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from service.compare import charts, comparison as compare, download
from service.api import PREFIX, negotiation, roles
from service.api.comparing import (AreasQuery, DatasetQuery, LevelQuery, MeasureQuery, SectorQuery,
                                   run_comparison)
from service.api.deps import DatabaseDep, DbDep
from service.releases import stored

router = APIRouter(prefix=PREFIX, tags=["compare"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    # Comparing reads the standard release only: no budget is spent.
    roles.route("GET", "/v1/compare", roles.PUBLIC,
                example={"params": {"measure": "absence_rate", "level": "province"}}),
    roles.route("GET", "/v1/compare/options", roles.PUBLIC),
)

@router.get("/compare", summary="Compare areas on one measure, with 95% intervals",
            responses=negotiation.BOTH)
def get_compare(request: Request, response: Response, db: DbDep, measure: MeasureQuery, areas: AreasQuery = None,
                level: LevelQuery = None, sector: SectorQuery = "all",
                dataset: DatasetQuery = None,
                fmt: Annotated[Literal["json", "csv"] | None, Query(
                    alias="format", description="json or csv; default from Accept, else json")] = None,
                table: Annotated[Literal["areas", "differences"], Query(
                    description="CSV only: the areas (the Netherlands first) or the pairs' differences")] = "areas"):
    """Either `areas` (each pair is compared, and each area with the country) or `level`
    (every area of the level, each with the country). Differences are
    `a − b ± 1.96·sqrt(sd_a² + sd_b² − 2·cov)` with the release's GLS covariance, or, where one
    side's sd is at most a fifth of the other's, the other side's shown interval shifted by it
    (docs/privacy.md, Verdicts); `distinguishable` is true when that interval
    excludes 0. Costs no budget. As CSV (`format=csv` or `Accept: text/csv`): one row per
    area, the Netherlands first, or with `table=differences` one row per pair."""
    result = run_comparison(request, db, measure, areas, level, sector, dataset)
    if not negotiation.wants_csv(request, fmt):
        response.headers["Vary"] = "Accept"
        return result
    return negotiation.csv_response(download.comparison_csv(result, table),
                                    download.filename(result, table))


@router.get("/compare/options", summary="What the latest standard release lets you compare")
def get_options(db: DbDep, database: DatabaseDep, dataset: DatasetQuery = None) -> dict:
    """Measures (with labels), and per level the sectors and number of areas released."""
    out = compare.options(compare.load_release(db, dataset, database))
    out["created_at"] = next((r["created_at"] for r in stored.list_releases(db, "standard")
                              if r["release_id"] == out["release_id"]), None)
    for level, info in out["levels"].items():
        info["map"] = level in charts.MAP_FILES
    return out
