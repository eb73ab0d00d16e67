"""Databases made before pupil_week and pupil_long_term_counted were keyed by pupil_tag (16
characters of the pupil key) are moved over when opened (`service.db.connect`,
sql/pupil_tag_upgrade.sql): every row kept with its key cut to the tag, a frozen week per tag
(the earliest when two pupils share one), the primary key kept; opening again changes nothing,
and derive works on the database afterwards. Real DuckDB files."""

from __future__ import annotations

import duckdb

from service.db import connect
from service.ingest import derive
from support.derive_data import YEAR, Data, make_register, school_days

OLD_WEEK = ("CREATE TABLE pupil_week (school_year VARCHAR, pupil_key VARCHAR, week_index INTEGER, "
            "iso_year INTEGER, iso_week INTEGER, school_id VARCHAR, sector VARCHAR, "
            "possible_minutes INTEGER, absent_minutes INTEGER, unauthorised_minutes INTEGER)")
OLD_COUNTED = ("CREATE TABLE pupil_long_term_counted (school_year VARCHAR NOT NULL, "
               "pupil_key VARCHAR NOT NULL, week_index INTEGER NOT NULL, "
               "PRIMARY KEY (school_year, pupil_key))")
TWIN_A, TWIN_B, OTHER = "a" * 16 + "1" * 48, "a" * 16 + "2" * 48, "b" * 16 + "3" * 48


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _old_database(path) -> None:
    con = duckdb.connect(str(path))
    con.execute(OLD_WEEK)
    con.execute(OLD_COUNTED)
    con.executemany("INSERT INTO pupil_week VALUES (?, ?, ?, 2025, ?, '03CC00', 'VO', 1800, ?, 0)",
                    [(YEAR, key, w, 35 + w, 100 * w + i) for i, key in enumerate((TWIN_A, OTHER))
                     for w in (1, 2, 3)])
    con.executemany("INSERT INTO pupil_long_term_counted VALUES (?, ?, ?)",
                    [(YEAR, TWIN_A, 7), (YEAR, TWIN_B, 5), (YEAR, OTHER, 3), ("2024-2025", OTHER, 9)])
    con.close()


def test_old_tables_are_keyed_by_tag(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_database(path)
    con = connect(path)
    assert _columns(con, "pupil_week")[:3] == ["school_year", "pupil_tag", "week_index"]
    assert "pupil_key" not in _columns(con, "pupil_week")
    assert _columns(con, "pupil_long_term_counted") == ["school_year", "pupil_tag", "week_index"]
    weeks = con.execute("SELECT pupil_tag, week_index, iso_week, absent_minutes FROM pupil_week "
                        "ORDER BY ALL").fetchall()
    assert weeks == [(key[:16], w, 35 + w, 100 * w + i) for i, key in enumerate((TWIN_A, OTHER))
                     for w in (1, 2, 3)]
    counted = con.execute("SELECT * FROM pupil_long_term_counted ORDER BY ALL").fetchall()
    assert counted == [("2024-2025", "b" * 16, 9), (YEAR, "a" * 16, 5), (YEAR, "b" * 16, 3)]
    # the primary key is kept: a week fixed once is never moved (sql/weekly_count_long_term.sql)
    con.execute("INSERT OR IGNORE INTO pupil_long_term_counted VALUES (?, ?, 12)", [YEAR, "a" * 16])
    assert con.execute("SELECT week_index FROM pupil_long_term_counted WHERE pupil_tag = ? AND "
                       "school_year = ?", ["a" * 16, YEAR]).fetchone() == (5,)
    con.close()
    again = connect(path)           # already moved over: nothing changes
    assert again.execute("SELECT * FROM pupil_long_term_counted ORDER BY ALL").fetchall() == counted
    assert again.execute("SELECT pupil_tag, week_index, iso_week, absent_minutes FROM pupil_week "
                         "ORDER BY ALL").fetchall() == weeks
    again.close()


def test_a_derived_database_keeps_its_rows_and_derives_again(tmp_path):
    path = tmp_path / "derived.duckdb"
    con = connect(path)
    make_register(con)
    data = Data(con)
    data.enrol(TWIN_A, "01AA00")
    data.enrol(OTHER, "03CC00")
    data.absent(OTHER, "03CC00", school_days("noord")[:20], 360)
    derive.rebuild(con, YEAR)
    rows = con.execute("SELECT * FROM pupil_week ORDER BY ALL").fetchall()
    # as a database of the previous code held it: the full key in pupil_week
    con.execute("ALTER TABLE pupil_week RENAME COLUMN pupil_tag TO pupil_key")
    con.execute("UPDATE pupil_week SET pupil_key = CASE WHEN pupil_key = ? THEN ? ELSE ? END",
                [TWIN_A[:16], TWIN_A, OTHER])
    con.close()
    con = connect(path)
    assert con.execute("SELECT * FROM pupil_week ORDER BY ALL").fetchall() == rows
    Data(con).enrol(TWIN_B, "02BB00")       # a new pupil sharing TWIN_A's tag, derived pupil
    con.execute("INSERT INTO derive_pending_pupil VALUES (?, ?)", [YEAR, TWIN_B])   # by pupil
    assert derive.rederive(con, YEAR).scope == "pupils"
    incremental = con.execute("SELECT * FROM pupil_week ORDER BY ALL").fetchall()
    derive.rebuild(con, YEAR)
    assert con.execute("SELECT * FROM pupil_week ORDER BY ALL").fetchall() == incremental
    assert {r[1] for r in incremental} == {"a" * 16, "b" * 16} and len(incremental) > len(rows)
    con.close()
