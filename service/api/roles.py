"""The declared role × route matrix. Deny by default.

Every route of the API has an entry here keyed by ``(method, path template)``. A route
without an entry refuses every caller (401 without a valid key, 403 with one, even admin),
so a route added without thinking about access is closed, not open. ``PUBLIC`` routes need
no key: they serve only the public register, the catalogue and health.

`scoped` marks routes whose handler also checks the key's scope (a school key may only
upload for its own school; a region key only sees its own area): the matrix test sends a key
of another school/area to those and expects 403.

docs/api.md renders this table (`render_markdown()`); a test keeps the two equal:
after changing it, paste `python -c "from service.api.roles import render_markdown as r;
print(r())"` between the role-matrix markers in docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.api.auth import AccessDenied, ApiKey, Role


@dataclass(frozen=True)
class Access:
    """Who may call one route."""

    roles: frozenset[Role] = frozenset()
    public: bool = False
    scoped: bool = False

    def allows(self, role: Role) -> bool:
        return self.public or role in self.roles


def _roles(*roles: Role, scoped: bool = False) -> Access:
    return Access(roles=frozenset(roles), scoped=scoped)


PUBLIC = Access(public=True)
EVERY_ROLE = _roles(*Role)

ROUTE_ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/catalog"): PUBLIC,
    ("GET", "/v1/areas"): PUBLIC,
    ("GET", "/v1/schools"): PUBLIC,
    ("GET", "/v1/me"): EVERY_ROLE,
    ("POST", "/v1/uploads"): _roles(Role.school, Role.admin, scoped=True),
    ("GET", "/v1/uploads/status"): _roles(Role.admin),
    # a school key sees only its own school's jobs (another's answers 404, as a missing one)
    ("GET", "/v1/jobs/{job_id}"): _roles(Role.school, Role.admin),
    ("POST", "/v1/releases/standard/{school_year}"): _roles(Role.admin),
    ("GET", "/v1/keys"): _roles(Role.admin),
    ("POST", "/v1/keys"): _roles(Role.admin),
    ("DELETE", "/v1/keys/{key_id}"): _roles(Role.admin),
    ("POST", "/v1/weekly/{school_year}/weeks/{week}"): _roles(Role.admin),
    ("GET", "/v1/weekly/{school_year}/series"): PUBLIC,
    ("GET", "/v1/weekly/{school_year}/chart"): PUBLIC,
    ("GET", "/v1/weekly/{school_year}/warnings"): PUBLIC,
    ("GET", "/v1/budget"): _roles(Role.researcher, Role.policy, Role.admin),
    ("POST", "/v1/queries"): _roles(Role.researcher, Role.admin),
    # Releases are differentially private: reading one spends no budget.
    ("GET", "/v1/releases"): PUBLIC,
    ("GET", "/v1/releases/{release_id}"): PUBLIC,
    ("GET", "/v1/releases/{release_id}/datapackage"): PUBLIC,
    ("GET", "/v1/releases/{release_id}/signature"): PUBLIC,
    ("GET", "/v1/releases/{release_id}/areas/{level}/{code}"): PUBLIC,
    ("GET", "/v1/signing-key"): PUBLIC,
    ("GET", "/v1/regions/{level}/{code}/archive"): _roles(Role.region, Role.policy, Role.admin, scoped=True),
    # Comparing and charting read the standard release only: no budget is spent.
    ("GET", "/v1/compare"): PUBLIC,
    ("GET", "/v1/compare/options"): PUBLIC,
    ("GET", "/v1/charts/dot-plot"): PUBLIC,
    ("GET", "/v1/charts/map"): PUBLIC,
    ("GET", "/v1/charts/differences"): PUBLIC,
    # The web page and its own files (vendored libraries, boundaries).
    ("GET", "/"): PUBLIC,
    ("GET", "/toegankelijkheid"): PUBLIC,
    ("GET", "/static/{name}"): PUBLIC,
    ("GET", "/static/{folder}/{name}"): PUBLIC,
}

# Served by FastAPI itself (not APIRoutes): public by declaration.
PUBLIC_DOCUMENT_PATHS = ("/v1/openapi.json",)


def access_for(method: str, path: str) -> Access | None:
    """The declared access of a route, or None (which means: nobody)."""
    return ROUTE_ACCESS.get((method.upper(), path))


def check(access: Access | None, key: ApiKey) -> None:
    """Raise AccessDenied unless `key`'s role is declared for the route."""
    if access is None or not access.allows(key.role):
        raise AccessDenied()


def require_school(key: ApiKey, school_id: str) -> None:
    """A school key may act only for the school in its scope."""
    if key.role is not Role.school or key.scope != school_id:
        raise AccessDenied("a school key may only be used for its own school")


def describe(access: Access | None) -> str:
    """Who may call a route, in words (for docs and OpenAPI)."""
    if access is None:
        return "nobody (no entry in the role matrix)"
    if access.public:
        return "public (no key)"
    roles = ", ".join(r.value for r in Role if r in access.roles)
    return roles + (" (own scope only)" if access.scoped else "")


def render_markdown() -> str:
    """The matrix as a Markdown table: one row per route, one column per role."""
    header = "| method | path | " + " | ".join(r.value for r in Role) + " |"
    lines = [header, "| --- | --- | " + " | ".join("---" for _ in Role) + " |"]
    for (method, path), access in ROUTE_ACCESS.items():
        if access.public:
            cells = ["public"] * len(Role)
        else:
            mark = "own" if access.scoped else "yes"
            cells = [mark if r in access.roles else "—" for r in Role]
        lines.append(f"| {method} | `{path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
