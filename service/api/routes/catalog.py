"""GET /v1/catalog: what can be asked — measures, dimensions, area levels, every area with
its code, name and parent, and the datasets (school years).

Everything here is public (the register and the catalogue); nothing depends on pupil data,
so the catalogue never tells whether a group has pupils.
"""

from __future__ import annotations

from typing import Any

import json

from fastapi import APIRouter, Request, Response

from service.api import PREFIX, roles
from service.api.middleware.public_cache import public_cache_control
from service.register import lookup

router = APIRouter(prefix=PREFIX, tags=["catalog"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/catalog", roles.PUBLIC),
)

CATALOG_MAX_AGE = 300
"""Seconds a cache may keep the catalogue: it changes only when the register is reloaded."""

LEVELS: list[dict[str, Any]] = [
    {"level": "country", "name": "country", "parent_level": None},
    {"level": "province", "name": "province (provincie)", "parent_level": "country"},
    {"level": "municipality", "name": "municipality (gemeente)", "parent_level": "province"},
    {"level": "rmc", "name": "RMC region (regionaal meld- en coördinatiepunt)",
     "parent_level": "country"},
    {"level": "swv_po", "name": "samenwerkingsverband passend onderwijs, primary",
     "parent_level": "country"},
    {"level": "swv_vo", "name": "samenwerkingsverband passend onderwijs, secondary",
     "parent_level": "country"},
    {"level": "school", "name": "school location (vestiging)", "parent_level": None},
]

SECTORS = ["PO", "SBO", "SO", "VSO", "VO"]

DIMENSIONS: list[dict[str, Any]] = [
    {"name": "area", "description": "an area at one of the levels",
     "values": [level["level"] for level in LEVELS]},
    {"name": "sector", "description": "school sector", "values": SECTORS},
    {"name": "period",
     "description": "school_year: every measure (standard release and ad-hoc queries); "
                    "month: ad-hoc queries (POST /v1/queries, dimension 'month', keys YYYY-MM "
                    "from the public calendar) for the measures whose 'periods' include month; "
                    "school_week: the weekly series only (/v1/weekly/{school_year}/..., school "
                    "weeks numbered from 1 in the public calendar; no ad-hoc queries by week)",
     "values": ["school_year", "month", "school_week"]},
]


def _measures() -> dict[str, Any]:
    """The measure catalogue from service.releases.catalogue, once that module exists."""
    try:
        from service.releases.catalogue import catalogue_document
    except ModuleNotFoundError as exc:
        if exc.name != "service.releases.catalogue":
            raise
        return {}
    return dict(catalogue_document())


@router.get("/catalog", summary="Measures, dimensions, areas and datasets")
async def catalog(request: Request) -> Response:
    """Built once per register state (the register changes only when it is reloaded, which
    changes the count of areas or school years) and served as ready JSON bytes."""
    db = request.app.state.con.cursor()
    try:
        state = lookup.register_state(db)
        cached = getattr(request.app.state, "catalog_json", None)
        if cached is None or cached[0] != state:
            body = json.dumps(_document(db), ensure_ascii=False, separators=(",", ":")).encode()
            request.app.state.catalog_json = cached = (state, body)
    finally:
        db.close()
    return Response(cached[1], media_type="application/json",
                    headers={"Cache-Control": public_cache_control(CATALOG_MAX_AGE)})


def _document(db) -> dict[str, Any]:
    areas = lookup.all_areas(db)
    years = lookup.school_years(db)
    document: dict[str, Any] = {"measures": [], "dimensions": DIMENSIONS}
    document.update(_measures())
    document.update({
        "levels": LEVELS,
        "areas": [{"level": lv, "code": c, "name": n, "parent_level": pl, "parent_code": pc}
                  for lv, c, n, pl, pc in areas],
        "datasets": [{"id": y, "school_year": y, "first_day": f.isoformat(),
                      "last_day": last.isoformat()} for y, f, last in years],
    })
    return document
