"""The engine seam: where the heavy SQL on pupil data runs (derive and the true aggregates).

Two engines run the SAME statements of `sql/`: DuckDB (`embedded.DuckDBEngine`, the default,
on the service's database file) and Apache Spark (`spark.SparkEngine`, local mode or a
cluster, reading the uploads from the Parquet lake and transpiling each statement with
sqlglot). `service.ingest.derive` and `service.releases.aggregate` take the engine as
``engine=`` (:func:`current`: the one passed, else DuckDB on the connection at hand) and never
know which one runs; `privacy/` never sees either.

The engine is chosen by the caller that starts the work and passed explicitly, as httpx passes
a transport: the CLI's ``--engine`` (or ``AANWEZIG_ENGINE``) makes one (`open_engine`) and
hands it to the derive or release it runs; the writer thread is given an `EngineFactory`
(default: `from_settings`) and passes the engine it makes over its cursor to every derive and
standard release. There is no ambient engine: a call without ``engine=`` runs on DuckDB.

Imports: `sql`, `service.db`, duckdb, numpy; `spark` imports pyspark and sqlglot only when a
Spark engine is made. Nothing here imports a room above (`ingest`, `releases`, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ContextManager, Protocol

import numpy as np

NAMES = ("duckdb", "spark")


class Engine(Protocol):
    """What derive and the aggregation need from an engine."""

    name: str

    def execute(self, statement: str, params: dict) -> None:
        """Run one statement of `sql/` (DDL or a table-creating query) with the `$name`
        parameters it uses."""

    def fetch(self, statement: str, params: dict) -> dict[str, np.ndarray]:
        """Run one query of `sql/` and return its columns by name, in order (NULLs: masked)."""

    def transaction(self) -> ContextManager[None]:
        """All statements inside become visible together, or not at all."""

    def has_table(self, name: str) -> bool:
        """Whether the derived table `name` exists on this engine."""


#: Makes the engine that runs over a DuckDB connection (the writer thread's, per cursor).
EngineFactory = Callable[[object], Engine]


def current(con, engine: Engine | None = None) -> Engine:
    """`engine` if the caller passed one (the CLI and the writer thread pass the configured
    engine), else DuckDB on `con` (the default)."""
    if engine is not None:
        return engine
    from service.engines.embedded import DuckDBEngine

    return DuckDBEngine(con)


def from_settings(settings, con) -> Engine:
    """The engine `settings` name (`AANWEZIG_ENGINE`), over `con`."""
    return open_engine(settings.engine, con, lake=settings.lake, master=settings.spark_master,
                       driver_memory=settings.spark_driver_memory)


def open_engine(name: str, con, *, lake=None, master: str = "local[2]",
                driver_memory: str = "4g") -> Engine:
    """The engine called `name` ('duckdb' or 'spark') over the database `con` (Spark: and the
    Parquet lake at `lake`, on the master URL `master`)."""
    if name == "duckdb":
        from service.engines.embedded import DuckDBEngine

        return DuckDBEngine(con)
    if name == "spark":
        if lake is None:
            raise ValueError("the spark engine needs the Parquet lake (--lake / AANWEZIG_LAKE)")
        from service.engines.spark import SparkEngine, session

        return SparkEngine(session(master, driver_memory), lake, con)
    raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(NAMES)}")
