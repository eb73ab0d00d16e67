"""School calendar per holiday region (noord, midden, zuid) and school year.

The 2025-2026 pattern follows the real national holiday dates roughly (rijksoverheid
schoolvakanties): first school day zuid 18 Aug, noord 25 Aug, midden 1 Sep 2025; autumn
holiday zuid 11–19 Oct, noord/midden 18–26 Oct; Christmas 20 Dec – 4 Jan (all); spring
holiday noord/zuid 14–22 Feb, midden 21 Feb – 1 Mar; Easter Monday 6 Apr; May holiday
25 Apr – 3 May (all; zuid, whose year starts two weeks before midden, also takes the
week before it, 18–24 Apr, as many schools do, so that every region has 40–41 school
weeks); Ascension 14–15 May; Whit Monday 25 May; summer from noord 4 Jul, zuid 11 Jul,
midden 18 Jul 2026. Weekends are off.

Other school years shift the whole pattern by the whole number of weeks nearest to the
distance in years (so weekdays stay weekdays); the rotation of the summer order and the
movement of Easter are not modelled. A school year runs 1 August – 31 July.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

REGIONS = ("noord", "midden", "zuid")
BASE_YEAR = 2025
D = dt.date

# (first day, last day) inclusive, of every break in the 2025-2026 base pattern.
_COMMON = [
    (D(2025, 12, 20), D(2026, 1, 4)),  # Christmas
    (D(2026, 4, 6), D(2026, 4, 6)),  # Easter Monday
    (D(2026, 4, 25), D(2026, 5, 3)),  # May holiday
    (D(2026, 5, 14), D(2026, 5, 15)),  # Ascension + Friday
    (D(2026, 5, 25), D(2026, 5, 25)),  # Whit Monday
]
_BASE = {
    "zuid": {
        "first": D(2025, 8, 18), "summer": D(2026, 7, 11),
        "breaks": [(D(2025, 10, 11), D(2025, 10, 19)), (D(2026, 2, 14), D(2026, 2, 22)),
                   (D(2026, 4, 18), D(2026, 4, 24))],
    },
    "noord": {
        "first": D(2025, 8, 25), "summer": D(2026, 7, 4),
        "breaks": [(D(2025, 10, 18), D(2025, 10, 26)), (D(2026, 2, 14), D(2026, 2, 22))],
    },
    "midden": {
        "first": D(2025, 9, 1), "summer": D(2026, 7, 18),
        "breaks": [(D(2025, 10, 18), D(2025, 10, 26)), (D(2026, 2, 21), D(2026, 3, 1))],
    },
}


class UnknownHolidayRegion(ValueError):
    """The holiday region is not one of noord, midden, zuid."""

    def __init__(self, region: str) -> None:
        super().__init__(f"unknown holiday region {region!r}; expected one of {REGIONS}")
        self.region = region


class BadSchoolYear(ValueError):
    """A school year must be written 'YYYY-YYYY' with consecutive years."""

    def __init__(self, school_year: str) -> None:
        super().__init__(f"school year {school_year!r} is not of the form '2025-2026'")
        self.school_year = school_year


def start_year(school_year: str) -> int:
    """2025 for '2025-2026'."""
    parts = school_year.split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts):
        raise BadSchoolYear(school_year)
    first, second = int(parts[0]), int(parts[1])
    if second != first + 1:
        raise BadSchoolYear(school_year)
    return first


def year_bounds(school_year: str) -> tuple[dt.date, dt.date]:
    """1 August and 31 July of the school year."""
    y = start_year(school_year)
    return D(y, 8, 1), D(y + 1, 7, 31)


def _shift_days(school_year: str) -> int:
    years = start_year(school_year) - BASE_YEAR
    return 7 * round(years * 365.2425 / 7)


@lru_cache(maxsize=64)
def _days(school_year: str, holiday_region: str) -> tuple[dt.date, ...]:
    if holiday_region not in _BASE:
        raise UnknownHolidayRegion(holiday_region)
    base = _BASE[holiday_region]
    shift = dt.timedelta(days=_shift_days(school_year))
    off = set()
    for lo, hi in _COMMON + base["breaks"]:
        day = lo
        while day <= hi:
            off.add(day)
            day += dt.timedelta(days=1)
    days = []
    day = base["first"]
    while day < base["summer"]:
        if day.weekday() < 5 and day not in off:
            days.append(day + shift)
        day += dt.timedelta(days=1)
    return tuple(days)


def school_days(school_year: str, holiday_region: str) -> list[dt.date]:
    """The school days of `holiday_region` in `school_year`, in order."""
    return list(_days(school_year, holiday_region))


def calendar_frame(school_year: str) -> pd.DataFrame:
    """Rows for the `calendar_day` table: every school day of every holiday region.

    `day_index` counts school days from 1 within the region's year; `week_index` counts
    school weeks (ISO weeks with at least one school day) from 1.
    """
    frames = []
    for region in REGIONS:
        days = _days(school_year, region)
        iso = [d.isocalendar() for d in days]
        weeks = pd.Series([(c.year, c.week) for c in iso])
        week_index = (weeks != weeks.shift()).cumsum().astype("int32")
        frames.append(pd.DataFrame({
            "school_year": school_year,
            "holiday_region": region,
            "day": pd.to_datetime(pd.Series(days)).dt.date,
            "day_index": pd.Series(range(1, len(days) + 1), dtype="int32"),
            "week_index": week_index,
            "iso_year": pd.Series([c.year for c in iso], dtype="int32"),
            "iso_week": pd.Series([c.week for c in iso], dtype="int32"),
        }))
    return pd.concat(frames, ignore_index=True)
