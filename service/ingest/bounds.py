"""The per-pupil clamps that derive applies in SQL: one source for every bound.

The constants are passed as parameters into sql/derive_*.sql, which clamps every per-pupil
value to them; `service.releases.catalogue` builds each total's `BoundSpec` from the same
constants, and `privacy.bounds.sensitivity` turns that spec into the sensitivity. Nothing else
states a bound (docs/privacy.md).
"""

from __future__ import annotations

#: Longest school day (VO and VSO: 6 h); PO, SBO and SO have 300 minutes (`sector_day`).
MAX_DAY_MINUTES = 360
#: A Dutch school year has at most 41 school weeks of 5 days. `service.derive.rebuild`
#: refuses a calendar with more school days, so the clamp below never cuts a real year short.
MAX_SCHOOL_DAYS = 205
#: Largest possible (and absent) minutes of one pupil in one school year: the bound of every
#: minute total.
MAX_YEAR_MINUTES = MAX_SCHOOL_DAYS * MAX_DAY_MINUTES
#: Largest possible minutes of one pupil in one school week (pupil_week clamp).
MAX_WEEK_MINUTES = 5 * MAX_DAY_MINUTES
#: Long-term absence: a run of at least this many consecutive fully absent school days.
LONG_TERM_DAYS = 20
#: The legal signal: at least 16 h unauthorised absence within 4 school weeks.
SIGNAL_MINUTES = 16 * 60
SIGNAL_WEEKS = 4
#: A school year runs 1 August – 31 July: at most 12 calendar months hold a school day (the
#: 2025-2026 calendar has school days in all 12, August in noord and zuid only). One pupil is
#: in at most this many month cells of a table; `service.derive.rebuild` refuses a calendar
#: with more months.
MAX_MONTHS = 12
#: At most 23 weekdays fall in one calendar month; derive refuses a calendar with more school
#: days in a month (`CalendarExceedsBound`).
MAX_MONTH_DAYS = 23
#: Largest possible (and absent) minutes of one pupil in one calendar month: the per-cell
#: bound of every monthly minute total.
MAX_MONTH_MINUTES = MAX_MONTH_DAYS * MAX_DAY_MINUTES


def derive_parameters() -> dict[str, int]:
    """The per-pupil clamps, as SQL parameters of sql/derive_*.sql."""
    return {"max_year_minutes": MAX_YEAR_MINUTES, "max_week_minutes": MAX_WEEK_MINUTES,
            "max_school_days": MAX_SCHOOL_DAYS, "long_term_days": LONG_TERM_DAYS,
            "signal_minutes": SIGNAL_MINUTES, "signal_weeks": SIGNAL_WEEKS,
            "max_month_minutes": MAX_MONTH_MINUTES}
