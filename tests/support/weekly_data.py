"""A tiny register with a 40-week calendar and synthetic pupil weeks, for the weekly tests."""

from __future__ import annotations

import datetime as dt

import numpy as np

from service.db import connect
from support.tiny_register import SCHOOL_PO, SCHOOL_VO, load_tiny_register

YEAR = "2025-2026"
WEEKS = 40
PUPIL_WEEK = ("CREATE TABLE IF NOT EXISTS pupil_week (school_year VARCHAR, pupil_tag VARCHAR, "
              "week_index INTEGER, iso_year INTEGER, iso_week INTEGER, school_id VARCHAR, "
              "sector VARCHAR, possible_minutes INTEGER, absent_minutes INTEGER, "
              "unauthorised_minutes INTEGER)")


def build(path, pupils: int = 40, seed: int = 3):
    """Tiny register with a 40-week calendar and synthetic pupil weeks (our randomness)."""
    con = connect(path)
    load_tiny_register(con)
    last = con.execute("SELECT max(day_index) FROM calendar_day").fetchone()[0]
    extra = [(YEAR, "noord", dt.date(2026, 1, 5) + dt.timedelta(days=i), i, (i - 1) // 5 + 1, 2026, 2)
             for i in range(last + 1, WEEKS * 5 + 1)]
    con.executemany("INSERT INTO calendar_day VALUES (?, ?, ?, ?, ?, ?, ?)", extra)
    con.execute(PUPIL_WEEK)
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(pupils):
        school, minutes = (SCHOOL_PO, 1500) if p % 2 else (SCHOOL_VO, 1800)
        for w in range(1, WEEKS + 1):
            absent = int(rng.binomial(minutes, 0.05))
            rows.append((YEAR, f"p{p}", w, 2025, w, school, "PO" if p % 2 else "VO", minutes, absent, 0))
    con.executemany("INSERT INTO pupil_week VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return con


def add_pupil(con, key: str, weeks=range(1, WEEKS + 1), possible=9_000, absent=9_000):
    con.executemany("INSERT INTO pupil_week VALUES (?, ?, ?, 2025, 1, ?, 'VO', ?, ?, 0)",
                    [(YEAR, key, w, SCHOOL_VO, possible, absent) for w in weeks])
