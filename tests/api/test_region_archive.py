"""A region's archive is public and readable (issue 27; service/releases/region_archive.py):
no key needed; one folder per release named by school year, kind (week NN) and date; an
index naming every folder; every published week of the area in one CSV without the weekly
releases' internal node rows; the archive's own package valid for frictionless and signed, so
`aanwezig verify` checks it whole and notices a folder removed or added."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import frictionless
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.cli import app as cli
from service.releases.standard import publish_standard

YEAR = "2025-2026"
FOLDER = re.compile(r"^2025-2026_(standard|week\d\d|query)_\d{4}-\d{2}-\d{2}_R[0-9A-Z]+$")
runner = CliRunner()


@pytest.fixture(scope="module")
def archive(synthetic_weeks, tmp_path_factory):
    con, settings = synthetic_weeks
    publish_standard(con, settings, YEAR)
    folder = tmp_path_factory.mktemp("archive")
    with TestClient(create_app(settings)) as client:
        got = client.get("/v1/regions/municipality/GM0363/archive")          # no key
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/zip"
        (folder / "key.pem").write_text(client.get("/v1/signing-key").text)
        listed = client.get("/v1/releases", params={"pageSize": 100}).json()
    (folder / "archive.zip").write_bytes(got.content)
    return folder, listed


def _read(folder, name):
    with zipfile.ZipFile(folder / "archive.zip") as zf:
        return zf.read(name)


def test_one_readable_folder_per_release_and_an_index_naming_them(archive):
    folder, listed = archive
    with zipfile.ZipFile(folder / "archive.zip") as zf:
        names = zf.namelist()
    folders = sorted({n.split("/", 1)[0] for n in names if "/" in n})
    assert all(FOLDER.match(f) for f in folders), folders
    items = listed["data"]
    assert listed["count"] == len(items)
    assert {f.rsplit("_", 1)[1] for f in folders} == {i["release_id"] for i in items}
    index = list(csv.DictReader(io.StringIO(_read(folder, "index.csv").decode("utf-8"))))
    assert sorted(r["folder"] for r in index) == folders
    weeks = sorted(int(r["week"]) for r in index if r["kind"] == "week")
    assert weeks == [1, 2, 3]
    assert all(r["folder"].startswith(f"2025-2026_week{int(r['week']):02d}_") for r in index if r["kind"] == "week")
    assert {"index.csv", "weekly.csv", "datapackage.json", "datapackage.json.sig", "signing-key.pem"} <= set(names)


def test_every_published_week_in_one_table_without_node_rows(archive):
    folder, _ = archive
    rows = list(csv.DictReader(io.StringIO(_read(folder, "weekly.csv").decode("utf-8"))))
    assert rows
    assert sorted({int(r["week"]) for r in rows}) == [1, 2, 3]
    assert not any(r["measure"].startswith("node:") for r in rows)
    # the same rows as the week folders' own release.csv, nodes left out
    with zipfile.ZipFile(folder / "archive.zip") as zf:
        own = 0
        for name in zf.namelist():
            if "_week" in name and name.endswith("/release.csv"):
                part = list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8"))))
                own += sum(not r["measure"].startswith("node:") for r in part)
    assert own == len(rows)


def test_the_archive_package_is_valid_and_verifies_whole(archive, tmp_path):
    folder, _ = archive
    with zipfile.ZipFile(folder / "archive.zip") as zf:
        zf.extractall(tmp_path / "x")
    report = frictionless.validate(str(tmp_path / "x" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    ok = runner.invoke(cli, ["verify", str(folder / "archive.zip"), "--public-key", str(folder / "key.pem")])
    assert ok.exit_code == 0, ok.output


def _rezip(source, target, keep):
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            if keep(name):
                zout.writestr(name, zin.read(name))
    return target


def test_verify_notices_a_folder_removed_or_an_index_changed(archive, tmp_path):
    folder, _ = archive
    with zipfile.ZipFile(folder / "archive.zip") as zf:
        week = next(n.split("/", 1)[0] for n in zf.namelist() if "_week02_" in n)
    removed = _rezip(folder / "archive.zip", tmp_path / "removed.zip", lambda n: not n.startswith(week + "/"))
    result = runner.invoke(cli, ["verify", str(removed), "--public-key", str(folder / "key.pem")])
    assert result.exit_code == 1 and f"{week}/ is missing" in result.output, result.output
    index = _read(folder, "index.csv").replace(b"week02", b"week99")
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(folder / "archive.zip") as zin, zipfile.ZipFile(changed, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, index if name == "index.csv" else zin.read(name))
    result = runner.invoke(cli, ["verify", str(changed), "--public-key", str(folder / "key.pem")])
    assert result.exit_code == 1 and "index.csv does not match its sha256" in result.output, result.output
