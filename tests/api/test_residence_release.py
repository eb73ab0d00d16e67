"""The release by residence (issue 26): long-term absence, the 16-hour signal, chronic and
severe absence per municipality of residence — where a leerplichtambtenaar is responsible —
for every municipality of the register, inside the same standard pool (the planner splits it
over both releases), compared with the same pupils' national value."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from privacy import release as maths
from privacy.budget import Rho
from service.api.app import create_app
from service.releases.standard import (LEVELS, RESIDENCE, RESIDENCE_TABLES, TABLES, plan_table,
                                       publish_standard, release_model)
from service.releases.stored import cells

YEAR = "2025-2026"
WANTED = {"long_term_count", "signal16_count", "chronic_count", "chronic_share", "severe_count",
          "severe_share", "enrolled"}


@pytest.fixture(scope="module")
def release(synthetic_nl):
    con, settings = synthetic_nl
    stored = publish_standard(con, settings, YEAR)      # free if another module published it
    return stored, cells(stored.record)


def test_every_register_municipality_has_the_residence_measures(synthetic_nl, release):
    con, _ = synthetic_nl
    municipalities = {r[0] for r in con.execute(
        "SELECT code FROM area WHERE level = 'municipality'").fetchall()}
    frame = release[1]
    by_residence = frame[frame["level"] == RESIDENCE]
    assert WANTED <= set(by_residence["measure"])
    for measure, rows in by_residence.groupby("measure"):
        assert set(rows["area_code"]) == municipalities, measure
        assert (rows["sector"] == "all").all()
    ratios = by_residence[by_residence["unit"] != "pupils"]
    national = frame[(frame["level"] == "country") & (frame["sector"] == "all")].set_index("measure")["estimate"]
    has = ratios["estimate"].notna()
    assert has.any()
    # every residence share with an estimate is compared with the national value by school
    assert ratios[has]["p_vs_country"].notna().all()
    assert ratios["measure"].map(national).notna().all()


def test_the_residence_tables_share_the_standard_pool(synthetic_nl, release):
    """The plan puts the residence tables beside the school tables; the two parts together
    stay within the pool charged, and the release by school gets the rest."""
    con, settings = synthetic_nl
    stored = release[0]
    rho = Rho(stored.record.micro * Rho.of("0.000001").value)
    plan = plan_table(con, YEAR, rho, settings)
    residence = plan[plan["level"] == RESIDENCE]
    assert set(residence["table"]) == {t.name for t in RESIDENCE_TABLES}
    assert plan["rho"].sum() <= float(rho.value) + 1e-9
    by_school, by_residence = maths.split_between([(TABLES, LEVELS), (RESIDENCE_TABLES, ("school",))], rho)
    assert by_school + by_residence <= rho
    assert residence["rho"].sum() == pytest.approx(float(by_residence.value), abs=1e-5)
    # the comparison's covariance model is the one of the school part's ρ, not the whole pool
    model = release_model(con, YEAR, rho)
    whole = release_model(con, YEAR, rho, {"levels": list(LEVELS)})
    group = [("municipality", 0)]
    ratio = (whole.measures.total_cov("enrolled", group, "enrolled", group)
             / model.measures.total_cov("enrolled", group, "enrolled", group))
    assert ratio[0, 0] == pytest.approx(float(by_school.value / rho.value), rel=1e-3)   # micro-ρ rounding


def test_compare_municipalities_of_residence(synthetic_nl, release):
    _, settings = synthetic_nl
    with TestClient(create_app(settings)) as client:
        r = client.get("/v1/compare", params={"measure": "long_term_count", "level": RESIDENCE})
        assert r.status_code == 200, r.text
        areas = r.json()["areas"]
        assert len(areas) == 342
        assert all(np.isfinite(a["sd"]) for a in areas)
