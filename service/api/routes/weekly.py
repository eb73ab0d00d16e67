"""The weekly series: publish a week (admin), read a series and the early warnings (public).

Released values are noisy DP outputs and public like every release; publishing spends the
`weekly` pool's budget, so only an admin may do it (service/api/roles.py).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

import io
from datetime import date

import pandas as pd
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from privacy.ledger import BudgetExhausted
from service.weekly import series as weekly, warnings as weekly_warning
from service.api import PREFIX, negotiation, roles
from service.api.auth import Role
from service.api.params import (AreaCodeQuery, SchoolYearPath, SectorOrAll, WeeklyLevel,
                                WeeklyMeasureName)
from service.api.deps import CurrentKey, DatabaseDep, DbDep, SettingsDep
from service.api.problems import Conflict, InvalidInput, NotFound
from service.register import lookup

router = APIRouter(prefix=PREFIX, tags=["weekly"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("POST", "/v1/weekly/{school_year}/weeks/{week}", roles.allow(Role.admin),
                example={"path": {"school_year": "2025-2026", "week": 1}}),
    roles.route("GET", "/v1/weekly/{school_year}/series", roles.PUBLIC,
                example={"path": {"school_year": "2025-2026"},
                         "params": {"measure": "attendance_rate_4wk", "level": "municipality",
                                    "area": "GM0363"}}),
    roles.route("GET", "/v1/weekly/{school_year}/warnings", roles.PUBLIC,
                example={"path": {"school_year": "2025-2026"}}),
)
YearPath = SchoolYearPath


class WeekReleasePublic(BaseModel):
    release_id: str
    school_year: str
    week: int
    micro_rho_charged: int
    newly_charged: bool


class SeriesPoint(BaseModel):
    week: int
    first_day: date | None = Field(None, description="the week's first school day in the area "
                                   "(over the holiday regions of its schools)")
    last_day: date | None = Field(None, description="the week's last school day in the area")
    release_id: str
    estimate: float | None
    lower: float | None
    upper: float | None
    sd: float | None
    unit: str


class SeriesPublic(BaseModel):
    school_year: str
    measure: str
    level: str
    area_code: str
    sector: str
    data: list[SeriesPoint]


class WarningPublic(BaseModel):
    signal: Literal["attendance", "new_long_term"] = Field(
        description="attendance: rolling attendance below the area's own baseline; "
                    "new_long_term: more pupils newly reaching four weeks of absence than the "
                    "area's baseline explains")
    level: str
    area_code: str
    area_name: str
    week: int
    flagged: bool
    z: float | None
    threshold: float | None
    reason: str


@router.post("/weekly/{school_year}/weeks/{week}", response_model=WeekReleasePublic,
             summary="Publish one week of the weekly series (spends its planned share)")
async def publish_week(school_year: YearPath, week: Annotated[int, Path(ge=1, le=128)],
                       settings: SettingsDep, key: CurrentKey, request: Request):
    """Runs on the writer thread (the same one as scheduled weeks: one week never twice)."""
    known = await asyncio.wrap_future(request.app.state.writer.call(
        lambda cur: lookup.school_year_exists(cur, school_year)))
    if not known:
        raise NotFound("no such school year in the register")
    try:            # a week out of range: 404; out of order or without data: 409 (their classes)
        stored = await asyncio.wrap_future(request.app.state.writer.call(
            lambda cur: weekly.release_week(cur, settings, school_year, week,
                                            database=request.app.state.database)))
    except BudgetExhausted as exc:
        raise Conflict("the weekly pool cannot pay for this week") from exc
    return WeekReleasePublic(release_id=stored.record.release_id, school_year=school_year, week=week,
                             micro_rho_charged=stored.record.micro, newly_charged=stored.newly_charged)


@router.get("/weekly/{school_year}/series", response_model=SeriesPublic,
            summary="One measure of one area over the released weeks, with 95% intervals",
            responses=negotiation.BOTH)
def get_series(school_year: YearPath, db: DbDep, database: DatabaseDep, request: Request,
               response: Response,
               measure: Annotated[WeeklyMeasureName, Query(description="e.g. attendance_rate_4wk")],
               level: Annotated[WeeklyLevel, Query(description="country, province, rmc, swv, municipality")],
               area: AreaCodeQuery,
               sector: Annotated[SectorOrAll, Query(description="'all' or PO, SBO, SO, VSO, VO (country only)")] = "all",
               fmt: Annotated[Literal["json", "csv"] | None, Query(
                   alias="format", description="json or csv; default from Accept, else json")] = None):
    """As CSV (`format=csv` or `Accept: text/csv`): one row per released week."""
    if measure not in {m[0] for m in weekly.MEASURES}:
        raise InvalidInput(f"unknown weekly measure {measure!r}",
                           errors=[{"in": "query", "field": "measure", "message": "unknown measure"}])
    levels = ("swv_po", "swv_vo") if level == "swv" else (level,)
    if lookup.area_name(db, area, levels) is None:
        raise NotFound("no such area in the register", errors=[{
            "in": "query", "field": "area", "message": "no area of this level with this code"}])
    points = weekly.with_dates(weekly.series(db, school_year, measure, level, area, sector,
                                             database=database),
                               lookup.week_dates(db, school_year, level, area))
    if not points and not weekly.week_releases(db, school_year):
        raise NotFound("no weeks of this school year are released")
    if negotiation.wants_csv(request, fmt):
        frame = pd.DataFrame([{"school_year": school_year, "measure": measure, "level": level,
                               "area_code": area, "sector": sector, **SeriesPoint(**p).model_dump()}
                              for p in points],
                             columns=["school_year", "measure", "level", "area_code", "sector",
                                      *SeriesPoint.model_fields])
        out = io.StringIO()
        frame.to_csv(out, index=False, lineterminator="\n")
        return negotiation.csv_response(
            out.getvalue(), f"weekly-{school_year}-{measure}-{level}-{area}-{sector}.csv")
    response.headers["Vary"] = "Accept"
    return SeriesPublic(school_year=school_year, measure=measure, level=level, area_code=area,
                        sector=sector, data=[SeriesPoint(**p) for p in points])


@router.get("/weekly/{school_year}/warnings", response_model=list[WarningPublic],
            summary="Areas whose rolling attendance, or rise in long-term absence, departs from their own baseline")
def get_warnings(school_year: YearPath, db: DbDep, database: DatabaseDep,
                 week: Annotated[int | None, Query(ge=1, le=128)] = None,
                 flagged_only: Annotated[bool, Query(alias="flaggedOnly")] = True):
    frame = weekly_warning.warnings(db, school_year, week, database=database)
    if flagged_only and len(frame):
        frame = frame[frame["flagged"]]
    return [WarningPublic(signal=r.get("signal", "attendance"), level=r["level"],
                          area_code=r["area_code"], area_name=r["area_name"],
                          week=int(r["week"]), flagged=bool(r["flagged"]),
                          z=_finite(r["z"]), threshold=_finite(r["threshold"]), reason=r["reason"])
            for r in frame.to_dict("records")]


def _finite(value) -> float | None:
    """A number for JSON, or None where the rule did not test the area (NaN)."""
    return None if value is None or value != value else float(value)
