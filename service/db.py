"""Opening the DuckDB database and applying the schema."""

from __future__ import annotations

from pathlib import Path

import duckdb

import sql


#: DuckDB spills to disk beyond this, so national-scale derivation stays well under 8 GB.
MEMORY_LIMIT = "5GB"


def connect(path: Path | str, *, read_only: bool = False,
            memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` with the schema applied."""
    con = duckdb.connect(str(path), read_only=read_only,
                         config={"memory_limit": memory_limit, "preserve_insertion_order": False})
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        con.execute(sql.load("schema"))
        con.execute(sql.load("ledger"))
        con.execute(sql.load("auth"))
    return con


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file behind a connection (or its name, for an in-memory database): the key for
    per-database locks and caches."""
    cur = con.cursor()
    try:
        return str(cur.execute("SELECT coalesce(path, database_name) FROM duckdb_databases() "
                               "WHERE database_name = current_database()").fetchall()[0][0])
    finally:
        cur.close()
