"""CORS for the public read-only routes, so a page on another origin can read the public
statistics; nothing that takes an API key ever answers CORS.

Which paths: those under ``/v1`` whose GET is public in the role matrix (the route table) and
the OpenAPI document. Which requests: ``GET`` and ``HEAD`` without an ``X-API-Key`` header,
and their preflight (``OPTIONS`` asking for GET or HEAD with no request header beyond
:data:`ALLOWED_REQUEST_HEADERS`). A preflight asking for another method or for the key header,
a request with a key, a route that needs one, or an origin outside the allow-list gets no
``Access-Control-*`` header at all, so the browser refuses to show the answer to the page.

``AANWEZIG_CORS_ORIGINS`` (service/settings.py):

- ``*`` (the default): ``Access-Control-Allow-Origin: *`` on every public read. Without
  credentials (no cookies exist here; keys are never allowed cross-origin) that is safe.
- a list of origins: the request's ``Origin`` is echoed when it is on the list, and every
  public read carries ``Vary: Origin``, because the answer now depends on it.
- empty: no CORS at all.

This middleware sits outside the public answer cache (service/api/middleware/public_cache.py)
so a cached answer, kept once for every caller, never holds one caller's ``Origin``.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import PREFIX
from service.api.auth import API_KEY_HEADER
from service.api.middleware.route_table import RouteTable

READ_METHODS = ("GET", "HEAD")
ALLOWED_REQUEST_HEADERS = ("accept", "accept-language", "content-language", "if-none-match")
EXPOSED_HEADERS = "API-Version, ETag, Link, X-Total-Count, Content-Disposition"
PREFLIGHT_MAX_AGE = "600"


class PublicCors:
    """ASGI middleware. `allow_list` is None for any origin (``*``), else the allowed origins
    (lower-case ``scheme://host[:port]``; empty: CORS off). `public_paths` are paths outside
    the route table that are public reads (the OpenAPI document)."""

    def __init__(self, app: ASGIApp, table: RouteTable, allow_list: tuple[str, ...] | None,
                 public_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.table = table
        self.allow_list = allow_list
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or self.allow_list == ()
                or not self._public_read_path(scope)):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method = scope["method"]
        if API_KEY_HEADER.lower() in headers:
            await self.app(scope, receive, send)
            return
        added: dict[str, str] = {}
        origin = headers.get("origin")
        allowed = self._allowed_origin(origin)
        if method == "OPTIONS" and "access-control-request-method" in headers:
            if allowed and _preflight_fits(headers):
                added = {"Access-Control-Allow-Origin": allowed,
                         "Access-Control-Allow-Methods": ", ".join(READ_METHODS),
                         "Access-Control-Allow-Headers": ", ".join(
                             h.title() for h in ALLOWED_REQUEST_HEADERS),
                         "Access-Control-Max-Age": PREFLIGHT_MAX_AGE}
        elif method in READ_METHODS and allowed:
            added = {"Access-Control-Allow-Origin": allowed,
                     "Access-Control-Expose-Headers": EXPOSED_HEADERS}
        vary = self.allow_list is not None and method in READ_METHODS + ("OPTIONS",)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in added.items():
                    out[name] = value
                if vary:
                    out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _public_read_path(self, scope: Scope) -> bool:
        path = scope.get("path", "")
        if path in self.public_paths:
            return True
        if not path.startswith(PREFIX + "/"):
            return False
        entry = self.table.match(scope)
        if entry is None or "GET" not in entry.operations:
            return False
        access = entry.operations["GET"].access
        return access is not None and access.public

    def _allowed_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for `origin`, or None (not allowed)."""
        if self.allow_list is None:
            return "*"
        if origin is not None and origin.lower() in self.allow_list:
            return origin
        return None


def _preflight_fits(headers: Headers) -> bool:
    """A preflight for a read with only harmless request headers (never the API key)."""
    if headers.get("access-control-request-method", "").upper() not in READ_METHODS:
        return False
    asked = headers.get("access-control-request-headers", "")
    names = {h.strip().lower() for h in asked.split(",") if h.strip()}
    return names <= set(ALLOWED_REQUEST_HEADERS)
