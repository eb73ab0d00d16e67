"""HTTP routes, one module per resource. Each module holds an `APIRouter` named `router` with its
models; access is declared in `service/api/roles.py`, not here. Routes stay thin: validate, call
the domain, answer."""
