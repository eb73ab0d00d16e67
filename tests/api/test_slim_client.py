"""The slim client (clients/python) against the real app on a real DuckDB file (a TestClient
is an httpx.Client): the researcher's walk of issue 28 — chronic share by municipality ×
sector at ± 2 percentage points: cost and fit, a DataFrame with intervals, the repeat free —
and every other read path: catalogue, budget in words, releases and downloads verified offline
(a tampered byte refused), compare, weekly series and warnings, areas and schools, with the
school year taken from the service."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.auth import create_key
from support.slim_client import aanwezig_client

YEAR = "2025-2026"
ASK = dict(group_by=["municipality", "sector"], half_width=2, unit="percentage_points")


@pytest.fixture(scope="module")
def aw(synthetic_weeks):
    from service.releases.standard import publish_standard
    con, settings = synthetic_weeks
    publish_standard(con, settings, YEAR)          # the stored release when already published
    secret = create_key(con, settings, "researcher", "slim-client", "slim client test")[1]
    with TestClient(create_app(settings)) as http:
        yield aanwezig_client.Aanwezig(api_key=secret, http=http)


def test_the_researchers_walk_cost_fit_frame_and_a_free_repeat(aw):
    assert aw.school_year == YEAR                                  # from the service
    plan = aw.dry_run("chronic_share", **ASK)
    assert plan.attrs["fits"] is True and plan.attrs["stored"] is None
    assert 0 < plan.attrs["cost"]["rho_decimal"] <= 0.05
    assert plan.attrs["accuracy"]["planned_half_width"] <= 2
    assert {"total", "half_width_95"} <= set(plan.columns)
    table = aw.query("chronic_share", **ASK)
    assert table.attrs["charged"] is True
    assert {"area_code", "area_name", "estimate", "lower", "upper"} <= set(table.columns)
    assert len(table) > 300 and (table.lower <= table.upper).all()
    again_plan = aw.dry_run("chronic_share", **ASK)
    assert again_plan.attrs["stored"]["release_id"] == table.attrs["release_id"]
    again = aw.query("chronic_share", **ASK)
    assert again.attrs["charged"] is False and again.attrs["cost"]["rho"] == "0"
    assert again.equals(table)
    budget = aw.budget()
    assert budget.scope.iloc[0] == "your allowance"
    assert budget.spent_rho.iloc[0] == pytest.approx(plan.attrs["cost"]["rho_decimal"])
    assert budget.attrs["summary"].startswith("ρ ")


def test_catalogue_releases_downloads_and_offline_verification(aw):
    assert "chronic_share" in set(aw.measures().name)
    releases = aw.releases(kind="standard")
    release_id = releases.release_id.iloc[0]
    cells = aw.release(release_id)
    assert {"estimate", "lower", "upper"} <= set(cells.columns) and len(cells) > 1000
    download = aw.download(release_id)
    names = aw.verify(download)
    assert names[0] == "datapackage.json" and "release.csv" in names
    archive = zipfile.ZipFile(io.BytesIO(download))
    files = {n: archive.read(n) for n in archive.namelist()}
    files["release.csv"] = files["release.csv"].replace(b"0", b"1", 1)   # one byte changed
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        for name, data in files.items():
            out.writestr(name, data)
    with pytest.raises(aanwezig_client.VerificationError, match="release.csv does not match"):
        aw.verify(tampered.getvalue())
    area = aw.area_download(release_id, "municipality", "GM0363")
    assert aw.verify(area)[0] == "datapackage.json"


def test_compare_weekly_areas_and_schools_come_back_as_frames(aw):
    compared = aw.compare("absence_rate", ["province:PV27", "province:PV28"])
    assert list(compared.code) == ["PV27", "PV28"]
    assert {"estimate", "lower", "upper"} <= set(compared.columns)
    assert len(compared.attrs["differences"]) >= 1
    series = aw.weekly_series("attendance_rate_week", "province", "PV27")
    assert list(series.week) == [1, 2, 3] and {"estimate", "lower", "upper"} <= set(series.columns)
    warnings = aw.weekly_warnings()
    assert {"area_code", "week", "flagged"} <= set(warnings.columns)
    provinces = aw.areas(level="province")
    assert len(provinces) == 12
    municipalities = aw.areas(level="municipality", parent="PV27")
    assert len(municipalities) > 10 and set(municipalities.parent_code) == {"PV27"}
    schools = aw.schools(municipality="GM0363")
    assert len(schools) > 100 and set(schools.municipality_code) == {"GM0363"}


def test_problems_are_raised_with_their_fields(aw):
    with pytest.raises(aanwezig_client.ServiceError) as info:
        aw.dry_run("chronic_share", group_by=["municipality"], half_width=0.001,
                   unit="percentage_points")
    assert info.value.status == 400 and info.value.errors[0]["field"] == "accuracy.half_width"
