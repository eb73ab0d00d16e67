"""Apache Spark as an engine: the statements of `sql/` transpiled by sqlglot, on a SparkSession
(local mode, e.g. ``local[2]``, or a cluster's master URL).

Where the tables come from:
- the uploads (`enrolment`, `absence`) from the Parquet lake written at ingest
  (`service.ingest.lake`): ``<lake>/enrolment/school_year=…/school_id=…/batch.parquet``;
- the public register the SQL joins (`school`, `school_year`, `calendar_day`, `sector_day`
  and the batch list) copied from the service's DuckDB database: small, public tables;
- the derived per-pupil tables from ``<lake>/derived/<table>/school_year=…/``.

What the statements of derive mean here (the engine's only knowledge of them):
- ``CREATE [OR REPLACE] TEMP TABLE t AS q``: the rows of q written as Parquet to the
  transaction's staging folder, shown as a temporary view of those files;
- ``CREATE TABLE IF NOT EXISTS t (columns)``: the schema of a derived table (empty until
  derived); ``CREATE MACRO``: kept and inlined into later statements;
- ``DELETE FROM t WHERE school_year = $school_year AND ($every_pupil OR ...)`` (a derived
  table): the year is emptied for later statements; Spark derives every pupil of a year, so
  ``$every_pupil`` must be true (the incremental derive runs on DuckDB only);
- ``INSERT INTO t BY NAME q`` (a derived table, after that DELETE): the rows of q for the
  derive's ``$school_year`` are written to a staging folder and shown to later statements in
  place of that year; the transaction's end moves every staged year into the lake (a rename
  per table and year), or deletes the staging folder if anything failed;
- ``DROP TABLE IF EXISTS t``: drops the temporary view.
Queries return their columns as numpy arrays, like DuckDB's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Iterator

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

import sql
from service.engines.transpile import Macro, Untranslatable, bind, macro_of, parse, to_spark

#: Public register tables the SQL of sql/ joins; copied from DuckDB into the session.
PUBLIC_TABLES = ("school", "school_year", "calendar_day", "sector_day", "batch")
#: Upload tables read from the lake (one folder per school year and school).
UPLOAD_TABLES = ("enrolment", "absence")


def session(master: str = "local[2]", driver_memory: str = "4g", shuffle_partitions: int = 8,
            local_dir: str | None = None, conf: dict[str, str] | None = None):
    """A SparkSession for the engine (created once per process; later calls return it);
    `conf`: further Spark settings (e.g. the small-data settings of `SMALL_DATA`)."""
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName("aanwezig")
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
               .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
               # list the lake's partition folders on the driver (one per school: thousands
               # of small folders; a listing job per read costs more than the listing)
               .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000"))
    if local_dir:
        builder = builder.config("spark.local.dir", local_dir)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkEngine:
    """Derive and aggregate on Spark; the register comes from `con`, the pupils from `lake`."""

    name = "spark"

    def __init__(self, spark, lake: Path | str, con: duckdb.DuckDBPyConnection) -> None:
        self.spark, self.lake, self.con = spark, Path(lake), con
        self.macros: dict[str, Macro] = {}
        self.schemas: dict[str, str] = {}
        self._staged: dict[tuple[str, str], Path] = {}
        self._cleared: set[tuple[str, str]] = set()
        self._staging: Path | None = None
        for statement in sql.statements("derive_tables"):
            self.execute(statement, {})
        self.refresh()

    # -- tables -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Copy the public register from DuckDB and (re)read the lake's uploads."""
        for table in PUBLIC_TABLES:
            arrow = self.con.sql(f"SELECT * FROM {table}").to_arrow_table()
            self.spark.createDataFrame(arrow).createOrReplaceTempView(table)
        for table in UPLOAD_TABLES:
            path = self.lake / table
            if any(path.glob("school_year=*/school_id=*/*.parquet")):
                frame = self.spark.read.option("basePath", str(path)).parquet(str(path))
            else:
                frame = self.spark.createDataFrame([], self._upload_schema(table))
            frame.createOrReplaceTempView(table)

    def _upload_schema(self, table: str) -> str:
        columns = self.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
        types = {"VARCHAR": "STRING"}
        return ", ".join(f"{c} {types.get(t, t)}" for c, t in columns)

    def _derived_frame(self, table: str):
        path = self.lake / "derived" / table
        years = sorted(p for p in path.glob("school_year=*") if p.is_dir())
        staged = {y: d for (t, y), d in self._staged.items() if t == table}
        cleared = {y for (t, y) in self._cleared if t == table}
        frame = None
        kept = [p for p in years if p.name.split("=", 1)[1] not in set(staged) | cleared
                and any(p.glob("*.parquet"))]
        if kept:
            frame = self.spark.read.option("basePath", str(path)).parquet(*map(str, kept))
        for year, folder in staged.items():
            part = self.spark.read.option("basePath", str(folder.parent)).parquet(str(folder))
            frame = part if frame is None else frame.unionByName(part)
        empty = self.spark.createDataFrame([], self.schemas[table])
        if frame is None:
            return empty
        return frame.select(*empty.columns)

    def _show_derived(self, table: str) -> None:
        self._derived_frame(table).createOrReplaceTempView(table)

    # -- statements ---------------------------------------------------------------------

    def execute(self, statement: str, params: dict) -> None:
        tree = parse(statement)
        macro = macro_of(tree)
        if macro is not None:
            self.macros[macro.name] = macro
            return
        if isinstance(tree, exp.Delete):
            self._clear(tree.this.name, params)
            return
        if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Table):
            self._insert(tree.this.name, bind(tree.expression, params, self.macros), params)
            return
        if isinstance(tree, exp.Drop):
            self.spark.catalog.dropTempView(tree.find(exp.Table).name)
            return
        if isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "TABLE":
            name = tree.this.this.name if isinstance(tree.this, exp.Schema) else tree.this.name
            temporary = any(isinstance(p, exp.TemporaryProperty)
                            for p in (tree.args.get("properties") or exp.Properties()).expressions)
            if tree.expression is None:
                self._declare(name, tree.this)
            elif temporary:
                self._temporary(name, bind(tree.expression, params, self.macros))
            else:
                raise Untranslatable(f"CREATE TABLE {name} AS: a derived table is written by "
                                     "DELETE and INSERT")
            return
        self.spark.sql(to_spark(bind(tree, params, self.macros)))

    def _declare(self, name: str, schema: exp.Expression) -> None:
        if not isinstance(schema, exp.Schema):
            raise Untranslatable(f"CREATE TABLE {name} without columns")
        self.schemas[name] = ", ".join(
            f"{c.name} {c.args['kind'].sql(dialect='spark')}" for c in schema.expressions)
        self._show_derived(name)

    def _temporary(self, name: str, query: exp.Expression) -> None:
        """Materialise a temporary table as Parquet in the transaction's staging folder and
        show it as a view of those files. Later statements then scan the table's rows rather
        than the plan that made them: a cached view's plan (CACHE TABLE) is matched again only
        when the plans compare equal, which failed for the tables built on the lake's uploads,
        so every later statement re-planned and re-ran the whole chain of derive_prepare
        (and its plans grew with every table)."""
        if self._staging is None:
            raise Untranslatable(f"temporary table {name} made outside a transaction")
        folder = self._staging / "temporary" / name / uuid.uuid4().hex
        self.spark.sql(to_spark(query)).write.parquet(str(folder))
        self.spark.read.parquet(str(folder)).createOrReplaceTempView(name)

    def _year(self, name: str, params: dict) -> str:
        if name not in self.schemas:
            raise Untranslatable(f"derived table {name} is not declared in derive_tables.sql")
        year = params.get("school_year")
        if not isinstance(year, str):
            raise Untranslatable(f"a derived table ({name}) is written one school year at a time")
        if self._staging is None:
            raise Untranslatable(f"derived table {name} written outside a transaction")
        return year

    def _clear(self, name: str, params: dict) -> None:
        year = self._year(name, params)
        if params.get("every_pupil") is not True:
            raise Untranslatable(f"the spark engine derives every pupil of a year ({name})")
        self._cleared.add((name, year))
        self._staged.pop((name, year), None)
        self._show_derived(name)

    def _insert(self, name: str, query: exp.Expression, params: dict) -> None:
        year = self._year(name, params)
        if (name, year) not in self._cleared:
            raise Untranslatable(f"INSERT INTO {name} without emptying the year first")
        columns = [c.split(" ", 1)[0] for c in self.schemas[name].split(", ")]
        frame = self.spark.sql(to_spark(query)).select(*columns)
        folder = self._staging / name / f"school_year={year}"
        mode = "append" if (name, year) in self._staged else "overwrite"
        frame.where(frame["school_year"] == year).drop("school_year") \
            .write.mode(mode).parquet(str(folder))
        self._staged[(name, year)] = folder
        self._show_derived(name)

    def fetch(self, statement: str, params: dict) -> dict[str, np.ndarray]:
        table = self.spark.sql(to_spark(bind(parse(statement), params, self.macros))).toArrow()
        return {name: _numpy(table.column(i)) for i, name in enumerate(table.column_names)}

    def has_table(self, name: str) -> bool:
        return name in self.schemas

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.refresh()
        self._staging = self.lake / "derived" / f".staging-{uuid.uuid4().hex}"
        try:
            yield
            self._publish()
        finally:
            staging, self._staging = self._staging, None
            self._staged.clear()
            self._cleared.clear()
            shutil.rmtree(staging, ignore_errors=True)
            for table in self.schemas:
                self._show_derived(table)

    def _publish(self) -> None:
        """Move every staged school year into the lake: per table and year, the old folder
        is renamed away and the new one renamed in (then the old one deleted); a year emptied
        and not written again is removed."""
        for table, year in self._cleared | set(self._staged):
            target = self.lake / "derived" / table / f"school_year={year}"
            target.parent.mkdir(parents=True, exist_ok=True)
            old = target.with_name(f".old-{uuid.uuid4().hex}")
            if target.exists():
                os.rename(target, old)
            if (table, year) in self._staged:
                os.rename(self._staged[(table, year)], target)
            shutil.rmtree(old, ignore_errors=True)


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """One Arrow column as numpy; NULLs masked (as DuckDB's fetchnumpy does)."""
    if column.null_count == 0:
        return column.to_numpy()
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return np.ma.masked_array(column.fill_null(0).to_numpy(),
                                  mask=column.is_null().to_numpy())
    return np.ma.masked_array(np.array(column.to_pylist(), dtype=object),
                              mask=column.is_null().to_numpy())
