"""Opening the DuckDB database and applying the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb

import sql


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` with the schema applied."""
    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        con.execute(sql.load("schema"))
        con.execute(sql.load("ledger"))
        con.execute(sql.load("auth"))
    return con
