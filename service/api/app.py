"""The FastAPI application factory and `serve`.

`create_app(settings)` builds a fresh app: one DuckDB connection opened in the lifespan
(each request gets its own cursor), routes under ``/v1`` (Dutch API Design Rules: major
version in the path, no trailing slashes — redirects are off, so ``/v1/health/`` is a 404
problem — and no file extensions), access checked by the role matrix in service/api/roles.py
before any handler runs, errors as problem+json, security headers and ``API-Version`` on every
response, OpenAPI at ``/v1/openapi.json``.

Logging: the access log has method, path and status; request bodies are never logged.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from service import __version__, db
from service.api import PREFIX, roles, routes
from service.api.middleware.body_limit import BodySizeLimit
from service.api.middleware.cors import PublicCors
from service.api.deps import enforce_access
from service.api.middleware.public_cache import PublicResponseCache
from service.api.middleware.headers import SecurityHeaders
from service.api.middleware.http_contract import HttpContract
from service.api.middleware.route_table import RouteTable
from service.api.middleware.query_shortcut import RepeatedQueryShortcut
from service.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, install_problem_handlers
from service.engines import EngineFactory
from service.ingest.memory_budget import UploadMemory
from service.jobs.writer import Writer
from service.settings import Settings

OPENAPI_URL = PREFIX + "/openapi.json"
DESCRIPTION = """Differentially private school-attendance statistics for the Netherlands.

Send the API key in the `X-API-Key` header. Errors are `application/problem+json`
(RFC 9457). Lists take `page` and `pageSize` and return `Link` headers."""


def create_app(settings: Settings, *, engine: EngineFactory | None = None) -> FastAPI:
    """A new application for `settings` (tests pass their own: a temporary database file).
    `engine`: makes the engine the writer thread derives and publishes standard releases on,
    over its cursor (default: the engine `settings` name, `engines.from_settings`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # the database file with everything this process holds of it: connection, write
        # locks, data-version counters, in-memory copies (requests and the writer share it)
        app.state.database = db.Database.open(settings.db)
        app.state.con = app.state.database.con
        # the one writer thread: derives after uploads, scheduled and standard releases;
        # jobs a crash left running go back to its queue first
        app.state.writer = Writer(app.state.database, settings, engine=engine)
        app.state.writer.start()
        # Everything built so far lives as long as the process: keep the collector from
        # walking it again and again (a full collection over the imported libraries is what
        # a request otherwise waits for at the tail of the latency distribution).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            app.state.writer.stop()
            app.state.database.close()

    app = FastAPI(
        title="Aanwezig",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        lifespan=lifespan,
        dependencies=[Depends(enforce_access)],
    )
    app.state.settings = settings
    app.state.upload_memory = UploadMemory(settings.upload_memory, settings.upload_wait_seconds)
    for module in routes.MODULES:
        app.include_router(module.router)
    install_problem_handlers(app)
    app.add_middleware(RepeatedQueryShortcut, state=app.state)
    app.add_middleware(BodySizeLimit, limits={PREFIX + "/uploads": settings.max_upload_bytes})
    table = RouteTable(lambda: app.openapi())
    app.add_middleware(HttpContract, table=table, state=app.state)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(PublicResponseCache, max_bytes=settings.response_cache_bytes,
                       state=app.state)
    # outermost: a cached public answer is the same for every origin; CORS is added per request
    app.add_middleware(PublicCors, table=table, allow_list=settings.cors_allow_list,
                       public_paths=roles.PUBLIC_DOCUMENT_PATHS)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus: who may call each operation (from the role matrix), the
    problem+json error responses, and no 422 (invalid input is 400)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            access = roles.access_for(method, path)
            operation["description"] = (operation.get("description", "") +
                                        f"\n\nAccess: {roles.describe(access)}.").strip()
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            errors = {"400": "invalid input", "404": "not found", "500": "internal error"}
            if access is None or not access.public:
                errors |= {"401": "no valid API key", "403": "role or scope not allowed"}
            else:
                operation.pop("security", None)
            if method in ("post", "put", "patch"):
                errors["413"] = "request body too large"
                errors["409"] = "conflict (e.g. the privacy budget cannot pay for it)"
            if method == "delete":
                errors["409"] = "conflict (the last active admin key revoking itself)"
            for code, text in errors.items():
                responses.setdefault(code, {"description": text, **problem})
    schema["components"].get("schemas", {}).pop("HTTPValidationError", None)
    schema["components"].get("schemas", {}).pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def uvicorn_config(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> uvicorn.Config:
    """The uvicorn configuration `serve` uses (tests run the same one on a free port)."""
    return uvicorn.Config(create_app(settings), host=host, port=port, ws="none",
                          server_header=False, proxy_headers=True, log_level="info")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the service with uvicorn until interrupted."""
    uvicorn.Server(uvicorn_config(settings, host, port)).run()
