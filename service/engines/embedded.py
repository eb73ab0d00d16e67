"""DuckDB as an engine: the statements of `sql/` run as they are, on the service's database."""

from __future__ import annotations

import contextlib
from typing import Iterator

import duckdb
import numpy as np

from service.db import run_statement


class DuckDBEngine:
    """The default engine: the connection's own DuckDB database."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, statement: str, params: dict) -> None:
        run_statement(self.con, statement, params)

    def fetch(self, statement: str, params: dict) -> dict[str, np.ndarray]:
        # on the connection itself: inside a transaction, its uncommitted rows are visible
        run_statement(self.con, statement, params)
        names = [d[0] for d in self.con.description]
        columns = self.con.fetchnumpy()
        return {name: columns[name] for name in names}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def has_table(self, name: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                                     [name]).fetchone()[0])
