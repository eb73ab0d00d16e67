"""The public surface is documented: every route and the role matrix in docs/api.md, every
setting in docs/settings.md, and the `keys` commands on the command line."""

from __future__ import annotations

import re

from service.api import roles, routes  # noqa: F401  (the route modules declare the matrix)
from service.settings import Settings
from support.paths import DOCS


def test_docs_api_renders_the_role_matrix_from_code():
    text = (DOCS / "api.md").read_text()
    block = re.search(r"<!-- role-matrix:start -->\n(.*?)\n<!-- role-matrix:end -->", text, re.S)
    assert block, "docs/api.md lacks the role-matrix block"
    assert block.group(1) == roles.render_markdown(), \
        "docs/api.md is stale: paste service.roles.render_markdown() between the markers"


def test_docs_api_describes_every_route():
    headings = [line for line in (DOCS / "api.md").read_text().splitlines()
                if line.startswith("### ")]
    for method, path in roles.ROUTE_ACCESS:
        assert any(f"`{method} {path}`" in line for line in headings), \
            f"docs/api.md has no section for {method} {path}"
    text = (DOCS / "api.md").read_text()
    assert "X-API-Key" in text and "/v1/openapi.json" in text


def test_docs_settings_lists_every_setting():
    text = (DOCS / "settings.md").read_text()
    for name, field in Settings.model_fields.items():
        row = re.search(rf"^\| `AANWEZIG_{name.upper()}` \|(.*)$", text, re.M)
        assert row, f"AANWEZIG_{name.upper()} is not documented in docs/settings.md"
        assert field.description, f"setting {name} has no description"
