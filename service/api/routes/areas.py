"""GET /v1/areas and GET /v1/schools: the public register, paginated (page, pageSize, Link)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from service.api import PREFIX
from service.api.params import AREA_CODE_PATTERN, MUNICIPALITY_PATTERN, AreaLevel, SectorName
from service.api.deps import DbDep
from service.api.pagination import PageDep, PageOf, paginated
from service.api.problems import NotFound

router = APIRouter(prefix=PREFIX, tags=["register"])


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
    if parent is not None and db.execute("SELECT 1 FROM area WHERE code = ?", [parent]).fetchone() is None:
        raise NotFound("no such area in the register", errors=[{
            "in": "query", "field": "parent", "message": "no area with this code"}])
    where = "($level IS NULL OR level = $level) AND ($parent IS NULL OR parent_code = $parent)"
    params = {"level": level, "parent": parent}
    total = db.execute(f"SELECT count(*) FROM area WHERE {where}", params).fetchone()[0]
    rows = db.execute(f"SELECT level, code, name, parent_level, parent_code FROM area "
                      f"WHERE {where} ORDER BY level, code LIMIT $limit OFFSET $offset",
                      {**params, "limit": page.limit, "offset": page.offset}).fetchall()
    items = [AreaPublic(level=r[0], code=r[1], name=r[2], parent_level=r[3], parent_code=r[4])
             for r in rows]
    return paginated(response, request, page, items, total)


@router.get("/schools", response_model=PageOf[SchoolPublic], summary="Schools of the register")
def list_schools(request: Request, response: Response, db: DbDep, page: PageDep,
                 municipality: Annotated[str | None, Query(pattern=MUNICIPALITY_PATTERN,
                                                           description="municipality code")] = None,
                 sector: Annotated[SectorName | None, Query(description="PO, SBO, SO, VSO or VO")] = None):
    if municipality is not None and db.execute(
            "SELECT 1 FROM area WHERE level = 'municipality' AND code = ?", [municipality]).fetchone() is None:
        raise NotFound("no such municipality in the register", errors=[{
            "in": "query", "field": "municipality", "message": "no municipality with this code"}])
    where = ("($municipality IS NULL OR municipality_code = $municipality) "
             "AND ($sector IS NULL OR sector = $sector)")
    params = {"municipality": municipality, "sector": sector}
    total = db.execute(f"SELECT count(*) FROM school WHERE {where}", params).fetchone()[0]
    rows = db.execute(f"SELECT school_id, name, sector, municipality_code, province_code, "
                      f"rmc_code, swv_code, holiday_region FROM school WHERE {where} "
                      f"ORDER BY school_id LIMIT $limit OFFSET $offset",
                      {**params, "limit": page.limit, "offset": page.offset}).fetchall()
    fields = list(SchoolPublic.model_fields)
    items = [SchoolPublic(**dict(zip(fields, r))) for r in rows]
    return paginated(response, request, page, items, total)
