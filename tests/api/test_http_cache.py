"""The in-process cache of public answers (service/api/middleware/public_cache.py): what it keeps, what it never
keeps, and that the real app's downloads come from it unchanged."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.api.app import create_app
from service.api.middleware import public_cache as http_cache
from service.api.middleware.public_cache import PublicResponseCache, public_cache_control
from service.releases.standard import publish_standard

YEAR = "2025-2026"


def tiny_app(max_bytes: int = 10_000) -> tuple[Starlette, dict]:
    """A Starlette app whose routes count their calls, behind the cache."""
    calls: dict[str, int] = {}

    def counted(name: str, body: bytes, status: int = 200, headers: dict | None = None):
        async def endpoint(request: Request) -> Response:
            calls[name] = calls.get(name, 0) + 1
            return Response(body + request.url.query.encode(), status_code=status, headers=headers)
        return Route("/" + name, endpoint)

    public = {"Cache-Control": public_cache_control()}
    routes = [
        counted("public", b"p" * 100, headers=public),
        counted("big", b"b" * 6_000, headers=public),
        counted("short", b"s", headers={"Cache-Control": public_cache_control(60)}),
        counted("private", b"x", headers={"Cache-Control": "private, max-age=60"}),
        counted("nostore", b"x", headers={"Cache-Control": "no-store"}),
        counted("plain", b"x"),
        counted("error", b"x", status=404, headers=public),
        counted("vary", b"x", headers={**public, "Vary": "X-API-Key"}),
        counted("cookie", b"x", headers={**public, "Set-Cookie": "a=b"}),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(PublicResponseCache, max_bytes=max_bytes, state=app.state)
    return app, calls


def test_a_public_answer_is_computed_once_and_then_served_from_memory():
    app, calls = tiny_app()
    with TestClient(app) as client:
        first, second = client.get("/public"), client.get("/public")
        assert first.content == second.content == b"p" * 100
        assert calls["public"] == 1
        assert second.headers["etag"] == first.headers["etag"]
        assert second.headers["cache-control"] == public_cache_control()
        # the query string and the Accept header are part of the key
        assert client.get("/public?x=1").content.endswith(b"x=1")
        client.get("/public", headers={"Accept": "text/csv"})
        assert calls["public"] == 3
        stats = app.state.response_cache.stats
        assert (stats.hits, stats.misses, stats.stored) == (1, 3, 3)


def test_if_none_match_gets_304_without_a_body():
    app, calls = tiny_app()
    with TestClient(app) as client:
        etag = client.get("/public").headers["etag"]
        again = client.get("/public", headers={"If-None-Match": f'"other", {etag}'})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert client.get("/public", headers={"If-None-Match": '"other"'}).status_code == 200
        assert calls["public"] == 1


@pytest.mark.parametrize("name", ["private", "nostore", "plain", "error", "vary", "cookie"])
def test_answers_that_are_not_public_200s_are_never_kept(name):
    app, calls = tiny_app()
    with TestClient(app) as client:
        for _ in range(3):
            client.get("/" + name)
        assert calls[name] == 3
        assert app.state.response_cache.stats.stored == 0


def test_a_request_with_an_api_key_always_goes_to_the_application():
    app, calls = tiny_app()
    with TestClient(app) as client:
        client.get("/public")
        client.get("/public", headers={"X-API-Key": "anything"})
        client.get("/public", headers={"x-api-key": "anything"})
        assert calls["public"] == 3
        assert app.state.response_cache.stats.stored == 1  # only the anonymous answer
        assert client.post("/public").status_code == 405  # only GET is looked up


def test_memory_is_bounded_least_recently_used_first():
    app, calls = tiny_app(max_bytes=6_150)
    with TestClient(app) as client:
        client.get("/public")      # 100 bytes
        client.get("/big")         # 6,000 bytes: 6,100 kept
        client.get("/public")      # hit: /public is now the most recent
        client.get("/public?a")    # 102 more: over the bound, /big (least recent) goes
        cache = app.state.response_cache
        assert cache.stats.evicted == 1 and cache.stats.bytes <= 6_150
        client.get("/public")
        client.get("/big")
        assert calls == {"public": 2, "big": 2}  # /public and /public?a; /big again


def test_entries_expire_after_their_max_age(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(http_cache.time, "monotonic", lambda: now[0])
    app, calls = tiny_app()
    with TestClient(app) as client:
        client.get("/short")
        now[0] += 59
        client.get("/short")
        assert calls["short"] == 1
        now[0] += 2
        client.get("/short")
        assert calls["short"] == 2


def test_a_body_larger_than_one_entry_may_hold_is_passed_on_whole_and_not_kept():
    app, calls = tiny_app()
    app.user_middleware.clear()
    app.add_middleware(PublicResponseCache, max_entry_bytes=1_000, state=app.state)
    with TestClient(app) as client:
        assert client.get("/big").content == b"b" * 6_000
        assert client.get("/big").content == b"b" * 6_000
        assert calls["big"] == 2 and app.state.response_cache.stats.stored == 0


@pytest.fixture(scope="module")
def release_id(synthetic_nl):
    con, settings = synthetic_nl
    return publish_standard(con, settings, YEAR).record.release_id


def test_the_apps_area_download_and_catalog_come_from_the_cache_unchanged(synthetic_nl, release_id):
    _, settings = synthetic_nl
    path = f"/v1/releases/{release_id}/areas/municipality/GM0363"
    with TestClient(create_app(settings)) as client:
        cache = client.app.state.response_cache
        first = client.get(path)
        hits = cache.stats.hits
        second = client.get(path)
        assert cache.stats.hits == hits + 1
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        with zipfile.ZipFile(io.BytesIO(second.content)) as zf:
            assert "release.csv" in zf.namelist()
        for name in ("api-version", "content-security-policy", "x-content-type-options",
                     "content-disposition", "content-type", "etag"):
            assert second.headers[name] == first.headers[name], name
        catalog = [client.get("/v1/catalog") for _ in range(2)]
        assert catalog[0].json() == catalog[1].json()
        assert cache.stats.hits == hits + 2
        # format negotiation still works through the cache: two Accepts, two answers
        csv = client.get(f"/v1/releases/{release_id}", headers={"Accept": "text/csv"})
        js = client.get(f"/v1/releases/{release_id}", headers={"Accept": "application/json"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert js.headers["content-type"].startswith("application/json")
        assert csv.headers["vary"] == "Accept"


def test_errors_and_authenticated_answers_of_the_app_are_not_kept(synthetic_nl, release_id):
    _, settings = synthetic_nl
    with TestClient(create_app(settings)) as client:
        cache = client.app.state.response_cache
        for _ in range(2):
            assert client.get(f"/v1/releases/{release_id}/areas/municipality/GM9999").status_code == 404
            assert client.get("/v1/releases/R0000000000AB").status_code == 404
            assert client.get("/v1/health").status_code == 200
        assert cache.stats.hits == 0 and cache.stats.stored == 0
        authed = client.get("/v1/catalog", headers={"X-API-Key": settings.admin_key})
        assert authed.status_code == 200 and cache.stats.stored == 0
        assert "X-API-Key" in authed.headers["vary"]


def test_concurrent_cold_requests_compute_the_answer_once():
    import asyncio

    import httpx

    calls = {"slow": 0, "slow_error": 0}

    async def slow(request: Request) -> Response:
        calls["slow"] += 1
        await asyncio.sleep(0.2)
        return Response(b"built", headers={"Cache-Control": public_cache_control()})

    async def slow_error(request: Request) -> Response:
        calls["slow_error"] += 1
        await asyncio.sleep(0.05)
        return Response(b"no", status_code=400)

    app = Starlette(routes=[Route("/slow", slow), Route("/slow_error", slow_error)])
    app.add_middleware(PublicResponseCache, state=app.state)

    async def burst(path: str, n: int) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await asyncio.gather(*(client.get(path) for _ in range(n)))

    answers = asyncio.run(burst("/slow", 20))
    assert [a.content for a in answers] == [b"built"] * 20 and calls["slow"] == 1
    assert app.state.response_cache.stats.collapsed == 19
    errors = asyncio.run(burst("/slow_error", 10))  # not kept: every waiter still gets its answer
    assert [e.status_code for e in errors] == [400] * 10 and calls["slow_error"] >= 2
