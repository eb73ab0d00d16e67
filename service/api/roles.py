"""The role × route matrix, declared by each route module next to its routes. Deny by default.

Every route of the API declares its access where it is defined: its module calls
``roles.declare(roles.route(method, path, access, example=...), ...)`` once, which enters each
``(method, path template)`` in `ROUTE_ACCESS` (and the example request the auth-matrix test
sends in `EXAMPLES`). A route without an entry refuses every caller (401 without a valid key, 403 with one, even admin),
so a route added without thinking about access is closed, not open. ``PUBLIC`` routes need
no key: they serve only the public register, the catalogue and health.

`scoped` marks routes whose handler also checks the key's scope (a school key may only
upload for its own school; a region key only sees its own area): the matrix test sends a key
of another school/area to those and expects 403.

docs/api.md renders this table (`render_markdown()`, after the app has imported its route
modules: `service.api.routes.MODULES`); a test keeps the two equal: after changing it, paste `python -c "from service.api.roles import render_markdown as r;
import service.api.routes; print(r())"` between the role-matrix markers in docs/api.md.
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


def allow(*roles: Role, scoped: bool = False) -> Access:
    return Access(roles=frozenset(roles), scoped=scoped)


PUBLIC = Access(public=True)
EVERY_ROLE = allow(*Role)

Route = tuple[str, str]
#: (method, path template) -> who may call it; filled by the route modules' `declare`.
ROUTE_ACCESS: dict[Route, Access] = {}
#: (method, path template) -> one example request (httpx keyword arguments; "path": the
#: template's parameters), declared with the access: the auth-matrix test sends it.
EXAMPLES: dict[Route, dict] = {}


@dataclass(frozen=True)
class Declared:
    method: str
    path: str
    access: Access
    example: dict


def route(method: str, path: str, access: Access, example: dict | None = None) -> Declared:
    """One route's access (and an example request for it), for `declare`."""
    return Declared(method.upper(), path, access, example or {})


def declare(*routes: Declared) -> dict[Route, Access]:
    """Enter a route module's routes in the matrix (each once); returns the module's part."""
    part = {}
    for r in routes:
        key = (r.method, r.path)
        if key in ROUTE_ACCESS:
            raise ValueError(f"route {r.method} {r.path} is declared twice")
        ROUTE_ACCESS[key] = part[key] = r.access
        EXAMPLES[key] = r.example
    return part


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
    for (method, path), access in sorted(ROUTE_ACCESS.items(), key=lambda item: item[0][::-1]):
        if access.public:
            cells = ["public"] * len(Role)
        else:
            mark = "own" if access.scoped else "yes"
            cells = [mark if r in access.roles else "—" for r in Role]
        lines.append(f"| {method} | `{path}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
