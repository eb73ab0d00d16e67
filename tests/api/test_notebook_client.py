"""The notebook client against the real app (TestClient is an httpx.Client)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.auth import create_key
from service.client.session import Aanwezig, ServiceError


@pytest.fixture(scope="module")
def aw(synthetic_nl):
    con, settings = synthetic_nl
    secret = create_key(con, settings, "researcher", "client-user", "client test")[1]
    with TestClient(create_app(settings)) as http:
        yield Aanwezig(api_key=secret, http=http)


def test_dry_run_then_query_returns_a_frame_with_intervals(aw):
    plan = aw.dry_run("severe_share", group_by=["sector"], rho="0.004")
    assert plan["cost"]["rho"] == "1/250" and plan["cells"] == 5
    frame = aw.query("severe_share", group_by=["sector"], rho="0.004")
    assert list(frame.area_code) == ["PO", "SBO", "SO", "VSO", "VO"]
    assert {"estimate", "lower", "upper"} <= set(frame.columns)
    assert frame.attrs["charged"] is True
    assert (frame.lower <= frame.upper).all()
    same = aw.query("severe_share", group_by=["sector"], rho="0.004")
    assert same.attrs["charged"] is False and same.equals(frame)
    releases = aw.releases(kind="query")
    assert frame.attrs["release_id"] in set(releases.release_id)
    cells = aw.release(frame.attrs["release_id"])
    assert list(cells.area_code) == list(frame.area_code)


def test_problems_are_raised_with_their_fields(aw):
    with pytest.raises(ServiceError) as info:
        aw.dry_run("enrolled", group_by=["pupil_key"], rho="0.01")
    # refused by the enum of public dimensions in the document: the field names the item
    assert info.value.status == 400 and info.value.errors[0]["field"] == "group_by.0"
