"""Ad-hoc queries through real HTTP: dry run spends nothing, a release is charged to the
researcher's allowance, the same canonical query is free and byte-identical, accuracy-first
requests cost what they promise, and non-public or unknown names are refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from privacy.bounds import BoundSpec
from privacy.mechanisms import plan_gaussian, rho_for_half_width
from service.api.app import create_app
from service.api.auth import create_key

QUERY = {"measure": "chronic_share", "group_by": ["province"], "filters": {"sector": ["PO", "SBO"]},
         "budget": {"rho": "0.01"}}


@pytest.fixture(scope="module")
def client(synthetic_nl):
    con, settings = synthetic_nl
    secrets = {name: create_key(con, settings, "researcher", name, "test")[1]
               for name in ("res-a", "res-b", "res-c")}
    with TestClient(create_app(settings)) as c:
        c.secrets = secrets
        yield c


def headers(client, who="res-a"):
    return {"X-API-Key": client.secrets[who]}


def allowance(client, who):
    return client.get("/v1/budget", headers=headers(client, who)).json()["allowance"]["spent"]["rho"]


def test_dry_run_costs_nothing_and_states_cost_and_intervals(client):
    before = allowance(client, "res-a")
    r = client.post("/v1/queries", json={**QUERY, "dry_run": True}, headers=headers(client))
    assert r.status_code == 200
    body = r.json()
    assert body["cost"]["rho"] == "1/100" and body["cells"] == 12
    expected = plan_gaussian(BoundSpec(0, 1), __import__("privacy.budget", fromlist=["Rho"]).Rho.of("0.005"))
    assert {e["half_width_95"] for e in body["expected"]} == {expected.radius(0.05)}
    assert allowance(client, "res-a") == before


def test_release_is_charged_and_the_same_query_is_free_and_identical(client):
    first = client.post("/v1/queries", json=QUERY, headers=headers(client))
    assert first.status_code == 201 and first.json()["charged"]
    rows = first.json()["rows"]
    assert len(rows) == 12 and {r[2] for r in rows} >= {"PV20", "PV31"}
    assert allowance(client, "res-a") == "1/100"
    # same question, filters in another order, asked by another researcher: stored, free
    again = client.post("/v1/queries", json={**QUERY, "filters": {"sector": ["SBO", "PO"]}},
                        headers=headers(client, "res-b"))
    assert again.status_code == 200 and not again.json()["charged"]
    assert again.json()["rows"] == rows and again.json()["release_id"] == first.json()["release_id"]
    assert allowance(client, "res-b") == "0"
    download = client.get(first.json()["links"]["self"], params={"format": "json"})
    assert download.status_code == 200 and download.json()["rows"] == rows


def test_accuracy_first_costs_what_it_promises(client):
    r = client.post("/v1/queries", json={"measure": "long_term_count", "group_by": ["province"],
                                         "accuracy": {"half_width": 10}, "dry_run": True},
                    headers=headers(client, "res-c"))
    body = r.json()
    cost = rho_for_half_width(BoundSpec(0, 1), 10)
    assert body["cost"]["rho"] == str(cost.value)
    assert body["expected"][0]["half_width_95"] <= 10


def test_over_the_allowance_is_refused_and_nothing_is_spent(client):
    before = allowance(client, "res-c")
    r = client.post("/v1/queries", json={"measure": "enrolled", "group_by": ["municipality"],
                                         "budget": {"rho": "0.06"}}, headers=headers(client, "res-c"))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["scope"] == "principal"
    assert allowance(client, "res-c") == before


@pytest.mark.parametrize("body,field", [
    ({"measure": "enrolled", "group_by": ["pupil_key"], "budget": {"rho": "0.01"}}, "group_by"),
    ({"measure": "enrolled", "group_by": ["absent_minutes"], "budget": {"rho": "0.01"}}, "group_by"),
    ({"measure": "enrolled", "filters": {"municipality": ["GM0363' OR 1=1 --"]}, "budget": {"rho": "0.01"}}, "filters"),
    ({"measure": "SELECT * FROM absence", "budget": {"rho": "0.01"}}, "measure"),
    ({"measure": "enrolled"}, "budget"),
    ({"measure": "enrolled", "budget": {"rho": "0.01"}, "accuracy": {"half_width": 5}}, "budget"),
    ({"measure": "enrolled", "budget": {"rho": "0.01"}, "sql": "DROP TABLE x"}, "sql"),
])
def test_unknown_private_or_free_sql_is_a_clear_400(client, body, field):
    r = client.post("/v1/queries", json=body, headers=headers(client, "res-c"))
    assert r.status_code == 400, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(field in str(e.get("field", "")) or field in str(e.get("loc", "")) for e in problem["errors"]), problem
