"""The DuckDB -> Spark transpile of sql/ (service/engines/transpile.py) without a JVM: every
statement the engines run transpiles with no parameter or macro left over, and the two things
done on the tree (macros inlined, parameters bound as literals) mean the same in DuckDB as the
original statement. The Spark run itself is in tests/spark/test_spark_engine.py (marker spark)."""

from __future__ import annotations

import datetime
import itertools

import duckdb
import pytest
from sqlglot import exp

import sql
from service.engines.transpile import bind, macro_of, parse, to_spark, union_by_name
from support.engine_files import ENGINE_FILES

PARAMS = {"school_year": "2025-2026", "f0": ["PO", "VO"], "max_year_minutes": 72_000, "max_school_days": 200,
          "long_term_days": 20, "signal_minutes": 960, "signal_weeks": 4,
          "max_week_minutes": 1_800, "max_month_minutes": 8_000, "every_pupil": True}


def _macros():
    found = (macro_of(parse(s)) for s in sql.statements("derive_tables"))
    return {m.name: m for m in found if m is not None}


@pytest.mark.parametrize("name", sorted(ENGINE_FILES))
def test_every_engine_file_transpiles_with_nothing_left_over(name):
    macros = _macros()
    if name in ("aggregate_leaf", "aggregate_grouped"):     # templates around a CTE body
        statements = [sql.load(name).format(
            contributions=sql.load("aggregate_contributions"), keys="school_id AS k0, ",
            where="list_contains($f0, sector)", sums="coalesce(sum(t_enrolled), 0)::BIGINT AS t_enrolled")]
    else:
        statements = sql.statements(name)
    for statement in statements:
        if macro_of(parse(statement)) is not None:
            continue
        tree = bind(parse(statement), PARAMS, macros)
        assert not list(tree.find_all(exp.Placeholder))
        assert not [f for f in tree.find_all(exp.Anonymous) if f.name.lower() in macros]
        assert to_spark(tree)


def test_inlined_macros_mean_what_the_duckdb_macros_mean():
    con = duckdb.connect()
    for statement in sql.statements("derive_tables"):
        if macro_of(parse(statement)) is not None:
            con.execute(statement)
    query = ("SELECT is_chronic(a, p), is_severe(a, p), absence_band(a, p) "
             "FROM (SELECT $a AS a, $p AS p)")
    for a, p in itertools.product([0, 1, 4, 5, 9, 10, 19, 20, 49, 50, 99, 100], [0, 1, 20, 100]):
        original = con.execute(query, {"a": a, "p": p}).fetchone()
        inlined = bind(parse(query), {"a": a, "p": p}, _macros()).sql(dialect="duckdb")
        assert "is_chronic" not in inlined and "absence_band" not in inlined
        rebound = con.execute(inlined).fetchone()
        assert rebound == original, (a, p)


def test_bound_literals_are_quoted_values_not_sql():
    tree = bind(parse("SELECT $s AS s, $d AS d, list_contains($l, 'x') AS l"),
                {"s": "it's; DROP TABLE x", "d": datetime.date(2026, 7, 17), "l": ["x", "y"]}, {})
    row = duckdb.connect().execute(tree.sql(dialect="duckdb")).fetchone()
    assert row == ("it's; DROP TABLE x", datetime.date(2026, 7, 17), True)


def test_union_by_name_keeps_columns_by_name():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 2 AS b")
    query = "SELECT a, b FROM t UNION ALL BY NAME SELECT 4 AS b, 3 AS a"
    fixed = union_by_name(parse(query), ["a", "b"]).sql(dialect="duckdb")
    assert "BY NAME" not in fixed.upper()
    assert sorted(con.execute(fixed).fetchall()) == sorted(con.execute(query).fetchall()) \
        == [(1, 2), (3, 4)]
