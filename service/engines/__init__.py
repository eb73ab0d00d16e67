"""The engine seam: where the heavy SQL on pupil data runs (derive and the true aggregates).

Two engines run the SAME statements of `sql/`: DuckDB (`embedded.DuckDBEngine`, the default,
on the service's database file) and Apache Spark (`spark.SparkEngine`, local mode or a
cluster, reading the uploads from the Parquet lake and transpiling each statement with
sqlglot). `service.ingest.derive` and `service.releases.aggregate` ask :func:`current` for the
engine and never know which one runs; `privacy/` never sees either.

The engine is chosen by the caller that starts the work (the CLI's ``--engine``, or the
``AANWEZIG_ENGINE`` setting) and passed explicitly (``engine=``: the writer thread passes
`from_settings` to every derive and standard release it runs), or made current for a block
with ``with engines.use(engine): ...`` (the CLI); without either, DuckDB on the connection at
hand runs.

Imports: `sql`, `service.db`, duckdb, numpy; `spark` imports pyspark and sqlglot only when a
Spark engine is made. Nothing here imports a room above (`ingest`, `releases`, ...).
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import ContextManager, Iterator, Protocol

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


_current: ContextVar[Engine | None] = ContextVar("aanwezig_engine", default=None)


@contextlib.contextmanager
def use(engine: Engine) -> Iterator[Engine]:
    """Make `engine` the one derive and aggregation run on, inside the block."""
    token = _current.set(engine)
    try:
        yield engine
    finally:
        _current.reset(token)


def current(con, engine: Engine | None = None) -> Engine:
    """`engine` if the caller passed one (the writer thread passes the configured engine),
    else the engine made current with `use`, else DuckDB on `con` (the default)."""
    engine = engine if engine is not None else _current.get()
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
