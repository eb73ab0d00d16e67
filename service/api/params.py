"""The API's parameter types, with the enums, patterns and bounds the OpenAPI document shows.

One place for what a valid value looks like, so the document tells the truth: a request the
document calls valid is either answered or refused for a reason the document also names
(401, 403, 404 for a school year, area, release or key that does not exist, 409). Values that
match a pattern but name nothing (``GM9999``, school year ``2099-2100``) are 404.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from service.compare.comparison import LEVELS as COMPARE_LEVELS
from service.register.dimensions import DIMENSIONS, SECTORS
from service.releases.catalogue import MEASURES
from service.weekly.series import MEASURES as WEEKLY_MEASURES

SCHOOL_YEAR_PATTERN = r"^20[0-9]{2}-20[0-9]{2}$"
AREA_CODE_PATTERN = r"^(NL|PV[0-9]{2}|GM[0-9]{4}|MC[0-9]{2}|PO[0-9]{4}|VO[0-9]{4}|[0-9]{2}[A-Z]{2}[0-9]{2})$"
"""Country, province, municipality, RMC region, PO/VO partnership, or a school (BRIN + vestiging)."""
SCHOOL_ID_PATTERN = r"^[0-9]{2}[A-Za-z]{2}[0-9]{2}$"
RELEASE_ID_PATTERN = r"^R[0-9A-F]{12}$"
KEY_ID_PATTERN = r"^k_[0-9a-f]{16}$"
MUNICIPALITY_PATTERN = r"^GM[0-9]{4}$"
_AREA = r"(province:PV[0-9]{2}|municipality:GM[0-9]{4}|rmc:MC[0-9]{2}|swv:(PO|VO)[0-9]{4}|school:[0-9]{2}[A-Z]{2}[0-9]{2}|residence:GM[0-9]{4}|country:NL)"
AREA_LIST_PATTERN = rf"^{_AREA}(,{_AREA}){{0,24}}$"
"""One to 25 areas as level:code."""
REGION_SCOPE_PATTERN = r"^(country:NL|province:PV[0-9]{2}|municipality:GM[0-9]{4}|rmc:MC[0-9]{2}|swv_po:PO[0-9]{4}|swv_vo:VO[0-9]{4})$"
RESEARCHER_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def _literal(values):
    return Literal[tuple(values)]  # type: ignore[valid-type]


MeasureName = _literal(MEASURES)
DimensionName = _literal(DIMENSIONS)
WeeklyMeasureName = _literal(m[0] for m in WEEKLY_MEASURES)
CompareLevel = _literal(level for level in COMPARE_LEVELS if level != "country")
MapLevelName = Literal["municipality", "province", "rmc", "residence"]
WeeklyLevel = Literal["country", "province", "rmc", "swv", "municipality"]
AreaLevel = Literal["country", "province", "municipality", "rmc", "swv_po", "swv_vo"]
RegionLevel = Literal["municipality", "province", "rmc", "swv", "school"]
SectorName = _literal(SECTORS)
SectorOrAll = _literal(("all", *SECTORS))
ReleaseKind = Literal["standard", "query", "week"]

SchoolYearPath = Annotated[str, Path(pattern=SCHOOL_YEAR_PATTERN,
                                     description="school year, e.g. 2025-2026")]
SchoolYearQuery = Annotated[str | None, Query(pattern=SCHOOL_YEAR_PATTERN,
                                              description="school year, e.g. 2025-2026")]
ReleaseIdPath = Annotated[str, Path(pattern=RELEASE_ID_PATTERN,
                                    description="release id, e.g. R0123456789AB")]
AreaCodePath = Annotated[str, Path(pattern=AREA_CODE_PATTERN,
                                   description="area code, e.g. GM0363, PV27, NL or a school id")]
AreaCodeQuery = Annotated[str, Query(pattern=AREA_CODE_PATTERN, description="area code, e.g. GM0363")]
KeyIdPath = Annotated[str, Path(pattern=KEY_ID_PATTERN, description="key id, e.g. k_0123456789abcdef")]
