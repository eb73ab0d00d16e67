"""HTTP semantics answered before routing, from the route table and the OpenAPI document:

- ``OPTIONS`` on any path of the API: ``204`` with ``Allow`` listing every method of the
  path (HEAD with GET; OPTIONS itself). A path no route has stays a 404.
- ``HEAD`` wherever ``GET`` is allowed: the GET answer's status and headers, no body.
- a method the path does not have: ``405`` problem+json with the full ``Allow``.
- the API key before the body: on a route that needs a key, a missing, unknown or
  insufficient key is ``401``/``403`` before a byte of the body is read or parsed.
- ``415`` when a body arrives in a media type the operation does not take (the OpenAPI
  document's ``requestBody``), e.g. text/plain where JSON or a multipart form is expected.
- ``415`` (type ``unsupported-content-encoding``, field ``Content-Encoding``, with
  ``Accept-Encoding: identity``) when a body arrives compressed: bodies are read as sent.
- ``406`` when ``Accept`` excludes every media type the operation answers in (its documented
  2xx content); errors are problem+json whatever the Accept.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api import auth
from service.api.deps import check_access
from service.api.middleware.route_table import Operation, RouteTable
from service.api.problems import (HttpStatusProblem, Problem, UnsupportedEncoding, as_problem,
                                  problem_response)

BODY_METHODS = ("POST", "PUT", "PATCH")


class HttpContract:
    """ASGI middleware; `table` is the app's RouteTable, `state` the app's state (settings,
    database connection) for the key check."""

    def __init__(self, app: ASGIApp, table: RouteTable, state: Any) -> None:
        self.app = app
        self.table = table
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entry = self.table.match(scope)
        if entry is None:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        allow = entry.allow()
        if method == "OPTIONS":
            await _empty(204, {"Allow": allow}, scope, receive, send)
            return
        wanted = "GET" if method == "HEAD" else method
        operation = entry.operations.get(wanted)
        if operation is None:
            await _problem(HttpStatusProblem(405, {"Allow": allow}), scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            await check_access(self.state, self.state.settings, wanted, operation.template,
                         headers.get(auth.API_KEY_HEADER))
        except Exception as exc:  # noqa: BLE001 - rendered as its problem (401/403)
            await _problem(as_problem(exc), scope, receive, send)
            return
        if wanted in BODY_METHODS and not _body_acceptable(operation, headers):
            await _problem(HttpStatusProblem(415, {"Accept-Post": ", ".join(
                sorted(operation.consumes or ()))} if wanted == "POST" else None),
                scope, receive, send)
            return
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if wanted in BODY_METHODS and encoding not in ("", "identity"):
            await _problem(UnsupportedEncoding(
                "request bodies are read as sent: no Content-Encoding (send it uncompressed)",
                errors=[{"in": "header", "field": "Content-Encoding",
                         "message": "only identity is accepted"}],
                headers={"Accept-Encoding": "identity"}), scope, receive, send)
            return
        if not _acceptable(operation, headers.get("accept")):
            await _problem(HttpStatusProblem(406), scope, receive, send)
            return
        if method == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        await self.app(scope, receive, send)


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _body_acceptable(operation: Operation, headers: Headers) -> bool:
    content_type = headers.get("content-type")
    length = headers.get("content-length")
    if content_type is None:
        # no declared type: fine only without a body (the route then says what is missing)
        return length in (None, "0") and "transfer-encoding" not in headers
    if operation.consumes is None:
        return True  # the operation takes no body; whatever arrives is ignored
    return _media(content_type) in operation.consumes


def _acceptable(operation: Operation, accept: str | None) -> bool:
    if not accept or operation.produces is None:
        return True
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        media = media.lower()
        q = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q <= 0 or "/" not in media:
            continue
        kind, _, sub = media.partition("/")
        for produced in operation.produces:
            p_kind, _, p_sub = produced.partition("/")
            if media == "*/*" or (kind == p_kind and sub in ("*", p_sub)):
                return True
    return False


def _without_body(send: Send) -> Send:
    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(message)
    return head_send


async def _empty(status: int, headers: dict[str, str], scope: Scope, receive: Receive,
                 send: Send) -> None:
    out = MutableHeaders({**headers, "Content-Length": "0"})
    await send({"type": "http.response.start", "status": status, "headers": out.raw})
    await send({"type": "http.response.body", "body": b""})


async def _problem(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    response = problem_response(problem, scope.get("path", ""))
    await response(scope, receive, send if scope["method"] != "HEAD" else _without_body(send))
