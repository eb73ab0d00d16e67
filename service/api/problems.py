"""Errors as ``application/problem+json`` (RFC 9457), and the one table from exception to status.

Every error response has ``type``, ``title``, ``status``, ``detail`` and ``instance``; invalid
input adds ``errors``: a list of ``{in, field, message}`` (plus ``file`` and ``row`` for
upload rows), every problem at once, never the offending value itself. Status 400 is used for
all invalid input (FastAPI's 422 is overridden).

Privacy: details are written here or by the domain layer from public facts (field names, row
numbers, the register). An unexpected exception becomes a bare 500 whose log line holds the
exception's class only, because messages of foreign errors (DuckDB) can quote data. No error
depends on whether a group has pupils.

Exceptions (HTTP-level)::

    Problem                       status  type (urn:aanwezig:problem:…)
    ├── InvalidInput               400    invalid-input
    │   ├── InvalidUpload          400    invalid-upload
    │   └── MalformedBody          400    malformed-body
    ├── UnsupportedEncoding        415    unsupported-content-encoding
    ├── NotAuthenticated           401    not-authenticated
    ├── Forbidden                  403    forbidden
    ├── NotFound                   404    not-found
    ├── Conflict                   409    conflict
    ├── InternalError              500    internal-error
    └── Busy                       503    busy (with Retry-After)

Foreign and domain exceptions are translated by `EXCEPTION_TABLE`.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Callable, Iterable
from typing import Any

import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from privacy.ledger import BudgetExhausted
from service.api import auth
from service.ingest import batches as ingest
from service.ingest.memory_budget import UploadMemoryBusy
from service.register.dimensions import CatalogueError
from service.releases.store import NotDerived
from service.releases.subsets import UnknownArea

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:aanwezig:problem:"
log = logging.getLogger("aanwezig.http")


class Problem(Exception):
    """An error with its HTTP status; rendered as problem+json."""

    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, *, errors: Iterable[dict[str, Any]] = (),
                 headers: dict[str, str] | None = None, **extensions: Any) -> None:
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extensions = extensions
        super().__init__(detail or self.title)

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug

    def body(self, instance: str) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status,
                                "detail": self.detail or self.title, "instance": instance}
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class InvalidInput(Problem):
    status, slug, title = 400, "invalid-input", "Invalid input"


class InvalidUpload(InvalidInput):
    slug, title = "invalid-upload", "Invalid upload; nothing was stored"


class MalformedBody(InvalidInput):
    slug, title = "malformed-body", "Malformed request body"


class UnsupportedEncoding(Problem):
    status, slug, title = 415, "unsupported-content-encoding", "Unsupported Content-Encoding"


class NotAuthenticated(Problem):
    status, slug, title = 401, "not-authenticated", "Not authenticated"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"


class InternalError(Problem):
    pass


class Busy(Problem):
    status, slug, title = 503, "busy", "Busy: try again later"


class BudgetExhaustedProblem(Problem):
    status, slug, title = 409, "budget-exhausted", "Privacy budget exhausted"


class HttpStatusProblem(Problem):
    """A plain HTTP status (unknown path, wrong method, body too large): type about:blank."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.title = http.HTTPStatus(status).phrase
        super().__init__(headers=headers)

    @property
    def type(self) -> str:
        return "about:blank"


def _validation(exc: RequestValidationError) -> Problem:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        where = loc[0] if loc else "body"
        errors.append({"in": where, "field": ".".join(loc[1:]) or where,
                       "message": str(error.get("msg", "invalid"))})
    return InvalidInput(f"{len(errors)} invalid input value(s)", errors=errors)


def _http_status(exc: StarletteHTTPException) -> Problem:
    if exc.status_code == 400:
        # raised while parsing a body (FastAPI: "There was an error parsing the body";
        # Starlette: a multipart form it cannot read); the parser's text may quote the body
        return MalformedBody("the request body could not be read as its Content-Type says",
                             errors=[{"in": "body", "field": "body", "message":
                                      "not a well-formed body of the declared Content-Type "
                                      "(multipart/form-data: check the boundary and the parts)"}])
    return HttpStatusProblem(exc.status_code, exc.headers)


def _ingest_error(exc: ingest.IngestError) -> Problem:
    errors = [{"in": "file", "file": e.file, "row": e.row, "field": e.field,
               "message": e.message} for e in exc.errors]
    more = " (more not shown)" if exc.truncated else ""
    return InvalidUpload(f"{len(errors)} problem(s) in the upload{more}; nothing was stored",
                         errors=errors, truncated=exc.truncated)


def _unknown_school(exc: ingest.UnknownSchool) -> Problem:
    return InvalidInput("the school is not in the register of schools",
                        errors=[{"in": "form", "field": "school",
                                 "message": "not in the register of schools"}])


def _not_authenticated(exc: auth.AuthError) -> Problem:
    return NotAuthenticated(str(exc), headers={"WWW-Authenticate": 'APIKey header="X-API-Key"'})


EXCEPTION_TABLE: dict[type[BaseException], Callable[[Any], Problem]] = {
    RequestValidationError: _validation,
    StarletteHTTPException: _http_status,
    auth.MissingKey: _not_authenticated,
    auth.InvalidKey: _not_authenticated,
    auth.AccessDenied: lambda exc: Forbidden(exc.reason),
    auth.InvalidKeySpec: lambda exc: InvalidInput(
        str(exc), errors=[{"in": "body", "field": exc.field, "message": exc.message}]),
    auth.UnknownScope: lambda exc: NotFound(
        "the scope names nothing in the register",
        errors=[{"in": "body", "field": exc.field, "message": exc.message}]),
    auth.KeyNotFound: lambda exc: NotFound("no API key with this id"),
    auth.LastAdminKey: lambda exc: Conflict(str(exc)),
    ingest.IngestError: _ingest_error,
    ingest.UnknownSchool: _unknown_school,
    UploadMemoryBusy: lambda exc: Busy(str(exc), headers={"Retry-After": str(exc.retry_after)}),
    CatalogueError: lambda exc: InvalidInput(
        "the query is not in the catalogue", errors=[{"in": "body", "field": exc.field,
                                                      "message": exc.message}]),
    BudgetExhausted: lambda exc: BudgetExhaustedProblem(
        f"the privacy budget ({exc.scope}) cannot pay for this request; nothing was spent",
        scope=exc.scope, requested_rho_micro=exc.requested_micro,
        remaining_rho_micro=exc.remaining_micro),
    NotDerived: lambda exc: Conflict(str(exc)),
    UnknownArea: lambda exc: NotFound("no such area in the register", errors=[{"in": "path", "field": "code",
                                                                  "message": str(exc)}]),
    # a derived table that does not exist yet: nothing has been ingested and derived
    duckdb.CatalogException: lambda exc: Conflict(
        "no derived data for this school year yet: ingest and derive first"),
    duckdb.Error: lambda exc: InternalError(),
}
"""Exception class → problem. Looked up along the MRO, so subclasses inherit an entry."""


def as_problem(exc: BaseException) -> Problem:
    """The problem for any exception; unknown ones become a bare 500."""
    if isinstance(exc, Problem):
        return exc
    for cls in type(exc).__mro__:
        if cls in EXCEPTION_TABLE:
            return EXCEPTION_TABLE[cls](exc)
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
    """Render Problem and every class in EXCEPTION_TABLE as problem+json."""
    app.add_exception_handler(Problem, _handle)
    for cls in EXCEPTION_TABLE:
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
