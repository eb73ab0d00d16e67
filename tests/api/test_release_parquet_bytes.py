"""A stored release's Parquet is served as the bytes it was signed over, whatever Parquet
writer runs later: its bytes depend on the installed pyarrow (the footer names the writer
version, encoding defaults change), so they are kept with the release at publish time.

"A later pyarrow" is simulated by replacing our own rebuild function (`files.to_parquet`) with
one that writes the same table with other footer metadata and other page settings; the
database (a real DuckDB file), the HTTP downloads (TestClient) and `aanwezig verify` are real.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli import app as cli
from service.releases import files as release_files_module
from service.releases.files import build_files, sha256, to_parquet
from service.releases.ledger_store import DuckDBLedger
from service.releases.signing import private_key, public_pem
from service.releases.standard import publish_standard
from service.releases.subsets import release_files
from service.releases.verification import VerificationError, verify_files

YEAR = "2025-2026"
runner = CliRunner()


def later_pyarrow(payload: dict) -> bytes:
    """The same table as `to_parquet` writes, as another writer version would write it."""
    table = pa.Table.from_batches(pq.read_table(io.BytesIO(to_parquet(payload))).to_batches())
    table = table.replace_schema_metadata({"created_by": "parquet-cpp-arrow version 99.0.0"})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", data_page_version="2.0")
    return buf.getvalue()


@pytest.fixture(scope="module")
def published(synthetic_nl):
    """A standard release as stored, the Parquet bytes signed at publish, the public key."""
    con, settings = synthetic_nl
    record = publish_standard(con, settings, YEAR).record
    stored = DuckDBLedger(con.cursor).find_release(record.request_hash).record
    return settings, stored, public_pem(private_key(settings))


def test_the_parquet_signed_at_publish_is_stored_with_the_release(published):
    _, record, key = published
    assert record.parquet is not None
    assert record.parquet.startswith(b"PAR1") and record.parquet.endswith(b"PAR1")
    package = json.loads(build_files(record.payload, parquet=record.parquet)["datapackage.json"])
    hashes = {r["path"]: r["hash"] for r in package["resources"]}
    assert hashes["release.parquet"] == "sha256:" + sha256(record.parquet)
    verify_files(release_files(record).files, record.signature, key)


def test_a_later_parquet_writer_changes_the_rebuilt_bytes(published, monkeypatch):
    """The simulation is real: rebuilt under the 'later writer', the Parquet differs, and a
    release without kept bytes (stored before they were kept) would no longer verify."""
    _, record, key = published
    monkeypatch.setattr(release_files_module, "to_parquet", later_pyarrow)
    rebuilt = build_files(record.payload)
    assert rebuilt["release.parquet"] != record.parquet
    assert pq.read_table(io.BytesIO(rebuilt["release.parquet"])).equals(
        pq.read_table(io.BytesIO(record.parquet)))          # same cells, other bytes
    old = dataclasses.replace(record, parquet=None)
    with pytest.raises(VerificationError, match="signature"):
        verify_files(release_files(old).files, old.signature, key)


def test_downloads_after_a_writer_upgrade_are_the_signed_bytes(published, monkeypatch, tmp_path):
    settings, record, key = published
    monkeypatch.setattr(release_files_module, "to_parquet", later_pyarrow)
    release_id = record.release_id
    with TestClient(create_app(settings)) as client:          # a fresh app: nothing cached
        zipped = client.get(f"/v1/releases/{release_id}", params={"format": "zip"})
        parquet = client.get(f"/v1/releases/{release_id}", params={"format": "parquet"})
        package = client.get(f"/v1/releases/{release_id}/datapackage")
        signature = client.get(f"/v1/releases/{release_id}/signature")
    for response in (zipped, parquet, package, signature):
        assert response.status_code == 200, response.text
    assert parquet.content == record.parquet
    assert signature.content == record.signature
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert archive.read("release.parquet") == record.parquet
        assert archive.read("datapackage.json") == package.content
    (tmp_path / "key.pem").write_text(key)
    (tmp_path / "release.zip").write_bytes(zipped.content)
    result = runner.invoke(cli, ["verify", str(tmp_path / "release.zip"),
                                 "--public-key", str(tmp_path / "key.pem")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verified: ")


def test_an_area_subset_is_signed_over_what_it_serves(published, monkeypatch, tmp_path):
    """An area's part is cut and signed on request, so it verifies under any writer."""
    settings, record, key = published
    monkeypatch.setattr(release_files_module, "to_parquet", later_pyarrow)
    with TestClient(create_app(settings)) as client:
        area = client.get(f"/v1/releases/{record.release_id}/areas/municipality/GM0363")
    assert area.status_code == 200, area.text
    (tmp_path / "key.pem").write_text(key)
    (tmp_path / "area.zip").write_bytes(area.content)
    result = runner.invoke(cli, ["verify", str(tmp_path / "area.zip"),
                                 "--public-key", str(tmp_path / "key.pem")])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(io.BytesIO(area.content)) as archive:
        served = archive.read("release.parquet")
        payload = json.loads(archive.read("release.json"))
    assert served == later_pyarrow(payload)                  # cut under the later writer


#: The release table as databases made before the Parquet bytes were kept have it.
OLD_RELEASE_TABLE = """CREATE TABLE release (
    release_id VARCHAR PRIMARY KEY, request_hash VARCHAR NOT NULL UNIQUE,
    dataset VARCHAR NOT NULL, kind VARCHAR NOT NULL, spec_json VARCHAR NOT NULL,
    payload BLOB NOT NULL, content_hash VARCHAR NOT NULL, signature BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL, service_version VARCHAR NOT NULL,
    micro BIGINT NOT NULL CHECK (micro >= 0))"""


def test_a_database_from_before_keeps_its_releases_and_rebuilds_their_parquet(tmp_path):
    """The column is added to an existing database; its old releases read back without kept
    bytes and are served rebuilt, as before."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(OLD_RELEASE_TABLE)
    payload = json.dumps({"format": "aanwezig-release/2", "release_id": "ROLD", "kind": "query",
                          "dataset": YEAR, "created_at": "2026-01-01T00:00:00Z",
                          "columns": ["measure"], "rows": [["m"]]}).encode()
    con.execute("INSERT INTO release VALUES ('ROLD', 'h-old', ?, 'query', '{}', ?, 'c', 's', "
                "TIMESTAMP '2026-01-01', 'v', 1)", [YEAR, payload])
    assert "parquet" not in [c[0] for c in con.execute("DESCRIBE release").fetchall()]
    con.close()
    with DuckDBLedger(path) as book:
        record = book.find_release("h-old").record
    assert record.parquet is None
    assert release_files(record).files["release.parquet"] == to_parquet(json.loads(payload))
