"""What a release's request identity covers besides the question itself.

A release is found again by the hash of its canonical request (`service.releases.publish.publish`).
Two things besides the question decide what the answer would be, so both are in the hash:

* the **data version** of the dataset: the set of active batches the derived per-pupil tables
  were built from, recorded by derive in the same transaction as the rows
  (`sql/derived_version_write.sql`). A repeat on the same data is free and byte-identical; a
  question on new data is a new release (and charged as one);
* the **code and bound version**: the service version, the per-pupil clamps
  (`service.ingest.bounds.derive_parameters`), the catalogue's bound specs and the text of the
  SQL that derives and aggregates. A change to any of them is a new release.

The weekly stream is the exception: a week is released exactly once, whatever arrives later
(docs/weekly.md "Frozen weeks"), so its identity is the week alone (`publish(versioned=False)`).

The data version of a dataset is kept in memory in the `service.db.Database` of its file and
dropped when a derive announces `service.db.DATA` (this process is the only writer of its file).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import duckdb

import sql
from privacy.request import canonical_json
from service import __version__, db
from service.ingest.bounds import derive_parameters
from service.releases.catalogue import JOINT_TABLES, MONTH_TOTALS, TOTALS

#: SQL whose text decides the per-pupil values and their sums.
_VALUE_SQL = ("derive_prepare", "derive_absences", "derive_pupil_year", "derive_pupil_week",
              "derive_pupil_month", "aggregate_contributions", "aggregate_month_contributions",
              "weekly_leaf_totals")

NEVER_DERIVED = "none"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the service version, the clamps, the bound specs and the value SQL."""
    parts = {
        "service": __version__,
        "clamps": derive_parameters(),
        "bounds": {name: t.bound for name, t in sorted(TOTALS.items())},
        "month_bounds": {name: t.bound for name, t in sorted(MONTH_TOTALS.items())},
        "joint_bounds": {name: table for name, table in sorted(JOINT_TABLES.items())},
        "sql": {name: hashlib.sha256(sql.load(name).encode()).hexdigest() for name in _VALUE_SQL},
    }
    return hashlib.sha256(canonical_json(parts)).hexdigest()[:16]


def data_version(con: duckdb.DuckDBPyConnection, database: db.Database | None,
                 dataset: str) -> str:
    """The data version of `dataset`'s derived tables (hash of the active batch ids derive
    read, with their count), or ``"none"`` if it was never derived; kept in `database`'s
    `data_versions` until its next `DATA` change."""
    database = db.or_detached(database)
    seen = database.generation(db.DATA)
    cur = con.cursor()
    try:
        row = cur.execute(sql.load("derived_version_read"), {"school_year": dataset}).fetchone()
    except duckdb.CatalogException:  # derived tables not created yet
        row = None
    finally:
        cur.close()
    version = f"{row[1]}:{row[0][:16]}" if row else NEVER_DERIVED
    database.data_versions.put(dataset, (seen, version))
    return version


def known_data_version(database: db.Database, dataset: str) -> str | None:
    """The data version if this process read it since the last derive, else None."""
    kept = database.data_versions.peek(dataset)
    if kept is None or kept[0] != database.generation(db.DATA):
        return None
    return kept[1]


def identity(version: str) -> dict:
    """The identity part of a canonical request on data version `version`."""
    return {"data_version": version, "code_version": code_version()}
