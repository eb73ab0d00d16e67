"""GET /v1/health: the service is up and its database answers (used by the container's
HEALTHCHECK)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from service import __version__
from service.api import PREFIX, roles
from service.api.deps import DbDep
from service.register import lookup

router = APIRouter(prefix=PREFIX, tags=["service"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/health", roles.PUBLIC),
)


class Health(BaseModel):
    status: Literal["ok"]
    version: str


@router.get("/health", response_model=Health, summary="Health of the service")
def health(db: DbDep) -> Health:
    lookup.ping(db)
    return Health(status="ok", version=__version__)
