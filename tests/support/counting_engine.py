"""An engine that runs every statement on the real DuckDB engine and records what it was asked:
a genuine implementation of `service.engines.Engine` (not a stand-in for DuckDB), so a test can
tell whether work ran on the engine it handed over or on a DuckDB engine made behind its back."""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from service.engines.embedded import DuckDBEngine


class CountingEngine:
    """DuckDB on `con` (the same SQL, the same transaction), counting each call by kind and
    keeping the statements it ran."""

    name = "duckdb"     # the SQL dialect and the file it writes: DuckDB's

    def __init__(self, con) -> None:
        self._duckdb = DuckDBEngine(con)
        self.calls: dict[str, int] = {"execute": 0, "fetch": 0, "transaction": 0, "has_table": 0}
        self.statements: list[str] = []

    def execute(self, statement: str, params: dict) -> None:
        self.calls["execute"] += 1
        self.statements.append(statement)
        self._duckdb.execute(statement, params)

    def fetch(self, statement: str, params: dict) -> dict[str, np.ndarray]:
        self.calls["fetch"] += 1
        self.statements.append(statement)
        return self._duckdb.fetch(statement, params)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.calls["transaction"] += 1
        with self._duckdb.transaction():
            yield

    def has_table(self, name: str) -> bool:
        self.calls["has_table"] += 1
        return self._duckdb.has_table(name)


class CountingEngines:
    """An engine factory (`service.engines.EngineFactory`) for `create_app(engine=...)`: makes
    a CountingEngine over the cursor it is given and keeps every engine it made."""

    def __init__(self) -> None:
        self.made: list[CountingEngine] = []

    def __call__(self, con) -> CountingEngine:
        engine = CountingEngine(con)
        self.made.append(engine)
        return engine
