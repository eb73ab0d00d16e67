"""Opening the DuckDB database and applying the schema; the `Database` object that holds
one file's connection, write locks, data-version counters and in-memory copies.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import re
import threading

import duckdb

import sql

T = TypeVar("T")

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


@dataclass(frozen=True)
class WriteLocks:
    """The locks that serialise each family of writers of ONE database file in this process
    (docs/architecture.md, "Who writes what"): uploads (two uploads of one school would both
    replace the same earlier batch), the ledger (charges and releases), API keys; and the
    ledger's DDL when a ledger is opened (a catalog write: two at once conflict)."""

    uploads: threading.Lock = field(default_factory=threading.Lock)
    ledger: threading.Lock = field(default_factory=threading.Lock)
    keys: threading.Lock = field(default_factory=threading.Lock)
    ledger_ddl: threading.Lock = field(default_factory=threading.Lock)


class Memo:
    """A bounded, thread-safe memo of values built from the database: at most `limit` kept,
    the oldest kept (or, `lru`, the least recently used) out first. Request threads and the
    writer thread share one: a value is built outside the lock (two threads may both build
    it; the values are equal) and kept under it."""

    def __init__(self, limit: int, *, lru: bool = False) -> None:
        self._limit = limit
        self._lru = lru
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> Any | None:
        """The kept value, or None: never builds."""
        with self._lock:
            found = self._items.get(key)
            if found is not None and self._lru:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: T) -> T:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)
        return value

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The kept value of `key`, else `build()` kept."""
        found = self.peek(key)
        return found if found is not None else self.put(key, build())

    def __len__(self) -> int:
        return len(self._items)


class Database:
    """One DuckDB file as this process holds it: the connection, the locks that serialise its
    writers, the counters its writers bump, and every in-memory copy of what is in it.

    Made once by whoever starts the work and passed explicitly: `create_app` keeps it in
    `app.state.database` (requests and the writer thread share it), the CLI opens one per
    command (`Database.open`). Functions below take it as `database=`; given None they build
    what they need afresh (`Database.detached`: nothing shared, nothing kept across calls).

    Data versions: a module that commits a write to API keys, budget caps and charges, the
    register or the derived tables announces it with :meth:`changed`; the copies kept in
    memory above storage (`service/api/read_cache.py`, the data versions of releases, the area
    structure) read :meth:`generation` and drop what is older. So storage never imports the
    caches above it: it only bumps a number, and holds the memos they fill.

    The memos (each holds values that depend only on the file's contents; docs/architecture.md,
    "Where state lives"):

    - `stored_releases`: stored releases by request hash (`releases/publish.py`); immutable;
    - `data_versions`: each school year's data version with the `DATA` counter it was read at
      (`releases/identity.py`);
    - `structures`: the register's `AreaStructure` by register version (`register/areas.py`);
    - `weekly_cells`: the cells of week releases by release id (`weekly/series.py`); immutable;
    - `comparisons`: parsed standard releases with their covariance model (`compare/comparison.py`);
    - `chart_specs`: Vega-Lite specs of stored releases (`api/routes/page.py`);
    - `read_caches`: the API layer's read caches by name (`api/read_cache.py`), made on first use.
    """

    def __init__(self, path: Path | str | None = None,
                 con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.path = str(Path(path).resolve()) if path and str(path) != ":memory:" else None
        self.con = con
        self.locks = WriteLocks()
        self._generations: dict[str, int] = {}
        self._generation_lock = threading.Lock()
        self.stored_releases = Memo(256)
        self.data_versions = Memo(256)
        self.structures = Memo(8)
        self.weekly_cells = Memo(128)
        self.comparisons = Memo(8, lru=True)
        self.chart_specs = Memo(128)
        self._read_caches: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path | str, *, read_only: bool = False,
             memory_limit: str = MEMORY_LIMIT) -> "Database":
        """The database at `path` with its one connection open (`connect`)."""
        con = connect(path, read_only=read_only, memory_limit=memory_limit)
        return cls(database_path(con), con)

    @classmethod
    def detached(cls) -> "Database":
        """A database object for one call made without one: private locks and counters, empty
        memos (what a test calling a function on a bare connection gets)."""
        return cls()

    def close(self) -> None:
        """Close its connection (the memos go with the object)."""
        if self.con is not None:
            self.con.close()

    def changed(self, topic: str) -> None:
        """Call after committing (or rolling back) a write to the tables of `topic`."""
        with self._generation_lock:
            self._generations[topic] = self._generations.get(topic, 0) + 1

    def generation(self, topic: str) -> int:
        """How many writes to `topic` this process has announced on this database."""
        return self._generations.get(topic, 0)

    def read_cache(self, name: str, make: Callable[["Database"], T]) -> T:
        """The read cache `name` of this database, made by `make(self)` on first use."""
        with self._generation_lock:
            if name not in self._read_caches:
                self._read_caches[name] = make(self)
            return self._read_caches[name]


def or_detached(database: Database | None) -> Database:
    """`database`, or a detached one for a call made without one."""
    return database if database is not None else Database.detached()
