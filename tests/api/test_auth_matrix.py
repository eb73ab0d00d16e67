"""Walk EVERY route of the app with every principal and check the declared role matrix
(service/api/roles.py) exactly: 401 without a key or with a bad or revoked key, 403 for a role
that is not declared (or a key of another school on a scoped route), and neither 401 nor 403
(nor 5xx) when the route allows the caller. Deny by default is checked with a route that has
no entry in the matrix."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from service.api import roles
from service.api.app import create_app
from service.api.auth import Role
from service.api.deps import CurrentKey
from service.api.roles import EXAMPLES  # one request per route, declared with its access
from support.api_client import upload_files

try:  # FastAPI >= 0.16x keeps included routers nested
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI flattens app.routes
    iter_route_contexts = None

ROLE_KEYS = {Role.school: "school", Role.researcher: "researcher", Role.region: "region",
             Role.policy: "policy", Role.admin: "admin"}

def api_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every APIRoute, however routers are nested."""
    routes = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    found = []
    for route in routes:
        if isinstance(getattr(route, "original_route", route), APIRoute):
            found += [(m, route.path_format) for m in sorted(route.methods)]
    return found


def send(client, method: str, path: str, headers: dict[str, str]):
    example = dict(EXAMPLES[(method, path)])
    url = path.format(**example.pop("path", {}))
    if example.get("files") == "upload":
        example["files"] = upload_files()
    return client.request(method, url, headers=headers, **example)


def allowed(status: int) -> bool:
    return status < 500 and status not in (401, 403)


def test_every_route_is_in_the_matrix_and_has_an_example(client):
    routes = api_routes(client.app)
    assert routes, "no routes found"
    assert set(routes) == set(roles.ROUTE_ACCESS), "matrix and routes differ"
    assert set(routes) == set(EXAMPLES)


def test_the_matrix_exactly(client, keys):
    failures = []
    for method, path in api_routes(client.app):
        access = roles.access_for(method, path)
        principals = {"no key": {}, "bad key": {"X-API-Key": "aw_wrong"},
                      "revoked": keys.header("revoked"), "bootstrap": keys.header("bootstrap"),
                      "other school": keys.header("other_school"),
                      "other region": keys.header("other_region"),
                      **{role.value: keys.header(name) for role, name in ROLE_KEYS.items()}}
        for who, headers in principals.items():
            status = send(client, method, path, headers).status_code
            if access.public:
                ok = allowed(status)
            elif who in ("no key", "bad key", "revoked"):
                ok = status == 401
            else:
                role = {"bootstrap": Role.admin, "other school": Role.school,
                        "other region": Role.region}.get(who) or Role(who)
                if role not in access.roles or (who.startswith("other") and access.scoped):
                    ok = status == 403
                else:
                    ok = allowed(status)
            if not ok:
                failures.append(f"{method} {path} as {who}: {status}")
    assert not failures, "\n".join(failures)


def test_a_route_missing_from_the_matrix_refuses_everyone(settings, keys):
    app = create_app(settings)

    @app.get("/v1/undeclared")
    def undeclared(caller: CurrentKey) -> dict:
        return {"secret": "should never be seen"}

    @app.get("/v1/undeclared-public-looking")
    def undeclared_without_key() -> dict:
        return {"secret": "should never be seen"}

    with TestClient(app) as c:
        for path in ("/v1/undeclared", "/v1/undeclared-public-looking"):
            assert c.get(path).status_code == 401
            for name in ("school", "researcher", "region", "policy", "admin", "bootstrap"):
                response = c.get(path, headers=keys.header(name))
                assert response.status_code == 403, (path, name)
                assert "secret" not in response.text


@pytest.mark.parametrize("role", list(Role))
def test_me_tells_each_role_its_own_key(client, keys, role):
    body = client.get("/v1/me", headers=keys.header(ROLE_KEYS[role])).json()
    assert body["role"] == role.value
    assert "secret" not in body and "key_hash" not in body
