"""CORS for the public read-only routes (service/api/middleware/cors.py): every public GET under
/v1 answers a page on another origin, nothing that takes an API key does; an allow-list echoes
the Origin with `Vary: Origin` and sits outside the public answer cache. Over HTTP with the
app's own middleware stack, and in headless Chromium against uvicorn, where CORS matters."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.api.roles import PUBLIC_DOCUMENT_PATHS, ROUTE_ACCESS
from service.settings import Settings
from support.api_client import admin_database

OTHER = "https://elsewhere.example"
ALLOWED = "https://allowed.example"


def _app_settings(folder, cors_origins: str | None = None) -> tuple[Settings, str]:
    return admin_database(folder, **({} if cors_origins is None else {"cors_origins": cors_origins}))


@pytest.fixture
def open_client(tmp_path):
    settings, admin = _app_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        yield client, admin


def _cors(response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def _preflight(client, path: str, method: str = "GET", headers: str | None = None,
               origin: str = OTHER):
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=asked)


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", template)


def test_public_reads_answer_any_origin_by_default(open_client):
    client, _ = open_client
    answer = client.get("/v1/catalog", headers={"Origin": OTHER})
    assert answer.status_code == 200
    cors = _cors(answer)
    assert cors["access-control-allow-origin"] == "*"
    assert "ETag" in cors["access-control-expose-headers"]
    assert "access-control-allow-credentials" not in cors
    assert "origin" not in answer.headers.get("vary", "").lower()  # the same for every origin
    # the error of a public route is readable too (the page can show it)
    missing = client.get("/v1/releases/R000000000000", headers={"Origin": OTHER})
    assert missing.status_code == 404 and _cors(missing)["access-control-allow-origin"] == "*"
    head = client.head("/v1/catalog", headers={"Origin": OTHER})
    assert _cors(head)["access-control-allow-origin"] == "*"
    # the page and its files are not part of the API
    assert not _cors(client.get("/", headers={"Origin": OTHER}))


def test_preflight_for_a_public_read_is_answered(open_client):
    client, _ = open_client
    answer = _preflight(client, "/v1/catalog", "GET", "If-None-Match, accept")
    assert answer.status_code == 204
    cors = _cors(answer)
    assert cors["access-control-allow-origin"] == "*"
    assert cors["access-control-allow-methods"] == "GET, HEAD"
    assert "If-None-Match" in cors["access-control-allow-headers"]
    assert int(cors["access-control-max-age"]) > 0
    assert "GET" in answer.headers["allow"]


@pytest.mark.parametrize("method, asked", [
    ("GET", "X-API-Key"),            # the key never crosses origins
    ("GET", "accept, x-api-key"),
    ("POST", None),                  # only reads
    ("DELETE", None),
    ("GET", "Content-Type"),         # a header a read does not need
])
def test_a_preflight_that_asks_for_more_than_a_plain_read_gets_no_cors(open_client, method, asked):
    client, _ = open_client
    answer = _preflight(client, "/v1/releases", method, asked)
    assert answer.status_code == 204 and not _cors(answer)


def test_every_public_read_and_no_keyed_route_answers_cors(open_client):
    client, admin = open_client
    templates = {t for (_, t) in ROUTE_ACCESS if t.startswith("/v1/")}
    public = {t for (m, t), a in ROUTE_ACCESS.items() if m == "GET" and a.public
              and t.startswith("/v1/")} | set(PUBLIC_DOCUMENT_PATHS)
    assert {"/v1/catalog", "/v1/releases", "/v1/compare"} <= public
    for template in templates | set(PUBLIC_DOCUMENT_PATHS):
        path = _concrete(template)
        preflight = _cors(_preflight(client, path))
        if template in public:
            assert preflight.get("access-control-allow-origin") == "*", template
        else:
            assert not preflight, template
    for (method, template), access in ROUTE_ACCESS.items():
        if access.public or not template.startswith("/v1/"):
            continue
        answer = client.request(method, _concrete(template),
                                headers={"Origin": OTHER, "X-API-Key": admin})
        assert not _cors(answer), (method, template, answer.status_code)
        assert not _cors(client.request(method, _concrete(template), headers={"Origin": OTHER}))
    # a public read sent with a key is an authenticated request: no CORS either
    assert not _cors(client.get("/v1/catalog", headers={"Origin": OTHER, "X-API-Key": admin}))
    assert _cors(client.get("/v1/openapi.json", headers={"Origin": OTHER}))


def test_an_allow_list_echoes_allowed_origins_with_vary_outside_the_cache(tmp_path):
    settings, _ = _app_settings(tmp_path, f"{ALLOWED}, http://localhost:8080")
    with TestClient(create_app(settings)) as client:
        first = client.get("/v1/catalog", headers={"Origin": ALLOWED})
        assert first.status_code == 200
        assert _cors(first)["access-control-allow-origin"] == ALLOWED
        assert "origin" in first.headers["vary"].lower()
        # the same public answer, now from the cache: a stranger gets no CORS header, and
        # another listed origin gets its own origin back, never the first caller's
        stranger = client.get("/v1/catalog", headers={"Origin": OTHER})
        assert stranger.status_code == 200 and not _cors(stranger)
        assert "origin" in stranger.headers["vary"].lower()
        local = client.get("/v1/catalog", headers={"Origin": "http://localhost:8080"})
        assert _cors(local)["access-control-allow-origin"] == "http://localhost:8080"
        assert client.app.state.response_cache.stats.hits >= 2
        plain = client.get("/v1/catalog")
        assert not _cors(plain) and "origin" in plain.headers["vary"].lower()
        assert _cors(_preflight(client, "/v1/catalog", origin=ALLOWED))[
            "access-control-allow-origin"] == ALLOWED
        assert not _cors(_preflight(client, "/v1/catalog", origin=OTHER))


def test_an_empty_setting_turns_cors_off(tmp_path):
    settings, _ = _app_settings(tmp_path, "")
    with TestClient(create_app(settings)) as client:
        assert not _cors(client.get("/v1/catalog", headers={"Origin": OTHER}))
        assert not _cors(_preflight(client, "/v1/catalog"))


@pytest.mark.parametrize("value", ["elsewhere.example", "https://a.example/", "*, https://a.example",
                                   "https://a.example; https://b.example"])
def test_the_setting_refuses_what_is_not_an_origin(value):
    with pytest.raises(ValueError):
        Settings(mode="dev", cors_origins=value)


# ---- in the browser ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
