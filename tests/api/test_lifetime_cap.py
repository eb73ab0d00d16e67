"""The cap across school years: a pupil's pupil_key is the same HMAC every year, so the ρ of
every school year they are in adds up. Over any window of `lifetime_years` consecutive years
the global spending stays within `lifetime_rho`; a release that would exceed it is refused
(nothing stored, nothing charged), and /v1/budget shows ρ and ε per year and over the window."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from privacy.budget import Rho
from privacy.ledger import BudgetExhausted
from service.api.app import create_app
from service.api.auth import create_key
from service.releases.ledger_store import LifetimeCap, yearly_spent
from service.releases.budget import ledger


def test_windows_and_worst_window():
    cap = LifetimeCap(cap_micro=10, years=3)
    assert [list(w) for w in cap.windows(2025)] == [[2023, 2024, 2025], [2024, 2025, 2026], [2025, 2026, 2027]]
    spent = {2020: 9, 2023: 4, 2024: 3, 2026: 2}
    assert cap.worst(spent, 2025) == 7          # 2023+2024+2025; 2020 is outside every window


def test_worst_window_counts_every_year_inside_it():
    cap = LifetimeCap(cap_micro=10, years=3)
    assert cap.worst({2020: 9, 2023: 4}, 2022) == 9
    assert cap.worst({2020: 9, 2023: 4}, 2024) == 4


@pytest.fixture
def client(synthetic_nl):
    con, settings = synthetic_nl
    book = ledger(con)
    for year in ("2023-2024", "2024-2025"):      # earlier years already spent 0.01 each
        book.set_cap(year, "global", None, None, Rho.of("1").to_micro_floor())
    con.execute("UPDATE budget_cap SET spent_micro = 10000 WHERE scope = 'global' AND dataset IN "
                "('2023-2024', '2024-2025')")
    # the shared database may hold other tests' spending in 2025-2026: the cap is set to
    # leave exactly 0.01 over the worst 3-year window holding 2025-2026
    worst = LifetimeCap(0, 3).worst(yearly_spent(con), 2025)
    cap = Rho.from_micro(worst + 10000)
    tight = settings.model_copy(update={"lifetime_rho": str(float(cap)), "lifetime_years": 3})
    secret = create_key(con, tight, "researcher", "life-1", "test")[1]
    with TestClient(create_app(tight)) as c:
        c.secret, c.cap = secret, cap
        yield c
    con.execute("DELETE FROM budget_cap WHERE dataset IN ('2023-2024', '2024-2025')")


def test_a_release_past_the_cap_across_years_is_refused(client):
    h = {"X-API-Key": client.secret}
    before = client.get("/v1/budget", headers=h).json()["lifetime"]
    assert before["window_years"] == 3 and Rho.of(before["cap"]["rho"]) == client.cap
    assert before["remaining"]["rho"] == "1/100"
    assert before["by_school_year"]["2023-2024"]["rho"] == "1/100"
    ok = client.post("/v1/queries", json={"measure": "enrolled", "group_by": ["province"],
                                          "budget": {"rho": "0.006"}}, headers=h)
    assert ok.status_code == 201, ok.text      # fits: 0.004 left
    refused = client.post("/v1/queries", json={"measure": "enrolled", "group_by": ["sector"],
                                               "budget": {"rho": "0.005"}}, headers=h)
    assert refused.status_code == 409, refused.text
    assert refused.json()["scope"] == "lifetime"
    after = client.get("/v1/budget", headers=h).json()["lifetime"]
    assert after["remaining"]["rho"] == "1/250" and after["cap"]["epsilon"] > 0
    assert client.post("/v1/queries", json={"measure": "enrolled", "group_by": ["sector"],
                                            "budget": {"rho": "0.004"}}, headers=h).status_code == 201


def test_the_ledger_refuses_inside_its_transaction(synthetic_nl, tmp_path):
    """The check is part of charge_and_store itself, not only of publish's early refusal."""
    from datetime import UTC, datetime

    from privacy.ledger import Charge, ReleaseRecord
    from service.db import connect

    con = connect(tmp_path / "l.duckdb")
    book = ledger(con)
    for year in ("2024-2025", "2025-2026"):
        book.set_cap(year, "global", None, None, 10**6)
        book.set_cap(year, "pool", "standard", None, 10**6)
    record = lambda h, y: ReleaseRecord(release_id=h, request_hash=h, dataset=y, kind="t", spec_json="{}",  # noqa: E731
                                        payload=b"{}", content_hash="x", signature=b"s",
                                        created_at=datetime.now(UTC), service_version="t", micro=600)
    cap = LifetimeCap(cap_micro=1000, years=2)
    book.charge_and_store(Charge("2024-2025", "standard", None, 600, "a"), record("a", "2024-2025"), lifetime=cap)
    with pytest.raises(BudgetExhausted) as refused:
        book.charge_and_store(Charge("2025-2026", "standard", None, 600, "b"), record("b", "2025-2026"), lifetime=cap)
    assert refused.value.scope == "lifetime"
    assert con.execute("SELECT count(*) FROM release").fetchone()[0] == 1
    assert con.execute("SELECT spent_micro FROM budget_cap WHERE dataset = '2025-2026' AND scope = 'global'").fetchone()[0] == 0
    con.close()
