"""Every malformed upload of tests/support/upload_corpus.py, built from one school's synthetic files,
is refused through the HTTP API (400 problem+json naming file, data row and field) and
through `aanwezig ingest` (one `refused:` line, exit status 1, no traceback), stores nothing,
and echoes neither a planted value nor any pupil number of the files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.app import create_app
from service.api.auth import create_key
from service.cli import app as cli
from service.db import connect
from service.register.source import load_register
from service.settings import Settings
from support.upload_corpus import VARIANTS, Base, Variant, synthetic_base

runner = CliRunner()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A database with the real register, one school's valid synthetic files, a key for it,
    and a running app (HTTP) next to a second copy of the database (CLI)."""
    root = tmp_path_factory.mktemp("corpus")
    base, _ = synthetic_base(root)
    http_settings = Settings(mode="dev", db=root / "http.duckdb")
    con = connect(http_settings.db)
    load_register(con)
    con.close()
    shutil.copy(http_settings.db, root / "cli.duckdb")
    con = connect(http_settings.db)
    secret = create_key(con, http_settings, "school", base.school_id, "corpus")[1]
    con.close()
    numbers = {line.split(",")[0] for line in base.enrol[1:] + base.absent[1:]}
    with TestClient(create_app(http_settings)) as client:
        yield {"base": base, "client": client, "secret": secret, "root": root,
               "cli_db": root / "cli.duckdb", "http_db": http_settings.db, "numbers": numbers}


_FILES: dict[str, list[tuple[str, bytes]]] = {}


def _files(variant: Variant, base: Base) -> list[tuple[str, bytes]]:
    """The variant's files, built once per run (the 5,000,000-row one takes seconds)."""
    if variant.name not in _FILES:
        _FILES[variant.name] = variant.files(base)
    return _FILES[variant.name]


def _counts(client: TestClient | None, db: Path) -> tuple[int, int, int]:
    if client is not None:
        con = client.app.state.con.cursor()
    else:
        con = connect(db)
    try:
        return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("batch", "enrolment", "absence"))
    finally:
        con.close()


def _no_echo(text: str, variant: Variant, numbers: set[str]) -> None:
    if variant.secret:
        assert variant.secret not in text
    leaked = numbers & set(re.findall(r"\d{9}", text))
    assert not leaked, "a pupil number was echoed"


def test_the_corpus_is_large_and_the_base_is_valid(world, tmp_path):
    assert len(VARIANTS) >= 60
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    base = world["base"]
    db = tmp_path / "valid.duckdb"
    shutil.copy(world["cli_db"], db)
    (tmp_path / "enrolments.csv").write_bytes(base.enrol_csv())
    (tmp_path / "absences.csv").write_bytes(base.absent_csv())
    result = runner.invoke(cli, ["ingest", "--db", str(db), "--school", base.school_id.lower(),
                                 str(tmp_path / "enrolments.csv"), str(tmp_path / "absences.csv")],
                           env={"AANWEZIG_MODE": "dev"})
    assert result.exit_code == 0, result.output
    assert _counts(None, db) == (1, len(base.enrol) - 1, len(base.absent) - 1)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_http_refuses_with_file_row_and_field(world, variant):
    base, client = world["base"], world["client"]
    files = [("files", (name, content, "application/octet-stream"))
             for name, content in _files(variant, base)]
    response = client.post("/v1/uploads", files=files, headers={"X-API-Key": world["secret"]})
    assert response.status_code == 400, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:aanwezig:problem:invalid-upload"
    wanted = (variant.file, variant.expected_row(base), variant.field)
    matches = [e for e in body["errors"] if (e["file"], e["row"], e["field"]) == wanted]
    assert matches, (wanted, body["errors"][:5])
    assert any(variant.fragment in e["message"] for e in matches), matches
    _no_echo(response.text, variant, world["numbers"])
    assert len(response.content) < 50_000
    assert _counts(client, world["http_db"]) == (0, 0, 0)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_cli_refuses_in_one_clear_message(world, variant, tmp_path):
    base = world["base"]
    paths = []
    for i, (name, content) in enumerate(_files(variant, base)):
        (tmp_path / str(i)).mkdir()
        path = tmp_path / str(i) / name
        path.write_bytes(content)
        paths.append(str(path))
    result = runner.invoke(cli, ["ingest", "--db", str(world["cli_db"]), "--school", base.school_id,
                                 *paths], env={"AANWEZIG_MODE": "dev"})
    assert result.exit_code == 1, result.output[:500]
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith("refused: ") and "Traceback" not in result.output
    row = variant.expected_row(base)
    where = f"{variant.file}, row {row}" if row else variant.file
    assert f"{where}, field {variant.field}: " in result.output, result.output[:800]
    _no_echo(result.output, variant, world["numbers"])
    assert _counts(None, world["cli_db"]) == (0, 0, 0)
