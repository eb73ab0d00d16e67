"""The yearly budget is a setting (AANWEZIG_YEARLY_RHO): a school year opens with that global
cap and its pools' shares, the standard release and the weekly plan spend what the year
opened with, and /v1/budget says how many school years the cap across years lasts at it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from privacy.budget import Rho
from service.api.app import create_app
from service.api.auth import create_key
from service.db import connect
from service.ingest.batches import ingest_files
from service.ingest.derive import rebuild
from service.releases.standard import plan_table, publish_standard
from service.releases.budget import DEFAULT_BUDGET, ensure_budget, pool_cap
from service.settings import Settings
from support.tiny_register import SCHOOL_PO, batch, load_tiny_register


def _caps(con, dataset: str) -> dict[str, int]:
    rows = con.execute("SELECT scope, pool, cap_micro, spent_micro FROM budget_cap "
                       "WHERE dataset = ? AND scope <> 'principal'", [dataset]).fetchall()
    return {pool or scope: (cap, spent) for scope, pool, cap, spent in rows}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The two-school register with three pupils: what the year's budget spends does not
    depend on the register's size (the national register made this fixture and its release
    cost a minute)."""
    root = tmp_path_factory.mktemp("yearly")
    settings = Settings(mode="dev", db=root / "y.duckdb", yearly_rho="0.2")
    con = connect(settings.db)
    load_tiny_register(con)
    ingest_files(con, settings, SCHOOL_PO, batch())
    rebuild(con, "2025-2026")
    yield con, settings
    con.close()


def test_the_default_is_one_and_the_setting_is_checked():
    assert Settings(mode="dev").yearly_rho == "1"
    assert DEFAULT_BUDGET["global"] == Rho.of("1") and DEFAULT_BUDGET["standard"] == Rho.of("0.6")
    with pytest.raises(ValueError, match="AANWEZIG_YEARLY_RHO"):
        Settings(mode="dev", yearly_rho="0")


def test_a_year_opens_with_the_setting_and_keeps_it(small):
    con, settings = small
    ensure_budget(con, "2030-2031", settings)
    assert _caps(con, "2030-2031") == {"global": (200_000, 0), "standard": (120_000, 0),
                                       "weekly": (40_000, 0), "researcher": (40_000, 0)}
    later = settings.model_copy(update={"yearly_rho": "0.5"})
    ensure_budget(con, "2030-2031", later)          # an opened year keeps its caps
    assert _caps(con, "2030-2031")["global"] == (200_000, 0)
    assert pool_cap(con, "2030-2031", "standard", later) == Rho.of("0.12")
    assert pool_cap(con, "2031-2032", "standard", later) == Rho.of("0.3")   # not opened yet


def test_the_standard_release_spends_the_years_standard_pool(small):
    con, settings = small
    plan = plan_table(con, "2025-2026", settings=settings)
    assert abs(plan["rho"].sum() - 0.12) < 1e-4        # the plan splits the year's pool
    stored = publish_standard(con, settings, "2025-2026")
    assert stored.newly_charged
    assert _caps(con, "2025-2026")["standard"] == (120_000, 120_000)
    assert _caps(con, "2025-2026")["global"] == (200_000, 120_000)


def test_budget_shows_how_long_the_cap_across_years_lasts(small):
    con, settings = small
    secret = create_key(con, settings, "researcher", "yearly-1", "test")[1]
    with TestClient(create_app(settings)) as client:
        life = client.get("/v1/budget", headers={"X-API-Key": secret}).json()["lifetime"]
    assert life["years_at_yearly_cap"] == 17        # 4 / 0.2 = 20 years, a window is 17
    default = settings.model_copy(update={"yearly_rho": "1"})
    secret = create_key(con, settings, "researcher", "yearly-2", "test")[1]   # a view of its own
    with TestClient(create_app(default)) as client:
        life = client.get("/v1/budget", headers={"X-API-Key": secret}).json()["lifetime"]
    assert life["years_at_yearly_cap"] == 4         # 4 / 1: the fifth year would be refused
