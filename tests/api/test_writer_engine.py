"""The writer thread runs derives and standard releases on the engine it was given (the
configured engine), never on a DuckDB engine made behind its back: an app built with an engine
factory derives an upload and publishes the standard release through engines that factory
made, over the writer's cursor (tests/support/counting_engine.py: DuckDB's engine, counting)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.api.app import create_app
from support.api_client import upload_files
from support.counting_engine import CountingEngines

YEAR = "2025-2026"


def _job(client, link: str, admin: dict) -> dict:
    assert client.app.state.writer.idle()
    found = client.get(link, headers=admin)
    assert found.status_code == 200, found.text
    return found.json()


def test_the_writer_derives_and_releases_on_the_engine_it_is_given(settings, keys):
    engines = CountingEngines()
    admin = keys.header("admin")
    with TestClient(create_app(settings, engine=engines)) as client:
        uploaded = client.post("/v1/uploads", files=upload_files(), headers=keys.header("school"))
        assert uploaded.status_code == 201, uploaded.text
        derived = _job(client, uploaded.json()["links"]["status"], admin)
        assert derived["state"] == "derived", derived
        assert len(engines.made) == 1                      # the derive job's engine
        derive = engines.made[0]
        assert derive.calls["transaction"] == 1            # the derive's one transaction...
        assert any("pupil_year" in s for s in derive.statements)   # ...wrote the per-pupil rows
        assert derive.calls["execute"] > 10

        started = client.post(f"/v1/releases/standard/{YEAR}", headers=admin)
        assert started.status_code == 202, started.text
        released = _job(client, started.json()["links"]["status"], admin)
        assert released["state"] == "released", released
        assert len(engines.made) == 2                      # the standard release job's engine
        totals = engines.made[1]
        assert totals.calls["fetch"] >= 2                  # the leaf totals and the residence
        assert any("pupil_year" in s for s in totals.statements)
