"""The command line end to end with Typer's CliRunner on a real DuckDB file: the demo
(without serving), a single-school ingest that is refused with row and field, release
dry-run and verify."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from service.weekly.series import KIND as WEEKLY
from support.paths import ROOT

runner = CliRunner()


def test_demo_builds_ingests_derives_publishes_and_prints_keys(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "demo.duckdb"
    # a tiny demo: 3,000 pupils in a sample of schools at their national size, one week of the
    # weekly series (the releases still cover every area of the register)
    result = runner.invoke(app, ["demo", "--pupils", "3000", "--schools", "sample", "--weeks", "1",
                                 "--seed", "3", "--db", str(db), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "standard release" in result.output and "published" in result.output
    for role in ("school", "researcher", "region", "policy", "admin"):
        assert f"demo key ({role}" in result.output
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM release WHERE kind = 'standard'").fetchone()[0] == 1
    assert con.execute("SELECT count(*) FROM release WHERE kind = ?", [WEEKLY]).fetchone()[0] == 1
    # pupils enrolled on no school day at all (a few synthetic enrolments fall in holidays)
    # are not pupil-years by definition
    assert 2_970 <= con.execute("SELECT count(*) FROM pupil_year").fetchone()[0] <= 3_000
    totals = con.execute("SELECT (SELECT count(*) FROM enrolment), (SELECT count(*) FROM absence), "
                         "(SELECT count(DISTINCT pupil_key) FROM enrolment)").fetchone()
    con.close()
    # no exact cross-school total is printed (the synthetic files' counts included)
    assert "wrote " in result.output and " schools to " in result.output
    assert_no_totals(result.output, totals)

    # served outside demo mode: one line with the fix, no traceback, nothing announced
    served = subprocess.run([sys.executable, "-m", "service.cli", "serve", "--db", str(db),
                             "--port", "0"], env=_without_settings(), capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    lines = (served.stdout + served.stderr).strip().splitlines()
    assert served.returncode == 2 and len(lines) == 1, lines
    assert lines[0].startswith("refused: ") and "AANWEZIG_MODE=demo aanwezig serve" in lines[0]
    assert not Path(f"{db}.service.json").exists()
    # run again: nothing is generated twice, the release is not charged twice
    again = runner.invoke(app, ["demo", "--db", str(db), "--no-serve"])
    assert again.exit_code == 0, again.output
    assert "already ingested" in again.output and "already published" in again.output

    # a region downloads its area and verifies it offline
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.settings import Settings
    settings = Settings(mode="demo", db=db)
    with TestClient(create_app(settings)) as client:
        release_id = client.get("/v1/releases", params={"kind": "standard"}).json()["data"][0]["release_id"]
        zipped = client.get(f"/v1/releases/{release_id}/areas/municipality/GM0363").content
        (tmp_path / "key.pem").write_text(client.get("/v1/signing-key").text)
    folder = tmp_path / "download"
    zipfile.ZipFile(io.BytesIO(zipped)).extractall(folder)
    ok = runner.invoke(app, ["verify", str(folder), "--public-key", str(tmp_path / "key.pem")])
    assert ok.exit_code == 0 and "verified" in ok.output
    csv = folder / "release.csv"
    csv.write_bytes(csv.read_bytes().replace(b"GM0363", b"GM0364", 1))
    bad = runner.invoke(app, ["verify", str(folder), "--public-key", str(tmp_path / "key.pem")])
    assert bad.exit_code == 1 and "NOT verified" in bad.output


def _without_settings() -> dict[str, str]:
    """The environment of a subprocess: no AANWEZIG_* setting, this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AANWEZIG_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


def assert_no_totals(output: str, totals) -> None:
    """None of `totals` appears in `output` as a number (with or without thousands commas)."""
    numbers = {int(n.replace(",", "")) for n in re.findall(r"(?<![\w.])\d[\d,]*(?![\w.])", output)}
    assert not numbers & set(totals), (sorted(numbers & set(totals)), output)
    for word in ("pupils=", "enrolment_rows", "absence_rows", "SynthSummary"):
        assert word not in output


def test_synth_prints_what_it_wrote_and_no_totals(tmp_path):
    out = tmp_path / "uploads"
    result = runner.invoke(app, ["synth", "--out", str(out), "--pupils", "400", "--seed", "5",
                                 "--schools", "sample"])
    assert result.exit_code == 0, result.output
    schools = [p for p in out.iterdir() if p.is_dir()]
    files = [f for p in schools for f in p.iterdir()]
    assert f"wrote {len(files)} files for {len(schools)} schools to {out}" in " ".join(
        result.output.split())
    rows = [len(f.read_text().splitlines()) - 1 for f in files]
    enrolment = sum(r for f, r in zip(files, rows) if f.name.startswith("enrol"))
    absence = sum(r for f, r in zip(files, rows) if f.name.startswith("absen"))
    pupils = len({line.split(",")[0] for f in files if f.name.startswith("enrol")
                  for line in f.read_text().splitlines()[1:]})
    assert enrolment > 0 and absence > 0 and pupils > 0
    assert_no_totals(result.output, (enrolment, absence, pupils))


def test_ingest_refuses_a_bad_batch_with_row_and_field(tmp_path):
    from service.db import connect
    from support.tiny_register import ABSENCE_HEADER, ENROL_HEADER, csv, load_tiny_register, valid_bsn

    db = tmp_path / "i.duckdb"
    con = connect(db)
    load_tiny_register(con)
    con.close()
    (tmp_path / "enrolments.csv").write_bytes(csv([[valid_bsn(1), 2017, 3, "GM0363", "2025-09-01", None]], ENROL_HEADER))
    (tmp_path / "absences.csv").write_bytes(csv([[valid_bsn(1), "2025-09-06", 1, "sick"]], ABSENCE_HEADER))
    result = runner.invoke(app, ["ingest", "--db", str(db), "--school", "12AB00",
                                 str(tmp_path / "enrolments.csv"), str(tmp_path / "absences.csv")],
                           env={"AANWEZIG_MODE": "dev"})
    assert result.exit_code == 1
    assert "absences.csv, row 1, field date" in result.output


def test_release_dry_run_prints_the_plan_and_spends_nothing(tmp_path):
    from service.db import connect
    from service.register.source import load_register

    db = tmp_path / "r.duckdb"
    con = connect(db)
    load_register(con)
    con.close()
    result = runner.invoke(app, ["release", "--db", str(db), "--dry-run"], env={"AANWEZIG_MODE": "dev"})
    assert result.exit_code == 0, result.output
    assert "municipality" in result.output and "nothing was spent" in result.output
    import duckdb
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM release").fetchone()[0] == 0
    con.close()
