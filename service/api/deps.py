"""Dependencies as `Annotated` aliases, so route signatures read like types.

- `SettingsDep`: the app's Settings (no import-time singleton: `create_app` stores them);
- `DbDep`: a DuckDB cursor of the app's one connection, opened per request and closed after;
- `DatabaseDep`: the app's `service.db.Database` (write locks, data-version counters, memos);
- `CurrentKey`: the authenticated caller, already checked against the role matrix.

`enforce_access` is installed on the whole app: it finds the matched route's entry in
service.api.roles and refuses the request before the handler runs (deny by default: a route
without an entry refuses everyone).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import duckdb
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from service.api import auth, roles
from service.db import Database
from service.settings import Settings

api_key_header = APIKeyHeader(name=auth.API_KEY_HEADER, auto_error=False,
                              description="API key; ask the data steward for one")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_database(request: Request) -> Database:
    """The app's `service.db.Database` (its connection, write locks, counters and memos)."""
    return request.app.state.database


async def get_db(request: Request) -> AsyncIterator[duckdb.DuckDBPyConnection]:
    """A cursor of the app's connection for this request (opened on the event loop: no
    worker-thread hop just to open and close it)."""
    cursor = request.app.state.con.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[duckdb.DuckDBPyConnection, Depends(get_db)]
DatabaseDep = Annotated[Database, Depends(get_database)]


async def check_access(state, settings: Settings, method: str, template: str,
                       secret: str | None) -> auth.ApiKey | None:
    """Authenticate (unless the route is public) and check the role matrix; the one check
    behind `enforce_access` and the key-before-body middleware. Returns the key, or None on
    a public route. Raises MissingKey/InvalidKey (401) or AccessDenied (403). A known key is
    answered from memory; an unknown one is looked up in a worker thread."""
    access = roles.access_for(method, template)
    if access is not None and access.public:
        return None
    database = getattr(state, "database", None)
    key = auth.known_key(settings, secret, database) if secret and database else None
    if key is None:
        key = await run_in_threadpool(_authenticate, state.con, settings, secret, database)
    roles.check(access, key)
    return key


async def enforce_access(request: Request, settings: SettingsDep) -> auth.ApiKey | None:
    """Authenticate (unless the route is public) and check the role matrix.

    Returns the key, or None on a public route (which then costs no database cursor).
    Raises MissingKey/InvalidKey (401) or AccessDenied (403). A key this process knows is
    answered from memory on the event loop (service/api/read_cache.py); anything that needs
    DuckDB (an unknown key: one indexed lookup) runs in a worker thread, never on the loop."""
    route = request.scope.get("route")
    return await check_access(request.app.state, settings, request.method, getattr(route, "path", ""),
                        request.headers.get(auth.API_KEY_HEADER))


def _authenticate(con: duckdb.DuckDBPyConnection, settings: Settings, secret: str | None,
                  database: Database | None) -> auth.ApiKey:
    cursor = con.cursor()
    try:
        return auth.authenticate(cursor, settings, secret, database=database)
    finally:
        cursor.close()


async def current_key(key: Annotated[auth.ApiKey | None, Depends(enforce_access)],
                _header: Annotated[str | None, Security(api_key_header)] = None) -> auth.ApiKey:
    """The caller's key on a non-public route (documents the header in OpenAPI)."""
    if key is None:
        raise auth.MissingKey()
    return key


CurrentKey = Annotated[auth.ApiKey, Depends(current_key)]
