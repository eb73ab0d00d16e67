"""Reading stored releases back: their list, one release by id, the latest of a kind, and
its cells. Releases are immutable; publishing them is `service.releases.publish`."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from privacy.ledger import ReleaseRecord
from service.releases.budget import budget_view
from service.releases.ledger_store import find_stored


def list_releases(con: duckdb.DuckDBPyConnection, kind: str | None = None) -> list[dict]:
    """Metadata of stored releases, newest first (no cells)."""
    rows = con.execute(
        "SELECT release_id, kind, dataset, created_at, micro, content_hash, spec_json FROM release "
        "WHERE ? IS NULL OR kind = ? ORDER BY created_at DESC, release_id", [kind, kind]).fetchall()
    return [{"release_id": r[0], "kind": r[1], "dataset": r[2],
             "created_at": r[3].strftime("%Y-%m-%dT%H:%M:%SZ"), "budget": budget_view(r[4]),
             "content_hash": r[5], "spec": json.loads(r[6])} for r in rows]


def get_release(con: duckdb.DuckDBPyConnection, release_id: str) -> ReleaseRecord | None:
    row = con.execute("SELECT request_hash FROM release WHERE release_id = ?", [release_id]).fetchone()
    if row is None:
        return None
    return find_stored(con, row[0])      # a read: no ledger (no DDL, no lock) per lookup


def latest(con: duckdb.DuckDBPyConnection, kind: str, dataset: str | None = None) -> str | None:
    row = con.execute("SELECT release_id FROM release WHERE kind = ? AND (? IS NULL OR dataset = ?) "
                      "ORDER BY created_at DESC LIMIT 1", [kind, dataset, dataset]).fetchone()
    return row[0] if row else None


def cells(record: ReleaseRecord) -> pd.DataFrame:
    """The released cells of a stored release as a DataFrame."""
    payload = json.loads(record.payload)
    return pd.DataFrame(payload["rows"], columns=payload["columns"])
