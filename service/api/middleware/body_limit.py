"""A limit on request body size, per path: uploads may be AANWEZIG_MAX_UPLOAD_BYTES, every
other body (small JSON) 1 MiB. Too large gives 413 problem+json: at once when Content-Length
says so, or as soon as a streamed body passes the limit (the rest is never read)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.problems import HttpStatusProblem, problem_response

DEFAULT_LIMIT_BYTES = 1024 * 1024


class BodySizeLimit:
    """ASGI middleware: `limits` maps a path to its byte limit; other paths get `default`."""

    def __init__(self, app: ASGIApp, limits: dict[str, int],
                 default: int = DEFAULT_LIMIT_BYTES) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.default)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            response = problem_response(HttpStatusProblem(413), scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited_receive, send)
