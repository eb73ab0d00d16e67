"""Interactive API docs at ``/v1/docs``: Swagger UI over ``/v1/openapi.json``, its script
and stylesheet vendored in the package (service/api/docs_assets), so the page makes no
request to any other origin and the Content-Security-Policy stays ``'self'`` only (the
start-up code is a file of its own, ``/v1/docs/init.js``, not an inline script; Swagger UI's
online validator is switched off). Public, like the document it shows."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Response

from service.api import PREFIX, roles
from service.api.problems import NotFound

router = APIRouter(tags=["docs"])
#: Who may call each route of this module (service/api/roles.py: deny by default).
ACCESS = roles.declare(
    roles.route("GET", "/v1/docs", roles.PUBLIC),
    roles.route("GET", "/v1/docs/{name}", roles.PUBLIC, example={"path": {"name": "init.js"}}),
)

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Aanwezig API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{PREFIX}/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{PREFIX}/docs/swagger-ui-bundle.js"></script>
<script src="{PREFIX}/docs/init.js"></script>
</body>
</html>
"""

INIT = f"""window.ui = SwaggerUIBundle({{
  url: "{PREFIX}/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  persistAuthorization: false
}});
"""

TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
         "txt": "text/plain; charset=utf-8"}
CACHE = "public, max-age=3600"


@lru_cache(maxsize=1)
def assets() -> dict[str, tuple[bytes, str]]:
    """The servable files by exact name (no path reaches outside the folder)."""
    files = {"init.js": (INIT.encode(), TYPES["js"])}
    for item in resources.files("service.api.docs_assets").iterdir():
        ext = item.name.rsplit(".", 1)[-1]
        if item.is_file() and ext in TYPES:
            files[item.name] = (item.read_bytes(), TYPES[ext])
    return files


@router.get(PREFIX + "/docs", include_in_schema=False)
def docs_page() -> Response:
    return Response(PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get(PREFIX + "/docs/{name}", include_in_schema=False)
def docs_asset(name: str) -> Response:
    found = assets().get(name)
    if found is None:
        raise NotFound("no such file", errors=[{"in": "path", "field": "name",
                                                "message": f"no docs file {name!r}"}])
    return Response(found[0], media_type=found[1], headers={"Cache-Control": CACHE})
