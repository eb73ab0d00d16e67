"""Every connection the service opens switches off the DuckDB optimizer that miscounts.

DuckDB 2.0.0-2.0.1's compressed materialization narrows integer sums to 8 bits when a LEFT
JOIN's right side is an empty table: the query below, the shape of the weekly leaf totals
with an empty table of counted pupils, returned 48 for a sum of 30,000 minutes. True
aggregates feed the noise, so `service.db.connect` (and the ledger's own connection) turn the
optimizer off; these tests fail if either stops doing so on a DuckDB that has the bug.
"""

from __future__ import annotations

import duckdb

from service import db
from service.releases.ledger_store import DuckDBLedger

# 50 pupils x 10 weeks, 600 possible minutes each: every week sums to 30,000.
SETUP = """
CREATE TABLE minutes AS
SELECT 'p' || (i % 50) AS pupil_key, (i // 50) % 10 + 1 AS week_index,
       600::INTEGER AS possible_minutes, ((i % 7) * 10)::INTEGER AS absent_minutes
FROM range(500) r(i);
CREATE TEMP TABLE counted (pupil_key VARCHAR, week_index INTEGER);
"""

QUERY = """
WITH pw AS (
    SELECT pupil_key, week_index,
           greatest(sum(possible_minutes), 0)::BIGINT AS possible_raw,
           greatest(sum(absent_minutes), 0)::BIGINT AS absent_raw
    FROM minutes WHERE week_index BETWEEN 1 AND $last
    GROUP BY pupil_key, week_index
),
clamped AS (
    SELECT pupil_key, week_index, least(possible_raw, $cap) AS possible,
           least(absent_raw, least(possible_raw, $cap)) AS absent
    FROM pw
),
reached AS (
    SELECT f.*, CASE WHEN r.pupil_key IS NOT NULL THEN 1 ELSE 0 END AS new_lt
    FROM clamped f LEFT JOIN counted r
      ON r.pupil_key = f.pupil_key AND r.week_index = f.week_index
    WHERE f.week_index BETWEEN 1 AND $last
)
SELECT week_index, sum(possible)::BIGINT, sum(absent)::BIGINT, sum(new_lt)::BIGINT
FROM reached GROUP BY week_index ORDER BY week_index
"""



def _expected(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """The same totals by plain Python over the rows, no join involved."""
    rows = con.execute("SELECT week_index, possible_minutes, absent_minutes FROM minutes").fetchall()
    totals: dict[int, list[int]] = {}
    for week, possible, absent in rows:
        t = totals.setdefault(week, [0, 0])
        t[0] += possible
        t[1] += absent
    return [(w, p, a, 0) for w, (p, a) in sorted(totals.items())]


def _sums(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    con.execute(SETUP)
    return con.execute(QUERY, {"last": 10, "cap": 2400}).fetchall()


def test_service_connections_sum_right(tmp_path):
    con = db.connect(tmp_path / "guard.duckdb")
    try:
        got = _sums(con)
        assert got == _expected(con)
        assert all(p == 30_000 for _, p, _, _ in got)
        cursor = con.cursor()   # cursors share the database's configuration
        assert cursor.execute("SELECT current_setting('disabled_optimizers')").fetchone()[0] \
            == "compressed_materialization"
    finally:
        con.close()


def test_ledger_connection_sums_right(tmp_path):
    ledger = DuckDBLedger(tmp_path / "ledger.duckdb")
    con = ledger._root.cursor()
    try:
        assert _sums(con) == _expected(con)
    finally:
        con.close()
