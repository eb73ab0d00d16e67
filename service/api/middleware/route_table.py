"""Which routes a request path names, for middleware that must answer before routing (OPTIONS,
HEAD, 405 with the full ``Allow``, 406, 415, CORS, the key before the body).

Built once from the role matrix (every route has its entry there) and the OpenAPI document
(passed in by the app factory: middleware never imports a route). For each path template it
knows every method, the media types each operation accepts (request body) and produces (2xx
answers), and its access entry in the role matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from service.api import roles


@dataclass
class Operation:
    method: str
    template: str
    consumes: frozenset[str] | None = None
    """Request body media types (None: the operation takes no body)."""
    produces: frozenset[str] | None = None
    """Media types of its successful answers (None: not declared, not checked)."""

    @property
    def access(self) -> roles.Access | None:
        return roles.access_for(self.method, self.template)


@dataclass
class PathEntry:
    template: str
    pattern: re.Pattern[str]
    operations: dict[str, Operation] = field(default_factory=dict)

    def allow(self) -> str:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")
        methods.add("OPTIONS")
        order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return ", ".join(m for m in order if m in methods)


class RouteTable:
    """Path templates of the app (the role matrix lists every route, deny by default) with
    their operations from the OpenAPI document; `match(scope)` finds a path's entry."""

    def __init__(self, openapi: Callable[[], dict[str, Any]],
                 routes: Iterable[tuple[str, str]] | None = None) -> None:
        self._openapi = openapi
        self._routes = list(routes if routes is not None else roles.ROUTE_ACCESS)
        self._entries: list[PathEntry] | None = None

    def _build(self) -> list[PathEntry]:
        document = self._openapi()
        by_template: dict[str, PathEntry] = {}
        for method, template in self._routes:
            entry = by_template.setdefault(template, PathEntry(template, _pattern(template)))
            spec = document.get("paths", {}).get(template, {}).get(method.lower())
            entry.operations[method] = _operation(method, template, spec)
        # literal segments before parameters: /v1/compare/options is not /v1/compare/{x}
        return sorted(by_template.values(), key=lambda e: e.template.count("{"))

    def match(self, scope: dict[str, Any]) -> PathEntry | None:
        """The path's entry (whatever the method), or None when no route has this path."""
        if self._entries is None:
            self._entries = self._build()
        path = scope.get("path", "")
        for entry in self._entries:
            if entry.pattern.fullmatch(path):
                return entry
        return None


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p))


def _operation(method: str, template: str, spec: dict[str, Any] | None) -> Operation:
    if spec is None:
        return Operation(method, template)
    body = spec.get("requestBody")
    consumes = frozenset(m.split(";", 1)[0].strip().lower()
                         for m in body.get("content", {})) if body else None
    produces: set[str] = set()
    for status, response in spec.get("responses", {}).items():
        if str(status).startswith("2"):
            produces |= {m.split(";", 1)[0].strip().lower() for m in response.get("content", {})}
    return Operation(method, template, consumes, frozenset(produces) or None)
