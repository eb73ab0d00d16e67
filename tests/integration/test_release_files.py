"""Release files: deterministic serialisation, RFC 4180 CSV, Frictionless datapackage,
Ed25519 signature that verifies and fails on any flipped byte."""

from __future__ import annotations

import csv
import io
import json

import frictionless
import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.releases.files import (
    COLUMNS,
    FORMAT,
    VerificationError,
    build_files,
    canonical_bytes,
    sha256,
    verify_files,
)
from service.releases.signing import SigningKeyMissing, private_key, public_pem, sign
from service.settings import Settings
from support.paths import ROOT


#: The columns releases had before issue 23 (the whole-pupil view, no shown value or p-value).
OLD_COLUMNS = ("measure", "level", "area_code", "area_name", "sector", "estimate", "lower",
               "upper", "sd", "integer_estimate", "rank", "rank_lower", "rank_upper", "unit",
               "noise", "scale", "flags")


def payload(fmt: str = FORMAT, old: bool = False) -> bytes:
    if old:
        return canonical_bytes({**json.loads(payload(fmt)), "columns": list(OLD_COLUMNS), "rows": [
            ["enrolled", "municipality", "GM0363", "Amsterdam", "all", 120.37, 112.33, 128.41, 4.1,
             120, 3, 1, 7, "pupils", "discrete_gaussian", 3.2, []],
            ["chronic_share", "school", "12AB00", 'School "De Regenboog", Noord', "all", 0.15, 0.0,
             0.4, 0.1, None, None, None, None, "share", "discrete_gaussian", 3.2,
             ["interval_includes_0"]]]})
    rows = [
        ["enrolled", "municipality", "GM0363", "Amsterdam", "all", 120.37, 120.37, 112.33, 128.41,
         4.1, None, 3, 1, 7, None, None, None, "pupils", "discrete_gaussian", 3.2, []],
        ["chronic_share", "school", "12AB00", 'School "De Regenboog", Noord', "all", -0.01, 0.0,
         0.0, 0.4, 0.1, 0.02, None, None, None, 0.12, 0.05, 0.21, "share", "discrete_gaussian",
         3.2, ["interval_includes_0"]],
    ]
    return canonical_bytes({"format": fmt, "release_id": "RABC", "kind": "standard",
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


def test_every_resource_carries_its_table_schema():
    files = build_files(payload())
    package = json.loads(files["datapackage.json"])
    for res in package["resources"]:
        assert res["profile"] == "tabular-data-resource", res["path"]
        fields = res["schema"]["fields"]
        assert [f["name"] for f in fields] == list(COLUMNS), res["path"]
        flags = next(f for f in fields if f["name"] == "flags")
        assert flags["type"] == ("array" if res["format"] == "json" else "string")
    by_path = {r["path"]: r for r in package["resources"]}
    assert by_path["release.json"]["dialect"] == {"header": False,
                                                  "json": {"property": "rows", "keyed": False}}


def many_rows(fmt: str = FORMAT, optional: bool = True) -> bytes:
    """A release shaped like a real one: 300 rows, the optional columns (p-values, ranks as
    floats, as the store writes them, model estimates) on the first 200 and empty after, as in a standard
    release; or no optional column filled at all, as in a query (Parquet then has null-typed
    columns)."""
    rows = []
    for i in range(300):
        filled = optional and i < 200
        rows.append(["enrolled" if i < 200 else "chronic_share", "school", f"{i:02d}AB00",
                     f"School {i}", "all", 10.5 + i, 10.5 + i if filled else None, 1.25,
                     20.75 + i, 4.1, i / 1000 if filled else None, float(i + 1) if filled else None,
                     float(i + 1) if filled else None, float(i + 3) if filled else None,
                     0.2 if filled else None, 0.1 if filled else None, 0.3 if filled else None,
                     "pupils", "discrete_gaussian", 3.2, ["interval_includes_0"] if i % 7 else []])
    base = json.loads(payload(fmt))
    base["rows"] = rows
    return canonical_bytes(base)


def frictionless_errors(folder, files: dict[str, bytes]) -> list:
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    report = frictionless.validate(str(folder / "datapackage.json"))
    return report.flatten(["type", "note"]) if not report.valid else []


@pytest.mark.parametrize("optional", [True, False], ids=["standard", "query"])
def test_datapackage_is_valid_frictionless(tmp_path, optional):
    assert frictionless_errors(tmp_path / "a", build_files(payload())) == []
    assert frictionless_errors(tmp_path / "b", build_files(many_rows(optional=optional))) == []


def test_frictionless_finds_a_schema_that_does_not_match_the_parquet(tmp_path):
    """The check can fail: the old package (no schema on the Parquet resource) gets type
    errors from frictionless's guess, and so does a schema that says a text column is a
    number."""
    old = build_files(many_rows("aanwezig-release/1"))
    assert any(kind == "type-error" for kind, _ in frictionless_errors(tmp_path / "old", old))
    files = build_files(many_rows())
    package = json.loads(files["datapackage.json"])
    parquet = next(r for r in package["resources"] if r["format"] == "parquet")
    next(f for f in parquet["schema"]["fields"] if f["name"] == "area_code")["type"] = "number"
    files["datapackage.json"] = canonical_bytes(package)
    assert any(kind == "type-error" for kind, _ in frictionless_errors(tmp_path / "bad", files))


def test_a_release_stored_in_format_1_gets_the_datapackage_it_was_signed_over():
    """Releases stored before every resource had its schema were signed over the old
    datapackage.json; it is rebuilt byte for byte (tests/assets holds it as the old code
    wrote it; only the Parquet hash depends on the installed pyarrow), so their stored
    signatures still verify."""
    files = build_files(payload("aanwezig-release/1", old=True))
    then = (ROOT / "tests" / "assets" / "datapackage-release-1.json").read_bytes()
    then = then.replace(b"PARQUET_SHA256", sha256(files["release.parquet"]).encode())
    assert files["datapackage.json"] == then
    key = Ed25519PrivateKey.generate()
    assert verify_files(files, sign(key, then), public_pem(key))


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
