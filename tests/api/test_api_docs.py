"""Interactive API docs at /v1/docs through real HTTP: the page, its script and stylesheet
are served by the app itself from package data (vendored Swagger UI), every URL the page and
its start-up script name is on this server, the Content-Security-Policy stays 'self' only,
and Swagger UI's online validator is off (it would call another origin)."""

from __future__ import annotations

import re

from service.api.middleware.headers import CONTENT_SECURITY_POLICY


def test_the_docs_page_and_everything_it_loads_come_from_this_server(client):
    page = client.get("/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(urls) == 4 and "<script>" not in page.text          # no inline script
    for url in urls:
        if url == "data:,":                                         # the empty favicon
            continue
        assert url.startswith("/v1/docs/"), url                     # same origin, no CDN
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100
    init = client.get("/v1/docs/init.js").text
    assert re.findall(r'url: "([^"]+)"', init) == ["/v1/openapi.json"]
    assert "validatorUrl: null" in init
    spec = client.get("/v1/openapi.json")
    assert spec.status_code == 200 and "/v1/queries" in spec.json()["paths"]
    bundle = client.get("/v1/docs/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text


def test_only_the_vendored_files_are_served(client):
    for name in ("../app.py", "__init__.py", "missing.js", "README.md"):
        r = client.get(f"/v1/docs/{name}")
        assert r.status_code == 404, name
