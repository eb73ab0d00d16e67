"""No DuckDB or OpenDP work on the event loop, and GET routes never write.

The spies below record, for each call of a function that reads the database or draws noise,
whether an asyncio event loop was running in the calling thread (a worker thread has none)."""

from __future__ import annotations

import asyncio

import pytest

from service.api import auth
from service.api.routes import queries as query_route
from service.releases import queries


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


@pytest.fixture
def spied(monkeypatch):
    calls: list[tuple[str, bool]] = []

    def spy(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.append((name, _on_loop()))
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    spy(auth, "authenticate")
    spy(queries, "dry_run")
    spy(queries, "run_query")
    spy(query_route, "known_dataset")
    spy(query_route, "budget_document")
    return calls


def test_key_lookup_and_query_work_run_in_worker_threads(client, keys, spied):
    h = keys.header("researcher")
    r = client.post("/v1/queries", json={"measure": "absence_rate", "group_by": ["sector"],
                                         "budget": {"rho": "0.01"}, "dry_run": True}, headers=h)
    assert r.status_code == 200, r.text
    assert client.get("/v1/budget", headers=keys.header("other_school")).status_code in (200, 403)
    names = {name for name, _ in spied}
    assert {"authenticate", "dry_run", "known_dataset"} <= names
    assert not [name for name, on_loop in spied if on_loop], spied


def test_get_budget_writes_no_cap_rows(client, keys):
    con = client.app.state.con

    def rows():
        cur = con.cursor()
        try:
            return cur.execute("SELECT count(*) FROM budget_cap").fetchone()[0]
        finally:
            cur.close()
    assert rows() == 0
    for who in ("researcher", "admin", "policy"):
        r = client.get("/v1/budget", headers=keys.header(who))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["global"]["cap"]["rho"] == "1" and body["global"]["spent"]["rho"] == "0"
        assert set(body["pools"]) == {"standard", "weekly", "researcher"}
    assert client.get("/v1/budget", headers=keys.header("researcher")).json()["allowance"][
        "cap"]["rho"] == "1/20"
    assert rows() == 0
