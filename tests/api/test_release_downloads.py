"""Downloads as a user gets them: a standard release on a real DuckDB file, fetched over HTTP
(TestClient) as the release zip, an area's zip and a region's archive; each passes
`aanwezig verify` as downloaded and unpacked, the area's package passes `frictionless
validate`, and a tampered download is refused with one line and exit 1."""

from __future__ import annotations

import json
import warnings
import zipfile

import frictionless
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli import app as cli
from service.releases.signing import public_pem
from service.releases.standard import publish_standard

YEAR = "2025-2026"
runner = CliRunner()


@pytest.fixture(scope="module")
def downloads(synthetic_nl, tmp_path_factory):
    """The zips exactly as the API sends them, and the service's public key, on disk."""
    con, settings = synthetic_nl
    release_id = publish_standard(con, settings, YEAR).record.release_id
    folder = tmp_path_factory.mktemp("downloads")
    with TestClient(create_app(settings)) as client:
        got = {
            "release": client.get(f"/v1/releases/{release_id}", params={"format": "zip"}),
            "area": client.get(f"/v1/releases/{release_id}/areas/municipality/GM0363"),
            "archive": client.get("/v1/regions/municipality/GM0363/archive",
                                  headers={"X-API-Key": settings.admin_key}),
        }
        (folder / "key.pem").write_text(client.get("/v1/signing-key").text)
    paths = {}
    for name, response in got.items():
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        paths[name] = folder / f"{name}.zip"
        paths[name].write_bytes(response.content)
    return paths, folder / "key.pem"


def verify(path, key):
    return runner.invoke(cli, ["verify", str(path), "--public-key", str(key)])


def refused(result, fragment: str):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("NOT verified: "), result.output
    assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("name", ["release", "area", "archive"])
def test_a_download_verifies_as_downloaded_and_unpacked(downloads, tmp_path, name):
    paths, key = downloads
    result = verify(paths[name], key)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("verified: ")
    with zipfile.ZipFile(paths[name]) as archive:
        archive.extractall(tmp_path / name)
    unpacked = verify(tmp_path / name, key)
    assert unpacked.exit_code == 0, unpacked.output
    assert unpacked.output == result.output


def test_the_area_download_passes_frictionless_validate(downloads, tmp_path):
    paths, _ = downloads
    with zipfile.ZipFile(paths["area"]) as archive:
        archive.extractall(tmp_path)
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert {r["format"] for r in package["resources"]} == {"csv", "json", "parquet"}
    assert all(r["profile"] == "tabular-data-resource" and r["schema"]["fields"]
               for r in package["resources"])
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:10]
    assert [task.stats["rows"] for task in report.tasks] == [len(json.loads(
        (tmp_path / "release.json").read_bytes())["rows"])] * 3


def rezip(source, target, change):
    """Copy a zip member by member through `change(name, data)` (None drops the member;
    a list of pairs adds members)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            for name, data in change(info.filename, old.read(info)) or []:
                new.writestr(name, data)
    return target


def flip(data: bytes, at: int | None = None) -> bytes:
    changed = bytearray(data)
    changed[len(data) // 2 if at is None else at] ^= 0x01
    return bytes(changed)


TAMPER = {
    "one byte of a resource": (lambda n, d: [(n, flip(d) if n == "release.csv" else d)],
                               "release.csv does not match its sha256 in datapackage.json"),
    "one byte of the Parquet": (lambda n, d: [(n, flip(d) if n == "release.parquet" else d)],
                                "release.parquet does not match its sha256"),
    "one byte of datapackage.json": (lambda n, d: [(n, flip(d) if n == "datapackage.json" else d)],
                                     "the signature over datapackage.json does not verify"),
    "a file added": (lambda n, d: [(n, d)] + ([("notes.txt", b"x")] if n == "release.csv" else []),
                     "notes.txt is not part of the signed release"),
    "a resource removed": (lambda n, d: [] if n == "release.json" else [(n, d)],
                           "release.json is listed in datapackage.json but missing"),
    "the signature removed": (lambda n, d: [] if n.endswith(".sig") else [(n, d)],
                              "datapackage.json.sig is missing"),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_a_tampered_zip_is_refused_in_one_line(downloads, tmp_path, case):
    paths, key = downloads
    change, message = TAMPER[case]
    refused(verify(rezip(paths["area"], tmp_path / "tampered.zip", change), key), message)


def test_a_flipped_byte_in_the_zip_itself_is_refused(downloads, tmp_path):
    """One byte changed in the downloaded bytes, inside a member's compressed data: the
    archive no longer reads (or no longer hashes) as signed."""
    paths, key = downloads
    raw = paths["area"].read_bytes()
    with zipfile.ZipFile(paths["area"]) as archive:
        info = archive.getinfo("release.csv")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(flip(raw, start + info.compress_size // 2))
    refused(verify(damaged, key), "release.csv")
    damaged.write_bytes(raw[: len(raw) // 2])
    refused(verify(damaged, key), "neither a folder nor a readable zip archive")


def test_a_second_copy_of_a_member_is_refused(downloads, tmp_path):
    paths, key = downloads
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # zipfile warns of the duplicate name
        doubled = rezip(paths["area"], tmp_path / "doubled.zip",
                        lambda n, d: [(n, d)] + ([(n, b"other")] if n == "release.csv" else []))
    refused(verify(doubled, key), "release.csv appears more than once in the archive")


def test_the_wrong_key_and_a_tampered_folder_are_refused(downloads, tmp_path):
    paths, key = downloads
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate()))
    refused(verify(paths["area"], other), "does not verify with this public key")
    not_a_key = tmp_path / "not-a-key.pem"
    not_a_key.write_text("hello")
    refused(verify(paths["area"], not_a_key), "not an Ed25519 public key")
    folder = tmp_path / "area"
    with zipfile.ZipFile(paths["area"]) as archive:
        archive.extractall(folder)
    (folder / "extra").mkdir()
    (folder / "extra" / "readme.txt").write_text("unsigned")
    refused(verify(folder, key), "extra/readme.txt is not part of the signed release")
    refused(verify(tmp_path / "nothing-here.zip", key), "does not exist")


def test_a_region_archive_must_carry_the_key_it_is_verified_with(downloads, tmp_path):
    paths, key = downloads
    other = public_pem(Ed25519PrivateKey.generate()).encode()
    swapped = rezip(paths["archive"], tmp_path / "swapped.zip",
                    lambda n, d: [(n, other if n == "signing-key.pem" else d)])
    refused(verify(swapped, key), "signing-key.pem is not the public key given")
    with zipfile.ZipFile(paths["archive"]) as archive:
        csv = next(n for n in archive.namelist() if n.endswith("/release.csv"))
    tampered = rezip(paths["archive"], tmp_path / "tampered.zip",
                     lambda n, d: [(n, flip(d) if n == csv else d)])
    refused(verify(tampered, key), f"{csv} does not match its sha256")
