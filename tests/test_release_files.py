"""Release files: deterministic serialisation, RFC 4180 CSV, Frictionless datapackage,
Ed25519 signature that verifies and fails on any flipped byte."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.releases.files import (COLUMNS, VerificationError, build_files, canonical_bytes,
                                   verify_files)
from service.settings import Settings
from service.releases.signing import SigningKeyMissing, private_key, public_pem, sign


def payload() -> bytes:
    rows = [
        ["enrolled", "municipality", "GM0363", "Amsterdam", "all", 120.37, 112.33, 128.41, 4.1,
         120, 3, 1, 7, "pupils", "discrete_gaussian", 3.2, []],
        ["chronic_share", "school", "12AB00", 'School "De Regenboog", Noord', "all", 0.15, 0.0,
         0.4, 0.1, None, None, None, None, "share", "discrete_gaussian", 3.2, ["interval_includes_0"]],
    ]
    return canonical_bytes({"format": "aanwezig-release/1", "release_id": "RABC", "kind": "standard",
                            "dataset": "2025-2026", "created_at": "2026-01-01T00:00:00Z",
                            "service_version": "0.1.0", "spec": {"kind": "standard"},
                            "method": {"mechanism": "discrete_gaussian"},
                            "budget": {"rho": "3/5"}, "columns": list(COLUMNS), "rows": rows})


def test_files_are_deterministic_and_complete():
    a, b = build_files(payload()), build_files(payload())
    assert a == b
    assert set(a) == {"release.json", "release.csv", "release.parquet", "datapackage.json"}


def test_the_zip_is_deterministic_deflated_and_holds_every_file():
    import zipfile

    from service.releases.files import ReleaseFiles

    big = json.loads(payload())
    big["rows"] = big["rows"] * 500  # repetitive text: deflate must shrink it a lot
    files = ReleaseFiles(build_files(canonical_bytes(big)), b"s" * 64)
    archive = files.zip()
    assert archive == files.zip()
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert set(infos) == set(files.files) | {"datapackage.json.sig"}
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos.values())
        assert all(zf.read(n) == d for n, d in files.files.items())
    assert len(archive) < sum(map(len, files.files.values())) / 5


def test_csv_is_rfc4180_with_codes_next_to_names():
    text = build_files(payload())["release.csv"].decode("utf-8")
    assert text.endswith("\r\n") and "\r\n" in text.split("\n")[0] + "\n"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    assert rows[2][3] == 'School "De Regenboog", Noord' and rows[2][2] == "12AB00"
    assert rows[2][-1] == "interval_includes_0"


def test_parquet_round_trip():
    table = pq.read_table(io.BytesIO(build_files(payload())["release.parquet"]))
    assert table.column_names == list(COLUMNS)
    assert table.column("area_code").to_pylist() == ["GM0363", "12AB00"]


def test_datapackage_lists_hashes_units_and_method():
    files = build_files(payload())
    package = json.loads(files["datapackage.json"])
    assert package["profile"] == "data-package"
    by_path = {r["path"]: r for r in package["resources"]}
    assert set(by_path) == {"release.csv", "release.json", "release.parquet"}
    import hashlib
    for path, res in by_path.items():
        assert res["hash"] == "sha256:" + hashlib.sha256(files[path]).hexdigest()
    fields = by_path["release.csv"]["schema"]["fields"]
    assert [f["name"] for f in fields] == list(COLUMNS)
    assert package["aanwezig"]["budget"] == {"rho": "3/5"}


def test_datapackage_is_valid_frictionless(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    files = build_files(payload())
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])


def test_signature_verifies_and_any_flipped_byte_fails():
    key = Ed25519PrivateKey.generate()
    files = build_files(payload())
    signature = sign(key, files["datapackage.json"])
    pem = public_pem(key)
    assert verify_files(files, signature, pem)[0] == "datapackage.json"
    for name in files:
        data = bytearray(files[name])
        for position in (0, len(data) // 2, len(data) - 1):
            flipped = dict(files)
            changed = bytearray(data)
            changed[position] ^= 0x01
            flipped[name] = bytes(changed)
            with pytest.raises(VerificationError):
                verify_files(flipped, signature, pem)
    bad_sig = bytearray(signature)
    bad_sig[10] ^= 0x80
    with pytest.raises(VerificationError):
        verify_files(files, bytes(bad_sig), pem)
    with pytest.raises(VerificationError):
        verify_files(files, signature, public_pem(Ed25519PrivateKey.generate()))


def test_demo_key_is_generated_once_and_production_refuses_without(tmp_path):
    settings = Settings(mode="demo", db=tmp_path / "x.duckdb")
    first, second = private_key(settings), private_key(settings)
    assert public_pem(first) == public_pem(second)
    assert oct((tmp_path / "x.duckdb.signing-key").stat().st_mode & 0o777) == "0o600"
    prod = Settings.model_construct(mode="production", db=tmp_path / "y.duckdb", signing_key="")
    with pytest.raises(SigningKeyMissing):
        private_key(prod)
