"""HTTP routes, one module per resource. Each module holds an `APIRouter` named `router`
with its models; access is declared in service/roles.py, not here."""

PREFIX = "/v1"
"""Major version in the path (Dutch API Design Rules). Routers carry it themselves, so a
route's own path is its full path (the role matrix is keyed by it)."""
