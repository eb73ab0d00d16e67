"""Errors as ``application/problem+json`` (RFC 9457), and the one table from exception to status.

Every error response has ``type``, ``title``, ``status``, ``detail`` and ``instance``; invalid
input adds ``errors``: a list of ``{in, field, message}`` (plus ``file`` and ``row`` for
upload rows), every problem at once, never the offending value itself. Status 400 is used for
all invalid input (FastAPI's 422 is overridden).

Privacy: details are written here or by the domain layer from public facts (field names, row
numbers, the register). An unexpected exception becomes a bare 500 whose log line holds the
exception's class only, because messages of foreign errors (DuckDB) can quote data. No error
depends on whether a group has pupils.

Every error a caller may see is a `service.errors.ServiceError` (here called `Problem`):
its class carries the status, type and title, its instance the detail and the field errors.
What is not one is translated by `service.errors.translate` (the privacy engine's
`BudgetExhausted`) or by `FRAMEWORK_ERRORS` below (FastAPI's validation, Starlette's plain
statuses, DuckDB's errors); anything else is a bare 500.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Callable
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from privacy.ledger import BudgetExhausted
from service import errors
from service.errors import (TYPE_PREFIX, BudgetRefused, Conflict, Forbidden, InternalError,  # noqa: F401
                            InvalidInput, InvalidUpload, NotAuthenticated, NotFound)
from service.ingest.memory_budget import UploadMemoryBusy

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("aanwezig.http")


#: An error rendered as problem+json: the service's one exception tree.
Problem = errors.ServiceError


class HttpStatusProblem(Problem):
    """A plain HTTP status (unknown path, wrong method, body too large): type about:blank."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.title = http.HTTPStatus(status).phrase
        super().__init__(headers=headers)

    @property
    def type(self) -> str:
        return "about:blank"


class MalformedBody(InvalidInput):
    """A body that cannot be read as its Content-Type says (a broken multipart form)."""

    slug, title = "malformed-body", "Malformed request body"


class UnsupportedEncoding(Problem):
    """A compressed request body (Content-Encoding): the service reads plain bodies only."""

    status, slug, title = 415, "unsupported-content-encoding", "Unsupported Content-Encoding"


class Busy(Problem):
    """The uploads' memory budget is taken for longer than a request may wait (Retry-After)."""

    status, slug, title = 503, "busy", "Busy: try again later"


def _http_status(exc: StarletteHTTPException) -> Problem:
    if exc.status_code == 400:
        # raised while parsing a body (FastAPI: "There was an error parsing the body";
        # Starlette: a multipart form it cannot read); the parser's text may quote the body
        return MalformedBody("the request body could not be read as its Content-Type says",
                             errors=[{"in": "body", "field": "body", "message":
                                      "not a well-formed body of the declared Content-Type "
                                      "(multipart/form-data: check the boundary and the parts)"}])
    return HttpStatusProblem(exc.status_code, exc.headers)


def _validation(exc: RequestValidationError) -> Problem:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = loc[0] if loc else "body"
        errors.append({"in": where, "field": ".".join(loc[1:]) or where,
                       "message": str(error.get("msg", "invalid"))})
    return InvalidInput(f"{len(errors)} invalid input value(s)", errors=errors)


FRAMEWORK_ERRORS: dict[type[BaseException], Callable[[Any], Problem]] = {
    RequestValidationError: _validation,
    StarletteHTTPException: _http_status,
    UploadMemoryBusy: lambda exc: Busy(str(exc), headers={"Retry-After": str(exc.retry_after)}),
    # a derived table that does not exist yet: nothing has been ingested and derived
    duckdb.CatalogException: lambda exc: Conflict(
        "no derived data for this school year yet: ingest and derive first"),
    duckdb.Error: lambda exc: InternalError(),
}
"""Exceptions of the frameworks below the routes → problem. Looked up along the MRO."""


def as_problem(exc: BaseException) -> Problem:
    """The problem for any exception; unknown ones become a bare 500."""
    known = errors.translate(exc)
    if known is not None:
        return known
    for cls in type(exc).__mro__:
        if cls in FRAMEWORK_ERRORS:
            return FRAMEWORK_ERRORS[cls](exc)
    return InternalError()


def problem_response(problem: Problem, instance: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **problem.headers}
    return JSONResponse(problem.body(instance), status_code=problem.status,
                        headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    problem = as_problem(exc)
    if problem.status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return problem_response(problem, request.url.path)


class UnhandledErrors:
    """ASGI middleware: any exception that escapes the routes becomes a 500 problem, logged
    by class name only (a foreign message might quote data), and is not re-raised."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the boundary of the service
            log.error("%s %s failed: %s", scope.get("method"), scope.get("path"),
                      type(exc).__name__)
            if started:
                return
            response = problem_response(as_problem(exc), scope.get("path", ""))
            await response(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every ServiceError, the privacy engine's BudgetExhausted and every class in
    FRAMEWORK_ERRORS as problem+json."""
    app.add_exception_handler(Problem, _handle)
    app.add_exception_handler(BudgetExhausted, _handle)
    for cls in FRAMEWORK_ERRORS:
        app.add_exception_handler(cls, _handle)
    app.add_middleware(UnhandledErrors)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "truncated": {"type": "boolean"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["in", "field", "message"],
            "properties": {"in": {"type": "string"}, "field": {"type": "string"},
                           "message": {"type": "string"}, "file": {"type": "string"},
                           "row": {"type": "integer"}}}},
    },
}
"""JSON Schema of a problem body, referenced from the OpenAPI document."""
