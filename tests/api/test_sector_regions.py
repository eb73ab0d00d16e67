"""Special education per region (issue 26): the standard release publishes every sector of
every province, RMC region, samenwerkingsverband and municipality that the public register
has schools for — the small complex groups (SO, VSO, SBO) included — consistent with the
region's own cells, compared with the country's value for the same sector, for the same ρ."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.releases.budget import pool_cap
from service.releases.standard import SECTOR_MEASURED, plan_table, publish_standard
from service.releases.stored import cells

YEAR = "2025-2026"
REGISTER_COLUMN = {"province": "province_code", "rmc": "rmc_code", "swv": "swv_code",
                   "municipality": "municipality_code"}


@pytest.fixture(scope="module")
def release(synthetic_nl):
    con, settings = synthetic_nl
    stored = publish_standard(con, settings, YEAR)      # free if another module published it
    return stored, cells(stored.record)


@pytest.mark.parametrize("level", list(REGISTER_COLUMN))
def test_every_register_pair_of_region_and_sector_is_published_and_nothing_else(synthetic_nl, release, level):
    con, _ = synthetic_nl
    pairs = set(con.execute(f"SELECT DISTINCT {REGISTER_COLUMN[level]}, sector FROM school").fetchall())
    frame = release[1]
    got = frame[(frame["level"] == level) & (frame["sector"] != "all")]
    for measure, per_measure in got.groupby("measure"):
        assert set(zip(per_measure["area_code"], per_measure["sector"])) == pairs, measure
    assert got["measure"].nunique() == frame["measure"].nunique()
    assert {"SO", "VSO", "SBO"} <= set(got["sector"])


@pytest.mark.parametrize("level", list(REGISTER_COLUMN))
def test_sector_counts_add_up_to_the_region(release, level):
    """The sector cells of a region add up to its own cell: one consistent set (GLS)."""
    frame = release[1]
    counts = frame[(frame["level"] == level) & (frame["unit"] == "pupils")].copy()
    counts["estimate"] = counts["estimate"].astype(float)
    by_sector = counts[counts["sector"] != "all"].groupby(["measure", "area_code"])["estimate"].agg(["sum", "size"])
    whole = counts[counts["sector"] == "all"].set_index(["measure", "area_code"])["estimate"]
    joined = by_sector.join(whole.rename("whole"), how="inner")
    assert len(joined) == len(whole)
    # each published estimate is rounded to 0.01
    assert (np.abs(joined["sum"] - joined["whole"]) <= 0.005 * (joined["size"] + 1) + 1e-6).all()


def test_the_release_spends_the_same_pool_and_plans_the_measured_sector_levels(synthetic_nl, release):
    con, settings = synthetic_nl
    stored, _ = release
    cap = pool_cap(con, YEAR, "standard", settings)
    assert stored.record.micro == cap.to_micro_ceil()
    plan = plan_table(con, YEAR, settings=settings)
    assert set(SECTOR_MEASURED) <= set(plan["level"])
    assert plan["rho"].sum() <= float(cap.value) + 1e-9


def test_compare_special_education_between_samenwerkingsverbanden(synthetic_nl, release):
    """/v1/compare for SO at samenwerkingsverband level: every SO partnership of the register,
    each with a verdict against the country's SO value (not the all-sector one)."""
    con, settings = synthetic_nl
    frame = release[1]
    so = frame[(frame["level"] == "swv") & (frame["sector"] == "SO") & (frame["measure"] == "chronic_share")]
    national_so = frame[(frame["level"] == "country") & (frame["sector"] == "SO")
                        & (frame["measure"] == "chronic_share")]["estimate"].astype(float).iloc[0]
    with TestClient(create_app(settings)) as client:
        r = client.get("/v1/compare", params={"measure": "chronic_share", "level": "swv", "sector": "SO"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert {a["code"] for a in body["areas"]} == set(so["area_code"])
        if np.isfinite(national_so):
            assert body["national"]["estimate"] == pytest.approx(national_so)
        else:   # the sample's few SO pupils may leave the national SO share without estimate
            assert body["national"]["estimate"] is None
        available = client.get("/v1/compare/options").json()
        assert "SO" in available["levels"]["swv"]["sectors"]
