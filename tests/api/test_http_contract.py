"""HTTP semantics before routing (service/api/middleware/http_contract.py): OPTIONS and HEAD,
405 with every method of the path, 406, 415, the key checked before the body is parsed, and
parameters the OpenAPI document constrains refused or answered 404 as it says."""

from __future__ import annotations


def test_options_lists_every_method_of_the_path(client):
    response = client.options("/v1/keys")
    assert response.status_code == 204 and response.content == b""
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert client.options("/v1/health").headers["allow"] == "GET, HEAD, OPTIONS"
    assert client.options("/v1/no-such-thing").status_code == 404


def test_head_is_get_without_a_body(client):
    get, head = client.get("/v1/health"), client.head("/v1/health")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/v1/keys").status_code == 401  # the same access rules as GET


def test_an_unacceptable_accept_is_406_and_a_wildcard_is_fine(client):
    assert client.get("/v1/health", headers={"Accept": "application/xml"}).status_code == 406
    assert client.get("/v1/health", headers={"Accept": "application/json;q=0, text/html"}).status_code == 406
    assert client.get("/v1/health", headers={"Accept": "application/*"}).status_code == 200
    assert client.get("/v1/health", headers={"Accept": "text/html, */*;q=0.1"}).status_code == 200
    response = client.get("/v1/health", headers={"Accept": "application/xml"})
    assert response.headers["content-type"] == "application/problem+json"


def test_a_body_in_the_wrong_media_type_is_415(client, keys):
    response = client.post("/v1/keys", content=b"role=school", headers={
        **keys.header("admin"), "Content-Type": "text/plain"})
    assert response.status_code == 415


def test_the_key_is_checked_before_the_body_is_parsed(client, keys):
    malformed = {"Content-Type": "application/json"}
    assert client.post("/v1/keys", content=b"{not json", headers=malformed).status_code == 401
    assert client.post("/v1/keys", content=b"{not json",
                       headers={**malformed, **keys.header("researcher")}).status_code == 403
    assert client.post("/v1/keys", content=b"{not json",
                       headers={**malformed, **keys.header("admin")}).status_code == 400


def test_constrained_parameters_are_refused_or_not_found(client, keys):
    assert client.get("/v1/releases", params={"kind": "bogus"}).status_code == 400
    assert client.get("/v1/releases", params={"kind": "standard"}).status_code == 200
    assert client.get("/v1/compare", params={"measure": "bogus", "level": "province"}).status_code == 400
    assert client.get("/v1/releases/not-an-id").status_code == 400
    assert client.get("/v1/releases/R0123456789AB").status_code == 404
    # a school year of the right form that the register does not have: 404, not 409
    week = client.post("/v1/weekly/2031-2032/weeks/1", headers=keys.header("admin"))
    assert week.status_code == 404
    assert client.get("/v1/budget", params={"dataset": "2031-2032"},
                      headers=keys.header("admin")).status_code == 404
    scope = client.post("/v1/keys", json={"role": "school", "scope": "99ZZ99"}, headers=keys.header("admin"))
    assert scope.status_code == 404
    assert client.post("/v1/keys", json={"role": "school", "scope": ""},
                       headers=keys.header("admin")).status_code == 400
