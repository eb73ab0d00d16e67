"""`aanwezig ingest --dir` as the README writes it, as a real subprocess on a real DuckDB file:
on a fresh database it loads the public register and stores the folder; a folder whose every
batch is refused, or only some, exits 1 with one line of counts (docs/upload-format.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from service.synth.uploads import write_synthetic
from support.paths import ROOT


def _aanwezig(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env.update(PYTHONPATH=str(ROOT), AANWEZIG_MODE="dev", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("folder")
    write_synthetic(root / "uploads", pupils=400, seed=4, schools="sample")
    return root / "uploads"


def _schools(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def test_the_readme_command_line_works_on_a_fresh_database(uploads, tmp_path):
    db = tmp_path / "fresh.duckdb"
    done = _aanwezig("ingest", "--db", str(db), "--dir", str(uploads), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded the public register" in done.stdout
    folders = len(_schools(uploads))
    assert f"refused: 0 of {folders}" in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM batch WHERE status = 'active'").fetchone()[0] \
            == folders
        assert con.execute("SELECT count(*) > 0 FROM pupil_year").fetchone()[0]
    again = _aanwezig("ingest", "--db", str(db), "--dir", str(uploads), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "loaded the public register" not in again.stdout
    assert f"{folders} unchanged" in again.stdout


def test_a_folder_whose_every_batch_is_refused_exits_1_in_one_line(uploads, tmp_path):
    folder = tmp_path / "bad"
    for school in _schools(uploads)[:2]:
        shutil.copytree(school, folder / school.name)
        enrol = folder / school.name / "enrolments.csv"
        enrol.write_text(enrol.read_text().replace("pupil_number", "pupil_nummer", 1))
    db = tmp_path / "fresh.duckdb"
    done = _aanwezig("ingest", "--db", str(db), "--dir", str(folder), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    summary = [line for line in done.stdout.splitlines() if line.startswith("refused: ")]
    assert summary == ["refused: 2 of 2 batches (nothing stored)"], done.stdout
    assert done.stdout.count("field pupil_number: required column is missing") == 2, done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM batch").fetchone()[0] == 0


def test_a_partly_refused_folder_keeps_the_good_batches_and_still_exits_1(uploads, tmp_path):
    folder = tmp_path / "mixed"
    schools = _schools(uploads)[:3]
    for school in schools:
        shutil.copytree(school, folder / school.name)
    (folder / "99ZZ99").mkdir()                      # a school that is not in the register
    for f in schools[0].iterdir():
        shutil.copy(f, folder / "99ZZ99" / f.name)
    db = tmp_path / "fresh.duckdb"
    done = _aanwezig("ingest", "--db", str(db), "--dir", str(folder), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    summary = [line for line in done.stdout.splitlines() if line.startswith("refused: ")]
    assert summary == ["refused: 1 of 4 batches (3 stored; the others are kept)"], done.stdout
    assert "99ZZ99" in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM batch").fetchone()[0] == 3
        assert con.execute("SELECT count(*) > 0 FROM pupil_year").fetchone()[0]
