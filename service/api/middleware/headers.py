"""Headers on every response: ``API-Version`` (Dutch API Design Rules) and security headers.

The Content-Security-Policy allows only the service's own origin: the web page serves its
JavaScript (vendored) from /static, and nothing is loaded from elsewhere. Every answer to a
request with an API key is ``Cache-Control: no-store``, whatever the route set (a public route
asked with a key too); errors are ``no-store`` unless the route set its own policy.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import __version__
from service.api.auth import API_KEY_HEADER

API_VERSION = __version__

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

SECURITY_HEADERS: dict[str, str] = {
    "API-Version": API_VERSION,
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS (overriding nothing a route set itself except
    API-Version, which is always ours) and a default Cache-Control."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authenticated = API_KEY_HEADER.lower() in Headers(scope=scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name == "API-Version" or name not in headers:
                        headers[name] = value
                if authenticated:
                    # a keyed answer is never stored, even where the route is public and
                    # said `public, immutable`: what a key sees may be more than the public
                    headers["Cache-Control"] = "no-store"
                elif "cache-control" not in headers and message["status"] >= 400:
                    headers["Cache-Control"] = "no-store"
                if authenticated:
                    headers.add_vary_header(API_KEY_HEADER)
            await send(message)

        await self.app(scope, receive, send_with_headers)
