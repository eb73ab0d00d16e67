"""GET /v1/areas and GET /v1/schools: the public register, paginated (page, pageSize, Link)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from service.api import PREFIX, roles
from service.api.params import AREA_CODE_PATTERN, MUNICIPALITY_PATTERN, AreaLevel, SectorName
from service.api.deps import DbDep
from service.api.pagination import PageDep, PageOf, paginated
from service.api.problems import NotFound
from service.register import lookup

router = APIRouter(prefix=PREFIX, tags=["register"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/areas", roles.PUBLIC, example={"params": {"pageSize": 2}}),
    roles.route("GET", "/v1/schools", roles.PUBLIC, example={"params": {"municipality": "GM0363"}}),
)


class AreaPublic(BaseModel):
    level: str
    code: str
    name: str
    parent_level: str | None
    parent_code: str | None


class SchoolPublic(BaseModel):
    school_id: str
    name: str
    sector: str
    municipality_code: str
    province_code: str
    rmc_code: str
    swv_code: str
    holiday_region: str


@router.get("/areas", response_model=PageOf[AreaPublic], summary="Areas of the register")
def list_areas(request: Request, response: Response, db: DbDep, page: PageDep,
               level: Annotated[AreaLevel | None, Query(description="only this level")] = None,
               parent: Annotated[str | None, Query(pattern=AREA_CODE_PATTERN,
                                                   description="only children of this code")] = None):
    if parent is not None and not lookup.code_exists(db, parent):
        raise NotFound("no such area in the register", errors=[{
            "in": "query", "field": "parent", "message": "no area with this code"}])
    total, rows = lookup.areas_page(db, level, parent, page.limit, page.offset)
    items = [AreaPublic(**r) for r in rows]
    return paginated(response, request, page, items, total)


@router.get("/schools", response_model=PageOf[SchoolPublic], summary="Schools of the register")
def list_schools(request: Request, response: Response, db: DbDep, page: PageDep,
                 municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_PATTERN,
                                                           description="municipality code")] = None,
                 sector: Annotated[SectorName | None, Query(description="PO, SBO, SO, VSO or VO")] = None):
    if municipality is not None and not lookup.area_exists(db, "municipality", municipality):
        raise NotFound("no such municipality in the register", errors=[{
            "in": "query", "field": "municipality", "message": "no municipality with this code"}])
    total, rows = lookup.schools_page(db, municipality, sector, page.limit, page.offset)
    items = [SchoolPublic(**r) for r in rows]
    return paginated(response, request, page, items, total)
