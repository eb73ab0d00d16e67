"""The contract as the code enforces it (issue 25, item 3), on the real register with a
standard release:

- every operation of the OpenAPI document that takes an area code (found by its parameter's
  pattern, so a new route is walked too) answers 404 naming that parameter for a code of the
  right form that names nothing, and not so for a known code;
- `POST /v1/releases/standard/{school_year}` for a school year the register lacks is 404,
  like budget and weekly;
- an answer to a request with an API key is `Cache-Control: no-store`, also on public
  routes that otherwise say `public, immutable`;
- a malformed multipart body is a typed 400 problem naming the body, a compressed body a
  typed 415 naming Content-Encoding (never `about:blank`, never the body quoted).
"""

from __future__ import annotations

import gzip

import pytest
from fastapi.testclient import TestClient

from support.compare_data import make_database
from service.api.app import create_app
from service.api.auth import create_key
from service.api.params import AREA_CODE_PATTERN, AREA_LIST_PATTERN, MUNICIPALITY_PATTERN
from service.db import connect

UNKNOWN = {AREA_CODE_PATTERN: "GM9999", MUNICIPALITY_PATTERN: "GM9999",
           AREA_LIST_PATTERN: "municipality:GM0363,municipality:GM9999"}
KNOWN = {AREA_CODE_PATTERN: "GM0363", MUNICIPALITY_PATTERN: "GM0363",
         AREA_LIST_PATTERN: "municipality:GM0363,municipality:GM0599"}
#: a valid value for every other parameter, by name
VALUES = {"measure": "absence_rate", "level": "municipality", "sector": "all",
          "school_year": "2025-2026", "lang": "nl"}
#: what the walk must find (so that it cannot pass by finding nothing)
EXPECTED = {
    ("/v1/areas", "parent"), ("/v1/schools", "municipality"),
    ("/v1/compare", "areas"), ("/v1/charts/differences", "areas"),
    ("/v1/weekly/{school_year}/series", "area"), ("/v1/weekly/{school_year}/chart", "area"),
    ("/v1/releases/{release_id}/areas/{level}/{code}", "code"),
    ("/v1/regions/{level}/{code}/archive", "code"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    settings, release_id = make_database(tmp_path_factory.mktemp("gaps") / "g.duckdb")
    con = connect(settings.db)
    school = create_key(con, settings, "school", "00AA00", "gaps")[1]
    con.close()
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "release_id": release_id, "admin": settings.admin_key,
               "school": school}


def _area_parameters(doc: dict):
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            for p in op.get("parameters", []):
                pattern = p.get("schema", {}).get("pattern")
                if pattern is None:
                    pattern = next((s.get("pattern") for s in p.get("schema", {}).get("anyOf", [])
                                    if s.get("pattern")), None)
                if pattern in UNKNOWN:
                    yield path, method, op, p, pattern


def _request(world, path: str, op: dict, name: str, code: str) -> tuple[str, dict]:
    url = path
    query = {}
    for p in op.get("parameters", []):
        value = code if p["name"] == name else VALUES.get(p["name"])
        if p["name"] == "release_id":
            value = world["release_id"]
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", value)
        elif p["in"] == "query" and value is not None and (p.get("required") or p["name"] == name):
            query[p["name"]] = value
    if "/weekly/" in path:
        query.update(measure="attendance_rate_4wk")
    return url, query


def test_every_route_taking_an_area_code_answers_404_for_an_unknown_one(world):
    client = world["client"]
    doc = client.get("/v1/openapi.json").json()
    found = set()
    for path, method, op, param, pattern in _area_parameters(doc):
        assert method == "get", (path, method)
        found.add((path, param["name"]))
        headers = {"X-API-Key": world["admin"]}
        url, query = _request(world, path, op, param["name"], UNKNOWN[pattern])
        answer = client.get(url, params=query, headers=headers)
        assert answer.status_code == 404, (path, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"] == "application/problem+json"
        fields = [e["field"] for e in answer.json().get("errors", [])]
        assert fields and all(f.split("[")[0] == param["name"] for f in fields), (path, fields)
        if pattern == AREA_LIST_PATTERN:
            assert fields == [f"{param['name']}[1]"]      # the position of the unknown one
        url, query = _request(world, path, op, param["name"], KNOWN[pattern])
        control = client.get(url, params=query, headers=headers)
        named = [e["field"] for e in control.json().get("errors", [])] \
            if control.headers["content-type"] == "application/problem+json" else []
        assert not any(f.split("[")[0] == param["name"] for f in named), (path, control.text[:300])
    assert found == EXPECTED


def test_standard_release_for_an_unknown_school_year_is_404(world):
    answer = world["client"].post("/v1/releases/standard/2031-2032",
                                  headers={"X-API-Key": world["admin"]})
    assert answer.status_code == 404, answer.text
    body = answer.json()
    assert body["type"] == "urn:aanwezig:problem:not-found"
    assert body["errors"] == [{"in": "path", "field": "school_year",
                               "message": "no school year with this name"}]


@pytest.mark.parametrize("path", ["/v1/catalog", "/v1/releases/{release_id}",
                                  "/v1/releases/{release_id}/datapackage", "/v1/signing-key"])
def test_keyed_answers_are_never_stored_even_on_public_routes(world, path):
    client = world["client"]
    url = path.format(release_id=world["release_id"])
    public = client.get(url)
    assert public.status_code == 200
    keyed = client.get(url, headers={"X-API-Key": world["school"]})
    assert keyed.status_code == 200 and keyed.content == public.content
    assert keyed.headers["cache-control"] == "no-store", keyed.headers
    assert "X-API-Key" in keyed.headers["vary"]
    if path != "/v1/signing-key":
        assert public.headers["cache-control"].startswith("public"), public.headers


def test_a_malformed_multipart_body_is_a_typed_problem_naming_the_body(world):
    secret = "=HYPERLINK(\"x\")"
    answer = world["client"].post("/v1/uploads", headers={
        "X-API-Key": world["school"], "Content-Type": "multipart/form-data; boundary=b"},
        content=b"not a multipart body " + secret.encode())
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["type"] == "urn:aanwezig:problem:malformed-body"
    assert [(e["in"], e["field"]) for e in body["errors"]] == [("body", "body")]
    assert "HYPERLINK" not in answer.text


@pytest.mark.parametrize("path,content_type,body", [
    ("/v1/uploads", "multipart/form-data; boundary=b",
     b'--b\r\nContent-Disposition: form-data; name="files"; filename="enrolments.csv"\r\n\r\nx\r\n--b--\r\n'),
    ("/v1/keys", "application/json", b'{"role": "policy", "label": "zipped"}'),
])
def test_a_compressed_body_is_415_naming_content_encoding(world, path, content_type, body):
    key = world["school"] if path == "/v1/uploads" else world["admin"]
    answer = world["client"].post(path, content=gzip.compress(body), headers={
        "X-API-Key": key, "Content-Type": content_type, "Content-Encoding": "gzip"})
    assert answer.status_code == 415, answer.text
    problem = answer.json()
    assert problem["type"] == "urn:aanwezig:problem:unsupported-content-encoding"
    assert problem["errors"] == [{"in": "header", "field": "Content-Encoding",
                                  "message": "only identity is accepted"}]
    assert answer.headers["accept-encoding"] == "identity"
