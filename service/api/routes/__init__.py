"""HTTP routes, one module per resource. Each module holds an `APIRouter` named `router` with its
models, and declares who may call each of its routes right there (`ACCESS = roles.declare(...)`,
deny by default). Routes stay thin: validate, call the domain, answer.

Adding a route module is adding the file: `MODULES` is every module of this package, and the
app serves each one's `router`. Route modules do not import each other (an import-linter
contract); what two of them share lives in `service.api.params` or a shared API module."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

#: Every route module of this package (imported: their routes and access are declared).
MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{__name__}.{info.name}")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name))
