"""Opening the DuckDB database and applying the schema, and the counters writers bump.

Data versions: a module that commits a write to API keys, budget caps and charges, or the
register announces it with :func:`changed`; layers above that keep copies in memory
(`service/api/read_cache.py`) read :func:`generation` and drop what is older. So storage never
imports the caches above it: it only bumps a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import re
import threading

import duckdb

import sql


#: DuckDB spills to disk beyond this, so national-scale derivation stays well under 8 GB.
MEMORY_LIMIT = "5GB"

#: Optimizers switched off on every connection. DuckDB 2.0.0-2.0.1's compressed materialization
#: narrows integer sums to 8 bits when a LEFT JOIN's right side is an empty table (a sum of
#: 30,000 minutes came back as 48; 1.4.3 and 1.5.6 are right). True aggregates feed the noise,
#: so a wrong one is a wrong statistic: tests/integration/test_duckdb_guard.py keeps the reproduction.
DISABLED_OPTIMIZERS = "compressed_materialization"


def config(memory_limit: str = MEMORY_LIMIT) -> dict:
    """The settings every connection of the service opens with."""
    return {"memory_limit": memory_limit, "preserve_insertion_order": False,
            "disabled_optimizers": DISABLED_OPTIMIZERS}


def connect(path: Path | str, *, read_only: bool = False,
            memory_limit: str = MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` with the schema applied."""
    con = duckdb.connect(str(path), read_only=read_only, config=config(memory_limit))
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        con.execute(sql.load("schema"))
        con.execute(sql.load("ledger"))
        con.execute(sql.ddl("auth"))
        con.execute(sql.ddl("jobs"))
        _upgrade_pupil_tags(con)
    return con


def _upgrade_pupil_tags(con: duckdb.DuckDBPyConnection) -> None:
    """Key pupil_week and pupil_long_term_counted by pupil_tag where a database made before
    still holds the 64-character pupil key there (sql/pupil_tag_upgrade.sql), in one
    transaction."""
    named = sql.named("pupil_tag_upgrade")
    tables = [row[0] for row in con.execute(named["keyed_tables"]).fetchall()]
    if not tables:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if "pupil_week" in tables:
            con.execute(named["pupil_week"])
        if "pupil_long_term_counted" in tables:
            for step in ("counted_create", "counted_copy", "counted_drop", "counted_rename"):
                con.execute(named[step])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


def run_file(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run every statement of `sql/<name>.sql`, each with the named parameters it uses."""
    for statement in sql.statements(name):
        run_statement(con, statement, params or {})


def run_statement(con: duckdb.DuckDBPyConnection, statement: str, params: dict) -> None:
    """One statement with only the `$name` parameters it uses (DuckDB refuses extra ones)."""
    used = set(_PARAM.findall(statement))
    con.execute(statement, {k: v for k, v in params.items() if k in used})


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file behind a connection (or its name, for an in-memory database): the key for
    per-database locks and caches."""
    cur = con.cursor()
    try:
        return str(cur.execute("SELECT coalesce(path, database_name) FROM duckdb_databases() "
                               "WHERE database_name = current_database()").fetchall()[0][0])
    finally:
        cur.close()


KEYS, BUDGET, REGISTER, DATA = "keys", "budget", "register", "data"
"""What a write changes: API keys; budget caps and charges; the register and calendar; the
derived per-pupil tables (a derive committed: the data version may have moved)."""

_generation_lock = threading.Lock()
_generations: dict[str, int] = {}


@dataclass(frozen=True)
class WriteLocks:
    """The locks that serialise each family of writers of ONE database file in this process
    (docs/architecture.md, "Who writes what"): uploads (two uploads of one school would both
    replace the same earlier batch), the ledger (charges and releases), API keys."""

    uploads: threading.Lock = field(default_factory=threading.Lock)
    ledger: threading.Lock = field(default_factory=threading.Lock)
    keys: threading.Lock = field(default_factory=threading.Lock)


#: The write locks of every database file this process writes, by resolved path: the one
#: registry of locks keyed by database (tests and the CLI open several files in one process).
_WRITE_LOCKS: dict[str, WriteLocks] = {}
_write_locks_guard = threading.Lock()


def write_locks(path: str | Path | None) -> WriteLocks:
    """The write locks of the database file at `path` (`database_path` of a connection);
    a private set for an in-memory database without a path (None)."""
    if not path:
        return WriteLocks()
    with _write_locks_guard:
        return _WRITE_LOCKS.setdefault(str(Path(path).resolve()), WriteLocks())


def changed(topic: str) -> None:
    """Call after committing (or rolling back) a write to the tables of `topic`."""
    with _generation_lock:
        _generations[topic] = _generations.get(topic, 0) + 1


def generation(topic: str) -> int:
    """How many writes to `topic` this process has announced."""
    return _generations.get(topic, 0)
