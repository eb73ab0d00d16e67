"""API keys over HTTP (admin only): create (the secret is shown once), list (no secrets),
revoke; and GET /v1/me, which tells any caller what its own key is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from service.api import auth
from service.api import PREFIX, roles
from service.api.auth import Role
from service.api.params import (REGION_SCOPE_PATTERN, RESEARCHER_ID_PATTERN, SCHOOL_ID_PATTERN,
                                KeyIdPath)
from service.api.deps import CurrentKey, DbDep, SettingsDep
from service.api.pagination import PageDep, PageOf, paginated

router = APIRouter(prefix=PREFIX, tags=["keys"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/me", roles.EVERY_ROLE),
    roles.route("GET", "/v1/keys", roles.allow(Role.admin)),
    roles.route("POST", "/v1/keys", roles.allow(Role.admin),
                example={"json": {"role": "policy", "label": "matrix"}}),
    roles.route("DELETE", "/v1/keys/{key_id}", roles.allow(Role.admin),
                example={"path": {"key_id": "k_0000000000000000"}}),
)


class _KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field("", max_length=200, description="who holds the key")
    expires_in_days: int | None = Field(
        None, ge=1, le=3650,
        description="days until the key stops working (from now; default: no expiry)")


class SchoolKeyCreate(_KeyCreate):
    role: Literal["school"]
    scope: str = Field(pattern=SCHOOL_ID_PATTERN, description="school id, e.g. 12AB00")


class RegionKeyCreate(_KeyCreate):
    role: Literal["region"]
    scope: str = Field(pattern=REGION_SCOPE_PATTERN, description="level:code, e.g. municipality:GM0363")


class ResearcherKeyCreate(_KeyCreate):
    role: Literal["researcher"]
    scope: str = Field(pattern=RESEARCHER_ID_PATTERN, description="researcher id, e.g. r-1")


class StaffKeyCreate(_KeyCreate):
    role: Literal["policy", "admin"]
    scope: None = Field(None, description="policy and admin keys take no scope")


KeyCreate = Annotated[SchoolKeyCreate | RegionKeyCreate | ResearcherKeyCreate | StaffKeyCreate,
                      Field(discriminator="role")]
"""A key to create; the scope's form depends on the role. A scope of the right form that names
no school or area of the register is 404."""


class KeyPublic(BaseModel):
    key_id: str
    role: auth.Role
    scope: str | None
    label: str
    created_at: datetime | None
    revoked_at: datetime | None = None
    expires_at: datetime | None = Field(None, description="when the key stops working (UTC)")

    @classmethod
    def of(cls, key: auth.ApiKey) -> "KeyPublic":
        return cls(key_id=key.key_id, role=key.role, scope=key.scope, label=key.label,
                   created_at=key.created_at, revoked_at=key.revoked_at,
                   expires_at=key.expires_at)


class KeyCreated(KeyPublic):
    secret: str = Field(description="the API key; shown only in this response")


@router.post("/keys", response_model=KeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Create an API key (admin)")
def create(body: KeyCreate, db: DbDep, settings: SettingsDep, caller: CurrentKey,
           request: Request) -> KeyCreated:
    expires_at = (datetime.now(timezone.utc) + timedelta(days=body.expires_in_days)
                  if body.expires_in_days is not None else None)
    with request.app.state.database.locks.keys:
        key_id, secret = auth.create_key(db, settings, body.role, body.scope, body.label,
                                         expires_at=expires_at,
                                         database=request.app.state.database)
    key = next(k for k in auth.list_keys(db) if k.key_id == key_id)
    return KeyCreated(**KeyPublic.of(key).model_dump(), secret=secret)


@router.get("/keys", response_model=PageOf[KeyPublic], summary="List API keys (admin)")
def list_all(request: Request, response: Response, db: DbDep, page: PageDep,
             caller: CurrentKey):
    keys = auth.list_keys(db)
    items = [KeyPublic.of(k) for k in keys[page.offset: page.offset + page.limit]]
    return paginated(response, request, page, items, len(keys))


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Revoke an API key (admin)")
def revoke(key_id: KeyIdPath, db: DbDep, caller: CurrentKey,
           request: Request) -> Response:
    with request.app.state.database.locks.keys:
        auth.revoke_key(db, key_id, caller=caller, database=request.app.state.database)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=KeyPublic, summary="The caller's own key")
def me(caller: CurrentKey) -> KeyPublic:
    return KeyPublic.of(caller)
