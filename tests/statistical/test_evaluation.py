"""The evidence report is computed from the database: change the data, the figures change."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.evaluation.figures import write_report
from service.evaluation.report import evaluate

YEAR = "2025-2026"


@pytest.fixture(scope="module")
def copies(synthetic_nl, tmp_path_factory):
    """Two copies of the synthetic database: as built, and with severe absence made
    widespread in the largest schools (every pupil of band 3 moved to band 4)."""
    con, _ = synthetic_nl
    con.execute("CHECKPOINT")
    root = tmp_path_factory.mktemp("eval")
    original = root / "original.duckdb"
    shutil.copy(con.execute("select path from duckdb_databases() where database_name = current_database()")
                .fetchone()[0], original)
    changed = root / "changed.duckdb"
    shutil.copy(original, changed)
    with duckdb.connect(str(changed)) as c:
        c.execute("update pupil_year set band = 4, severe = true, "
                  "absent_minutes = possible_minutes where band = 3")
    return original, changed


@pytest.fixture(scope="module")
def evaluations(copies):
    out = []
    for path in copies:
        with duckdb.connect(str(path), read_only=True) as con:
            out.append(evaluate(con, YEAR, rhos=("0.6",), membership_trials=1_000,
                                counts=("severe", "long_term"), draws=2))
    return out


def test_figures_follow_the_data(evaluations):
    before, after = evaluations
    sev = [e.bias[(e.bias["measure"] == "severe") & (e.bias["level"] == "country")]
           ["suppression_missing_pupils"].item() for e in evaluations]
    hid = [e.hidden[(e.hidden["measure"] == "severe") & (e.hidden["group"] == "all schools")]
           ["hidden_cells"].item() for e in evaluations]
    assert (sev[0], hid[0]) != (sev[1], hid[1])
    assert not before.errors.equals(after.errors)


def test_suppression_hides_small_groups_and_dp_covers(evaluations):
    ev = evaluations[0]
    lt = ev.hidden[(ev.hidden["measure"] == "long_term") & (ev.hidden["group"] == "all schools")]
    assert lt["share_pupils_hidden"].item() > 0.5          # long-term absence: mostly hidden
    assert (ev.hidden["share_hidden_dp"] == 0).all()
    att = ev.attacks.set_index(["measure", "scheme"])["recovered_cells"]
    assert (att.xs("complementary", level="scheme") == 0).all()
    cov = ev.errors[ev.errors["level"] != "school"]
    assert 0.8 < (cov["coverage_95"] * cov["cells"]).sum() / cov["cells"].sum() <= 1.0
    m = ev.membership.set_index("release")
    assert m.loc["dp", "advantage"] < m.loc["dp", "bound"]
    assert m.loc["suppression (primary)", "advantage"] == 1.0


def test_report_is_self_contained(evaluations, tmp_path):
    paths = write_report(evaluations[0], tmp_path, command="test")
    page = paths["html"].read_text()
    assert page.count("data:image/png;base64,") == 3
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert paths["hidden_by_level"].read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "figures.json").exists() and (tmp_path / "attacks.csv").exists()


def test_cli_evaluate_refuses_outside_demo_and_a_missing_db(tmp_path, monkeypatch):
    runner = CliRunner()
    for mode in (None, "production"):       # no mode set means production
        if mode:
            monkeypatch.setenv("AANWEZIG_MODE", mode)
        result = runner.invoke(app, ["evaluate", "--db", str(tmp_path / "none.duckdb")])
        assert result.exit_code == 1 and "synthetic data only" in result.output
    monkeypatch.setenv("AANWEZIG_MODE", "demo")
    result = runner.invoke(app, ["evaluate", "--db", str(tmp_path / "none.duckdb"),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "no database" in result.output


def test_evaluate_runs_only_where_every_active_batch_is_synthetic(synthetic_nl, tmp_path, monkeypatch):
    """`aanwezig synth` marks its folder; ingesting it marks the batches in the database; a
    real upload (files, not a synth folder) in the same school year makes evaluate refuse."""
    from service.db import connect
    from service.ingest.batches import UploadFile, ingest_files
    from service.ingest.directory import synthetic_only
    from service.settings import Settings
    from support.tiny_register import (
        ABSENCE_HEADER,
        ENROL_HEADER,
        SCHOOL_PO,
        csv,
        load_tiny_register,
        valid_bsn,
    )

    con, _ = synthetic_nl
    assert synthetic_only(con, YEAR)
    assert not synthetic_only(con, "2024-2025")          # no batches: not synthetic either
    real = tmp_path / "real.duckdb"
    settings = Settings(mode="dev", db=real)
    c = connect(real)
    load_tiny_register(c)
    ingest_files(c, settings, SCHOOL_PO, [
        UploadFile("enrolments.csv", csv([[valid_bsn(1), 2017, 3, "GM0363", "2025-09-01", ""]], ENROL_HEADER)),
        UploadFile("absences.csv", csv([[valid_bsn(1), "2025-09-02", "5", "sick"]], ABSENCE_HEADER))])
    assert not synthetic_only(c, YEAR)
    c.close()
    monkeypatch.setenv("AANWEZIG_MODE", "demo")
    result = CliRunner().invoke(app, ["evaluate", "--db", str(real), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "not all synthetic" in result.output
    assert not (tmp_path / "out").exists()
