"""The application skeleton: health, headers on every response, problem+json on every error
path, no trailing slashes, OpenAPI at /v1/openapi.json."""

from __future__ import annotations

import logging

import pytest

from service.api.middleware.headers import CONTENT_SECURITY_POLICY
from service.settings import Settings

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


def assert_standard_headers(response) -> None:
    h = response.headers
    assert h["api-version"] == "0.1.0"
    assert h["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-frame-options"] == "DENY"
    assert h["strict-transport-security"].startswith("max-age=")


def test_health(client):
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.1.0"}
    assert_standard_headers(response)
    assert "cache-control" not in response.headers


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/v1/health/", 404),            # no trailing slashes, no redirect
    ("GET", "/v1/nothing-here", 404),
    ("GET", "/v1/catalog.json", 404),       # no file extensions
    ("GET", "/static/nothing-here.js", 404),   # "/" is the compare page (docs/page.md)
    ("PUT", "/v1/health", 405),
    ("GET", "/v1/me", 401),
])
def test_every_error_is_a_problem_with_the_headers(client, method, path, status):
    response = client.request(method, path, follow_redirects=False)
    assert_problem(response, status)
    assert_standard_headers(response)


def test_405_says_which_methods_are_allowed(client):
    response = client.put("/v1/health")
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"
    both = client.put("/v1/keys")  # GET and POST: every method of the path, not the first route's
    assert both.status_code == 405 and both.headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_401_asks_for_the_api_key_header(client):
    body = assert_problem(client.get("/v1/me"), 401)
    assert "X-API-Key" in body["detail"]
    assert "X-API-Key" in client.get("/v1/me").headers["www-authenticate"]


def test_unknown_and_revoked_keys_look_the_same(client, keys):
    unknown = client.get("/v1/me", headers={"X-API-Key": "aw_not-a-key"})
    revoked = client.get("/v1/me", headers=keys.header("revoked"))
    assert assert_problem(unknown, 401) == {**assert_problem(revoked, 401)}


def test_invalid_input_is_400_listing_every_error(client):
    response = client.get("/v1/areas", params={"page": 0, "pageSize": 5000})
    body = assert_problem(response, 400)
    assert body["type"] == "urn:aanwezig:problem:invalid-input"
    fields = {(e["in"], e["field"]) for e in body["errors"]}
    assert fields == {("query", "page"), ("query", "pageSize")}
    assert all(e["message"] for e in body["errors"])


def test_invalid_json_is_400(client, keys):
    response = client.post("/v1/keys", content=b"{not json", headers={
        **keys.header("admin"), "Content-Type": "application/json"})
    body = assert_problem(response, 400)
    assert body["errors"][0]["in"] == "body"


def test_body_over_the_limit_is_413(client, keys):
    response = client.post("/v1/keys", json={"role": "policy", "label": "x" * 2_000_000},
                           headers=keys.header("admin"))
    assert_problem(response, 413)
    assert_standard_headers(response)


def test_streamed_body_over_the_limit_is_413(client, keys):
    def chunks():
        for _ in range(40):
            yield b"x" * 50_000

    response = client.post("/v1/keys", content=chunks(), headers={
        **keys.header("admin"), "Content-Type": "application/json"})
    assert_problem(response, 413)


def test_an_unexpected_failure_is_a_bare_500_logged_by_class_only(client, caplog):
    client.app.state.con.close()  # every database call now fails inside DuckDB
    with caplog.at_level(logging.ERROR, logger="aanwezig.http"):
        response = client.get("/v1/health")
    body = assert_problem(response, 500)
    assert body["detail"] == "Internal error"
    assert_standard_headers(response)
    messages = [r.getMessage() for r in caplog.records if r.name == "aanwezig.http"]
    assert messages and all("Exception" in m or "Error" in m for m in messages)
    assert all("closed" not in m.lower() for m in messages)


def test_openapi_document(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert_standard_headers(response)
    doc = response.json()
    assert doc["info"]["version"] == "0.1.0"
    assert doc["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "API key; ask the data steward for one"}
    for path, operations in doc["paths"].items():
        assert path.startswith("/v1/") and not path.endswith("/") and "." not in path
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
            assert "Access:" in operation["description"]
            error = operation["responses"]["400"]["content"]
            assert "application/problem+json" in error
    assert "security" not in doc["paths"]["/v1/health"]["get"]
    assert doc["paths"]["/v1/uploads"]["post"]["security"] == [{"APIKeyHeader": []}]


def test_production_settings_refuse_default_secrets(tmp_path):
    with pytest.raises(ValueError, match="AANWEZIG_HMAC_KEY"):
        Settings(db=tmp_path / "p.duckdb")
