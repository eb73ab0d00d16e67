"""The Spark engine against DuckDB on the same synthetic uploads: the same statements of sql/
(transpiled by sqlglot) give identical derived tables and identical true integer vectors for
every standard-release total, every level and ad-hoc queries; `aanwezig release --engine spark`
publishes a charged, signed release. Spark runs in local mode (`local[2]`), one session for
the whole test run, with the small-data settings below; every test here carries the `spark`
marker (the file takes about two minutes on 2 cores)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from support.engine_files import ENGINE_FILES
from support.paths import ROOT

pytest.importorskip("pyspark")
pytestmark = pytest.mark.spark

YEAR = "2025-2026"


#: Settings for a short run on small data (the same SQL and results; less fixed cost): no C2
#: JIT compiler (on 2 cores it took ~40 % of the JVM's CPU in a minute-long run), no adaptive
#: re-planning per stage, and the lake's one small file per school packed into few tasks.
SMALL_DATA = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
              "spark.sql.adaptive.enabled": "false",
              "spark.sql.files.openCostInBytes": "65536"}


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    from service.engines.spark import session

    return session("local[2]", "1g", shuffle_partitions=2,
                   local_dir=str(tmp_path_factory.mktemp("spark-local")), conf=SMALL_DATA)


@pytest.fixture(scope="session")
def both(tmp_path_factory, spark_session):
    """A small synthetic country ingested with a lake, derived by DuckDB (in the database)
    and by Spark (into the lake), with the Spark engine."""
    from service.db import connect
    from service.engines.spark import SparkEngine
    from service.ingest.derive import rebuild
    from service.ingest.directory import ingest_directory
    from service.register.source import load_register
    from service.settings import Settings
    from service.synth.uploads import write_synthetic

    root = tmp_path_factory.mktemp("spark-nl")
    write_synthetic(root / "uploads", pupils=1_500, seed=11)
    settings = Settings(mode="dev", db=root / "nl.duckdb", lake=root / "lake")
    con = connect(settings.db)
    load_register(con)
    report = ingest_directory(con, settings, root / "uploads")
    assert not report.refused
    duck = rebuild(con, YEAR)
    engine = SparkEngine(spark_session, settings.lake, con)
    spark = rebuild(con, YEAR, engine=engine)
    assert spark == duck
    yield con, engine, settings
    con.close()


def test_the_engine_files_are_every_derive_and_aggregate_file():
    folder = ROOT / "sql"
    found = {p.stem for p in folder.glob("*.sql") if p.stem.startswith(("derive_", "aggregate_"))
             or p.stem in ("derived_row_counts", "months_missing")}
    assert found == ENGINE_FILES


@pytest.mark.parametrize("table", ["pupil_year", "pupil_week", "pupil_month"])
def test_spark_derives_the_same_per_pupil_rows(both, table):
    con, engine, _ = both
    columns = [c for c in engine.schemas[table].split(", ")]
    names = [c.split(" ", 1)[0] for c in columns]
    duck = con.execute(f"SELECT {', '.join(names)} FROM {table} WHERE school_year = ?",
                       [YEAR]).fetchall()
    spark = engine.spark.table(table).select(*names).toArrow().to_pylist()
    assert len(spark) == len(duck) > 0
    assert sorted((tuple(r[n] for n in names) for r in spark), key=repr) == sorted(duck, key=repr)


def test_every_standard_release_total_is_identical_at_every_level(both):
    from service.releases import aggregate
    from service.releases.catalogue import TOTALS

    con, engine, _ = both
    duck = aggregate.leaf_totals(con, YEAR)
    spark = aggregate.leaf_totals(con, YEAR, engine=engine)
    assert spark.school_ids == duck.school_ids
    assert set(spark.totals) == set(duck.totals) == set(TOTALS)
    for name in TOTALS:
        assert spark.totals[name].values.dtype == np.int64
        assert spark.totals[name].bound == duck.totals[name].bound
        for level in ["school", *aggregate.LEAF_LEVELS]:
            assert np.array_equal(spark.at_level(name, level), duck.at_level(name, level)), \
                (name, level)
    assert duck.totals["enrolled"].values.sum() > 1_000      # the data is really there


QUERIES = [
    (["municipality", "sector"], {}),
    (["province", "grade_band"], {"sector": ["PO", "VO"]}),
    (["residence"], {"province": ["PV27"]}),
    (["month", "sector"], {}),
    (["swv_vo"], {"month": ["2025-10"]}),
]


@pytest.mark.parametrize("group_by, filters", QUERIES)
def test_ad_hoc_queries_give_identical_vectors(both, group_by, filters):
    from service.releases import aggregate

    con, engine, _ = both
    duck = aggregate.grouped_totals(con, YEAR, group_by, filters)
    spark = aggregate.grouped_totals(con, YEAR, group_by, filters, engine=engine)
    assert spark.keys == duck.keys
    assert set(spark.totals) == set(duck.totals)
    for name, total in duck.totals.items():
        assert np.array_equal(spark.totals[name].values, total.values), name
        assert spark.totals[name].bound == total.bound
    assert sum(int(t.values.sum()) for t in duck.totals.values()) > 0


def test_cli_release_on_spark_is_charged_and_signed(both, tmp_path):
    import duckdb
    from typer.testing import CliRunner

    from service.cli import app

    con, _, settings = both
    db = tmp_path / "copy.duckdb"
    con.execute("CHECKPOINT")
    shutil.copy(settings.db, db)
    result = CliRunner().invoke(app, ["release", "--db", str(db), "--engine", "spark",
                                      "--lake", str(settings.lake)],
                                env={"AANWEZIG_MODE": "dev"})
    assert result.exit_code == 0, result.output
    assert "published" in result.output
    copy = duckdb.connect(str(db), read_only=True)
    try:
        release_id, signature = copy.execute(
            "SELECT release_id, signature FROM release WHERE kind = 'standard'").fetchone()
        assert signature
        spent = copy.execute("SELECT count(*) FROM budget_event WHERE kind = 'charge' "
                             "AND release_id = ?", [release_id]).fetchone()[0]
        assert spent >= 1
    finally:
        copy.close()
