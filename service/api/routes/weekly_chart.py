"""GET /v1/weekly/{school_year}/chart: the weekly series of one area as a Vega-Lite spec
(line with a 95% band), for the page and for notebooks. Public: released values only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from service.weekly import series as weekly
from service.api import PREFIX, roles
from service.api.deps import DatabaseDep, DbDep
from service.api.params import AreaCodeQuery, SchoolYearPath, WeeklyLevel, WeeklyMeasureName
from service.api.problems import InvalidInput, NotFound
from service.register import lookup
from service.weekly.chart import series_chart

router = APIRouter(prefix=PREFIX, tags=["weekly"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/weekly/{school_year}/chart", roles.PUBLIC,
                example={"path": {"school_year": "2025-2026"},
                         "params": {"measure": "attendance_rate_4wk", "level": "country",
                                    "area": "NL"}}),
)


@router.get("/weekly/{school_year}/chart", summary="Vega-Lite spec of one area's weekly series")
def weekly_chart(school_year: SchoolYearPath, db: DbDep, database: DatabaseDep,
                 measure: Annotated[WeeklyMeasureName, Query(description="e.g. attendance_rate_4wk")],
                 level: Annotated[WeeklyLevel, Query()],
                 area: AreaCodeQuery,
                 lang: Annotated[Literal["nl", "en"], Query()] = "nl") -> dict:
    units = {m[0]: m[1] for m in weekly.MEASURES}
    if measure not in units:
        raise InvalidInput("unknown weekly measure",
                           errors=[{"in": "query", "field": "measure", "message": "unknown measure"}])
    levels = ("swv_po", "swv_vo") if level == "swv" else (level,)
    name = lookup.area_name(db, area, levels)
    if name is None:
        raise NotFound("no such area in the register", errors=[{
            "in": "query", "field": "area", "message": "no area of this level with this code"}])
    if not weekly.week_releases(db, school_year):
        raise NotFound("no weeks of this school year are released")
    points = weekly.with_dates(weekly.series(db, school_year, measure, level, area, database=database),
                               lookup.week_dates(db, school_year, level, area))
    national = None if level == "country" else weekly.series(db, school_year, measure, "country",
                                                             "NL", database=database)
    return series_chart(points, measure, name, units[measure], lang, national=national)
