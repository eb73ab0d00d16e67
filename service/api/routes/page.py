"""The web page for policy staff: ``/`` (index.html), ``/static/…`` (the page's own files, the
vendored Vega libraries and the TopoJSON boundaries, all from package data), and the chart
specs the page renders, under ``/v1/charts/…``.

Everything is served by the app itself: the page makes no request to any other origin, and the
Content-Security-Policy (service/api/middleware/headers.py) stays ``'self'`` only — the page evaluates
Vega expressions with the vendored vega-interpreter instead of ``eval``. Public: it shows only
the standard release, whose reading costs no budget.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from service.compare import charts
from service.api import PREFIX, roles
from service.api.params import AREA_LIST_PATTERN, CompareLevel, MapLevelName
from service.api.comparing import (DatasetQuery, MeasureQuery, SectorQuery,
                                   run_comparison)
from service.api.deps import DbDep
from service.api.problems import InvalidInput, NotFound

router = APIRouter(tags=["page"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    # The web page and its own files (vendored libraries, boundaries), and its charts: they
    # read the standard release only, no budget is spent.
    roles.route("GET", "/", roles.PUBLIC),
    roles.route("GET", "/toegankelijkheid", roles.PUBLIC, example={"params": {"lang": "en"}}),
    roles.route("GET", "/static/{name}", roles.PUBLIC, example={"path": {"name": "app.js"}}),
    roles.route("GET", "/static/{folder}/{name}", roles.PUBLIC,
                example={"path": {"folder": "vendor", "name": "vega.min.js"}}),
    roles.route("GET", "/v1/charts/dot-plot", roles.PUBLIC,
                example={"params": {"measure": "absence_rate", "level": "province"}}),
    roles.route("GET", "/v1/charts/map", roles.PUBLIC,
                example={"params": {"measure": "absence_rate", "level": "province"}}),
    roles.route("GET", "/v1/charts/differences", roles.PUBLIC,
                example={"params": {"measure": "absence_rate",
                                    "areas": "province:PV27,province:PV28"}}),
)

MEDIA_TYPES = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8",
               "css": "text/css; charset=utf-8", "json": "application/json",
               "topojson": "application/json", "svg": "image/svg+xml",
               "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8"}
STATIC_CACHE = "public, max-age=3600"
Lang = Annotated[Literal["nl", "en"], Query(description="language of the chart's texts")]
MapLevel = Annotated[MapLevelName, Query(description="municipality, province, rmc or residence")]
ChartLevel = Annotated[CompareLevel, Query(description="municipality, province, rmc, swv or school")]


@lru_cache(maxsize=1)
def static_files() -> dict[str, tuple[bytes, str]]:
    """Every servable file by its path under /static/: the page's files, vendor/ and geo/.
    Looked up by exact name, so no path can reach outside these folders."""
    files: dict[str, tuple[bytes, str]] = {}
    for prefix, package in (("", "service.static"), ("vendor/", "service.static.vendor"),
                            ("geo/", "service.data.geo")):
        for item in resources.files(package).iterdir():
            ext = item.name.rsplit(".", 1)[-1]
            if item.is_file() and ext in MEDIA_TYPES and not item.name.startswith("_"):
                files[prefix + item.name] = (item.read_bytes(), MEDIA_TYPES[ext])
    return files


@router.get("/", include_in_schema=False)
def index() -> Response:
    body, media = static_files()["index.html"]
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/toegankelijkheid", include_in_schema=False)
def accessibility_statement(lang: Lang = "nl") -> Response:
    """The accessibility statement (WCAG 2.1 AA): what is tested, how, what does not work yet;
    Dutch, or English with ``?lang=en``."""
    body, media = static_files()["toegankelijkheid.html" if lang == "nl" else "accessibility.html"]
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> Response:
    return _static_file(name)


@router.get("/static/{folder}/{name}", include_in_schema=False)
def static_in_folder(folder: str, name: str) -> Response:
    return _static_file(f"{folder}/{name}")


def _static_file(path: str) -> Response:
    found = static_files().get(path)
    if found is None:
        raise NotFound("no such file")
    return Response(found[0], media_type=found[1], headers={"Cache-Control": STATIC_CACHE})


def _cached_spec(request: Request, key: tuple, build) -> dict:
    """Specs of a stored (immutable) release, kept for repeats in the app's database
    (`chart_specs`): Altair's validation is slow."""
    return request.app.state.database.chart_specs.get(key, build)


@router.get(PREFIX + "/charts/dot-plot", summary="Vega-Lite spec: ranked dot plot of a level")
def dot_plot(request: Request, db: DbDep, measure: MeasureQuery, level: ChartLevel,
             sector: SectorQuery = "all", dataset: DatasetQuery = None, lang: Lang = "nl") -> dict:
    """Every area of `level`: estimate and 95% interval, ranked; the national value as a
    dashed line; areas coloured (and shaped) only where they differ from it beyond the noise."""
    comparison = run_comparison(request, db, measure, None, level, sector, dataset)
    key = ("dot", comparison["release_id"], measure, level, sector, lang)
    return _cached_spec(request, key, lambda: charts.dot_plot(comparison, lang))


@router.get(PREFIX + "/charts/map", summary="Vega-Lite spec: choropleth map of a level")
def map_chart(request: Request, db: DbDep, measure: MeasureQuery, level: MapLevel,
              sector: SectorQuery = "all", dataset: DatasetQuery = None, lang: Lang = "nl") -> dict:
    """Estimates on the 2025 boundaries (municipalities, provinces or RMC regions); opacity
    shows the width of the 95% interval. Meant next to the dot plot, never alone."""
    if level not in charts.MAP_FILES:
        raise InvalidInput("no map for this level", errors=[{
            "in": "query", "field": "level",
            "message": f"maps exist for: {', '.join(charts.MAP_FILES)}"}])
    comparison = run_comparison(request, db, measure, None, level, sector, dataset)
    key = ("map", comparison["release_id"], measure, level, sector, lang)
    return _cached_spec(request, key, lambda: charts.choropleth(comparison, lang))


@router.get(PREFIX + "/charts/differences", summary="Vega-Lite spec: differences of chosen areas")
def differences_chart(request: Request, db: DbDep, measure: MeasureQuery, areas: Annotated[
        str, Query(pattern=AREA_LIST_PATTERN, description="two or more areas as level:code, comma-separated")],
        sector: SectorQuery = "all", dataset: DatasetQuery = None, lang: Lang = "nl") -> dict:
    """Each pair's difference with its 95% interval and the zero line."""
    comparison = run_comparison(request, db, measure, areas, None, sector, dataset)
    return charts.differences(comparison, lang)
