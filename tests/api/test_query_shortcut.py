"""The repeated-query shortcut (service/api/middleware/query_shortcut.py) answers only what the route would,
with the same bytes, and hands everything else to the application."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api import read_cache
from service.api.app import create_app
from service.api.auth import create_key

QUERY = {"measure": "severe_share", "group_by": ["province"], "filters": {"sector": ["VO"]},
         "budget": {"rho": "0.004"}}


@pytest.fixture(scope="module")
def client(synthetic_nl):
    con, settings = synthetic_nl
    secrets = {name: create_key(con, settings, role, scope, "shortcut test")[1]
               for name, role, scope in [("res", "researcher", "short-a"),
                                         ("other", "researcher", "short-b"),
                                         ("school", "school", con.execute(
                                             "SELECT min(school_id) FROM school").fetchone()[0])]}
    with TestClient(create_app(settings)) as c:
        c.secrets = secrets
        yield c


def ask(client, who="res", body=QUERY, **kw):
    return client.post("/v1/queries", json=body, headers={"X-API-Key": client.secrets[who]}, **kw)


def answered(client) -> int:
    return client.app.state.query_shortcut.answered


def test_a_repeat_is_answered_by_the_shortcut_with_the_routes_own_bytes(client):
    paid = ask(client)
    assert paid.status_code == 201 and paid.json()["charged"] is True
    before = answered(client)
    repeat = ask(client)
    assert answered(client) == before + 1
    for topic in (read_cache.KEYS, read_cache.BUDGET, read_cache.REGISTER):
        client.app.state.database.changed(topic)  # nothing kept is current now: the route answers the next one
    by_route = ask(client)
    assert answered(client) == before + 1
    assert repeat.status_code == by_route.status_code == 200
    assert repeat.content == by_route.content
    assert repeat.json()["charged"] is False and repeat.json()["rows"] == paid.json()["rows"]
    for name in ("content-type", "api-version", "cache-control", "content-security-policy",
                 "x-content-type-options", "vary"):
        assert repeat.headers[name] == by_route.headers[name], name
    assert repeat.headers["cache-control"] == "no-store"


def test_a_revoked_key_is_refused_even_after_a_remembered_repeat(client, synthetic_nl):
    con, settings = synthetic_nl
    key_id, secret = create_key(con, settings, "researcher", "short-revoked", "test")
    client.secrets["revoked"] = secret
    before = answered(client)
    for _ in range(3):  # the first asks fill the key and budget views; then the shortcut answers
        assert ask(client, "revoked").status_code == 200
    assert answered(client) > before
    admin = {"X-API-Key": settings.admin_key}
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    refused = ask(client, "revoked")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_what_the_shortcut_cannot_answer_goes_to_the_application(client):
    ask(client)
    ask(client)  # the key, the budget view and the release are all remembered now
    before = answered(client)
    assert ask(client, "school").status_code == 403                     # role not allowed
    assert ask(client, body={**QUERY, "dry_run": True}).json()["dry_run"] is True
    bad = client.post("/v1/queries", content=b"{not json", headers={
        "X-API-Key": client.secrets["res"], "Content-Type": "application/json"})
    assert bad.status_code == 400
    unknown = ask(client, body={**QUERY, "measure": "pupil_names"})
    assert unknown.status_code == 400
    assert ask(client, body={**QUERY, "dataset": "2031-2032"}).status_code == 400
    no_key = client.post("/v1/queries", json=QUERY)
    assert no_key.status_code == 401
    assert answered(client) == before
    # another researcher's first ask of the same stored query: free, through the route
    other = ask(client, "other")
    assert other.status_code == 200 and other.json()["charged"] is False


def test_a_remembered_answer_shows_the_budget_left_after_a_later_charge(client):
    for _ in range(3):
        first = ask(client)
    assert first.status_code == 200
    before = answered(client)
    assert ask(client).json()["budget_left"] == first.json()["budget_left"]
    assert answered(client) == before + 1
    paid = ask(client, body={**QUERY, "budget": {"rho": "0.002"}})  # another query: a new charge
    assert paid.status_code == 201
    again = ask(client)
    assert again.json()["budget_left"] == paid.json()["budget_left"] != first.json()["budget_left"]
